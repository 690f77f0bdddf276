"""Data drift on two windows of 1,000,000 rows × 10 drivers: enms vs Evidently's DataDriftPreset.

Data (seeded): ten driver columns of different shapes (normal, gamma, beta, lognormal, a
mixture; see :data:`COLUMNS`): three unchanged, four changed only slightly (mean shifts of
0.04, 0.08 and 0.13 reference standard deviations — the last just over the threshold — and
2 % of the rows moved by 3 σ, W₁/sd ≈ 0.06), three clearly (a 0.6 σ mean shift, a 1.5×
spread, a lognormal scaled by e^0.3). So four columns drift and the dataset does not (4/10 <
0.5). ``quick``: 100,000 rows.

Both sides apply the same per-column test at the same setting, the large-sample default of
both: the normalised Wasserstein distance ``W₁(ref, cur) / sd(ref)`` against 0.1, and the
dataset drifts when at least half the columns drift. Ours:
:func:`enms.drift.dataset.dataset_drift` (which also computes PSI on 10 reference-quantile
bins alongside — reported, not deciding, as ``large_method="wasserstein"``; its cost is in
our time). Evidently 0.7 (own venv, ``benchmarks/.venvs/evidently``, as a subprocess:
:mod:`benchmarks.peers.evidently_drift`): ``DataDriftPreset(method="wasserstein",
threshold=0.1, drift_share=0.5)``. Evidently's PSI uses Sturges bins on the pooled data, a
different statistic from ours, so PSI values are printed side by side, not scored.

Each side runs in a fresh process on the same ``.npy`` files; the timed part is the drift
computation only (Evidently: ``Dataset.from_pandas`` + ``Report.run``; ours:
``dataset_drift``), and the process wall (start, imports, load, compute) is reported for
context. Targets (issue 9): ≥ 20× faster, and the same verdict on every column.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.harness import Row
from benchmarks.peers.install import peer_python

NAME = "drift_evidently"
ROOT = Path(__file__).resolve().parents[1]
RUNNER = ROOT / "peers" / "evidently_drift.py"
PEER_REQUIREMENTS = ("evidently==0.7.23", "pandas<3")  # evidently 0.7 breaks on pandas 3
THRESHOLD = 0.1
DRIFT_SHARE = 0.5

Draw = Callable[[np.random.Generator, int], np.ndarray]
COLUMNS: dict[str, tuple[Draw, Draw, str]] = {
    # name: (reference draw, current draw, what changed)
    "outdoor_temp_c": (
        lambda r, n: r.normal(10, 6, n),
        lambda r, n: r.normal(10, 6, n),
        "unchanged",
    ),
    "production_rate": (
        lambda r, n: r.gamma(2.0, 50.0, n),
        lambda r, n: r.gamma(2.0, 50.0, n),
        "unchanged",
    ),
    "humidity_pct": (
        lambda r, n: 100 * r.beta(5, 3, n),
        lambda r, n: 100 * r.beta(5, 3, n),
        "unchanged",
    ),
    "supply_pressure_bar": (
        lambda r, n: r.normal(6.5, 0.2, n),
        lambda r, n: r.normal(6.5 + 0.04 * 0.2, 0.2, n),
        "+0.04 σ",
    ),
    "line_speed_m_min": (
        lambda r, n: r.normal(120, 15, n),
        lambda r, n: r.normal(120 + 0.08 * 15, 15, n),
        "+0.08 σ",
    ),
    "chilled_water_c": (
        lambda r, n: r.normal(7, 1.5, n),
        lambda r, n: r.normal(7 + 0.13 * 1.5, 1.5, n),
        "+0.13 σ",
    ),
    "compressor_load_pct": (
        lambda r, n: r.normal(60, 10, n),
        lambda r, n: r.normal(66, 10, n),
        "+0.6 σ",
    ),
    "flow_m3_h": (
        lambda r, n: r.normal(40, 4, n),
        lambda r, n: r.normal(40, 6, n),
        "spread ×1.5",
    ),
    "occupancy": (
        lambda r, n: r.lognormal(0.0, 0.5, n),
        lambda r, n: r.lognormal(0.3, 0.5, n),
        "scaled ×e^0.3",
    ),
    "steam_kg_h": (
        lambda r, n: r.normal(500, 50, n),
        lambda r, n: np.where(r.random(n) < 0.02, r.normal(650, 50, n), r.normal(500, 50, n)),
        "2 % of rows +3 σ",
    ),
}


def write_windows(work: Path, n: int, seed: int = 9) -> list[str]:
    """``reference.npy``, ``current.npy`` (n × 10) and ``columns.json`` in ``work``."""
    rng = np.random.default_rng(seed)
    names = list(COLUMNS)
    ref = np.column_stack([COLUMNS[c][0](rng, n) for c in names])
    cur = np.column_stack([COLUMNS[c][1](rng, n) for c in names])
    np.save(work / "reference.npy", ref)
    np.save(work / "current.npy", cur)
    (work / "columns.json").write_text(json.dumps(names))
    return names


def ours(work: Path) -> dict[str, object]:
    """Our side (run in a fresh process by :func:`run`): load, ``dataset_drift``, JSON."""
    import pandas as pd

    from enms.drift.dataset import dataset_drift

    names = json.loads((work / "columns.json").read_text())
    reference = pd.DataFrame(np.load(work / "reference.npy"), columns=names)
    current = pd.DataFrame(np.load(work / "current.npy"), columns=names)
    t0 = time.perf_counter()
    result = dataset_drift(
        reference,
        current,
        columns=names,
        drift_share=DRIFT_SHARE,
        wasserstein_threshold=THRESHOLD,
        large_method="wasserstein",
    )
    seconds = time.perf_counter() - t0
    return {
        "seconds": seconds,
        "values": {c.column: c.decision.statistic for c in result.columns},
        "detected": {c.column: c.drift_detected for c in result.columns},
        "methods": sorted({c.decision.method for c in result.columns}),
        "psi": {c.column: c.tests[1].statistic for c in result.columns},
        "dataset": result.drift_detected,
        "n_drifted": result.n_drifted,
    }


def _timed(command: list[str], cwd: Path | None = None) -> tuple[float, str]:
    t0 = time.perf_counter()
    out = subprocess.run(command, check=True, capture_output=True, text=True, cwd=cwd)
    return time.perf_counter() - t0, out.stdout


def _verdict_table(names: list[str], mine: dict[str, Any], peer: dict[str, Any]) -> str:
    """Per-column statistics and verdicts of both sides, PSI included, as text."""
    lines = [
        f"{'column':<22} {'change':<17} {'ours W1/sd':>10} {'drift':>5} {'Evid. W1/sd':>11} "
        f"{'drift':>5} {'ours PSI':>9} {'Evid. PSI':>9}"
    ]
    for c in names:
        lines.append(
            f"{c:<22} {COLUMNS[c][2]:<17} {mine['values'][c]:>10.4f} "
            f"{mine['detected'][c]!s:>5} {peer['values'][c]:>11.4f} "
            f"{peer['detected'][c]!s:>5} {mine['psi'][c]:>9.4f} {peer['psi'][c]:>9.4f}"
        )
    return "\n".join(lines)


def run(*, quick: bool) -> list[Row]:
    """Both sides on the same windows; timing rows, verdict agreement and per-column rows."""
    n = 100_000 if quick else 1_000_000
    python = peer_python("evidently", PEER_REQUIREMENTS)
    with tempfile.TemporaryDirectory(prefix="enms-drift-evidently-") as tmp:
        work = Path(tmp)
        names = write_windows(work, n)
        ours_wall, stdout = _timed([sys.executable, "-m", __name__, str(work)], cwd=ROOT.parent)
        mine = json.loads(stdout)
        peer_wall, _ = _timed(
            [str(python), str(RUNNER), str(work), str(THRESHOLD), str(DRIFT_SHARE)]
        )
        peer = json.loads((work / "result.json").read_text())
    size = f"2 × {n:,} × 10"
    evidently = f"evidently_{peer['version']}"
    peer_dataset = sum(peer["detected"].values()) / len(names) >= DRIFT_SHARE
    agree = [c for c in names if mine["detected"][c] == peer["detected"][c]]

    def verdicts(side: dict[str, bool]) -> str:
        return ",".join(c for c in names if side[c]) or "none"

    rows = [
        Row(NAME, f"{size}: drift computation", mine["seconds"], "s", evidently,
            peer["preset_seconds"], target=1 / 20, higher_is_better=False,
            note=f"{peer['preset_seconds'] / mine['seconds']:.1f}× faster than DataDriftPreset "
            f"(wasserstein, threshold {THRESHOLD}); ours also computes PSI"),
        Row(NAME, f"{size}: normed W₁ alone", mine["seconds"], "s",
            f"{evidently}_stattest", peer["bare_seconds"], higher_is_better=False,
            note="Evidently's wasserstein stattest function called directly on each column "
            f"({peer['bare_seconds'] / mine['seconds']:.1f}×)"),
        Row(NAME, f"{size}: process wall", ours_wall, "s", evidently, peer_wall,
            higher_is_better=False,
            note=f"fresh process: imports, load .npy, compute (Evidently import "
            f"{peer['import_seconds']:.1f} s, load {peer['load_seconds']:.1f} s)"),
        Row(NAME, f"{size}: columns with the same verdict", float(len(agree)), "columns",
            target=float(len(names)), target_on="value",
            note=f"drifted — ours: {verdicts(mine['detected'])}; Evidently: "
            f"{verdicts(peer['detected'])} (its count {peer['drifted_count']}); dataset drift "
            f"ours {mine['dataset']}, Evidently {peer_dataset}"),
    ]  # fmt: skip
    worst = max(
        abs(mine["values"][c] - peer["values"][c]) / peer["values"][c]
        for c in names
        if peer["values"][c] > 0
    )
    rows.append(
        Row(NAME, f"{size}: max relative W₁/sd difference", worst, "ratio",
            note="ours (binned CDFs, exact tails) vs Evidently (scipy's exact W₁) per column")
    )  # fmt: skip
    print(_verdict_table(names, mine, peer), file=sys.stderr)
    yes = {True: "yes", False: "no", None: "n/a"}
    for c in names:
        rows.append(
            Row(
                NAME,
                f"{c} ({COLUMNS[c][2]}) W₁/sd; drift ours {yes[mine['detected'][c]]}, "
                f"Evidently {yes[peer['detected'][c]]}",
                float(mine["values"][c]),
                "W₁/sd",
                evidently,
                float(peer["values"][c]),
                note=f"drift ours {mine['detected'][c]}, Evidently {peer['detected'][c]}; "
                f"PSI ours {mine['psi'][c]:.4f} (10 reference-quantile bins), "
                f"Evidently {peer['psi'][c]:.4f} (Sturges bins, pooled)",
            )
        )
    return rows


if __name__ == "__main__":
    print(json.dumps(ours(Path(sys.argv[1]))))
