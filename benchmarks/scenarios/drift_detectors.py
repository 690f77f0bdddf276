"""Residual drift detectors vs river's, and the data-drift test on 2 × 1,000,000 × 10.

Detection suite: the seeded synthetic streams of :mod:`enms.drift.synthetic` (abrupt 1 σ
shift, ramp to 1 σ over 200 samples, variance doubling, no-change controls; iid and AR(1)
with φ = 0.5; 1,000-sample reference + 2,000 monitored samples, change at 1,000; 200
streams per case, 20 with ``quick``). Ours: :class:`~enms.drift.whitening.ResidualWhitener`
then :class:`~enms.drift.cusum.MeanCusum` + :class:`~enms.drift.variance_cusum.VarianceCusum`
together. The peer, measured in the same run on the same streams: river's ``PageHinkley``
and ``ADWIN`` at their defaults, together, fed the residuals standardised on the same
reference (what a river user would do) — and, as a second reference, the same river pair
fed our whitened stream. river runs in its own virtual environment,
``benchmarks/.venvs/river`` (created here on first use, never a project dependency), as a
subprocess that reads the streams from ``.npy`` files and returns alarm indices as JSON.

Throughput: scalar ``update`` calls per second of each detector on the same 200,000
values (river timed inside its subprocess). Data drift: wall time of
:func:`~enms.drift.dataset.dataset_drift` on two 1,000,000 × 10 frames, next to
``scipy.stats.wasserstein_distance`` (sort-based exact W₁) on the same columns.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from benchmarks.harness import Row
from enms.drift.cusum import MeanCusum
from enms.drift.dataset import dataset_drift
from enms.drift.synthetic import (
    BatchAlarms,
    SuiteResult,
    evaluate,
    optimal_cusum,
    residual_streams,
    whiten_batch,
)
from enms.drift.variance_cusum import VarianceCusum

NAME = "drift_detectors"
ROOT = Path(__file__).resolve().parents[1]
VENV = ROOT / ".venvs" / "river"
RIVER = "river==0.26.1"
CASES = [(c, phi) for phi in (0.0, 0.5) for c in ("none", "shift", "ramp", "variance")]
N_REF, N_MON, CUT = 1000, 2000, 1000

RIVER_SCRIPT = r"""
import json, sys, time
import numpy as np
from river.drift import ADWIN, PageHinkley

def alarms(z):
    out = {"both": [], "ph": []}
    for row in z:
        ph, ad, both, ph_only = PageHinkley(), ADWIN(), [], []
        for t, x in enumerate(row.tolist()):
            ph.update(x)
            ad.update(x)
            if ph.drift_detected or ad.drift_detected:
                both.append(t)
            if ph.drift_detected:
                ph_only.append(t)
        out["both"].append(both)
        out["ph"].append(ph_only)
    return out

result = {}
for path in sys.argv[2:]:
    result[path] = alarms(np.load(path))
speed = np.load(sys.argv[1]).tolist()
for name, cls in (("PageHinkley", PageHinkley), ("ADWIN", ADWIN)):
    d = cls()
    t0 = time.perf_counter()
    for x in speed:
        d.update(x)
    result["speed_" + name] = len(speed) / (time.perf_counter() - t0)
print(json.dumps(result))
"""


def _river_python() -> Path:
    python = VENV / "bin" / "python"
    if not python.exists():
        VENV.parent.mkdir(parents=True, exist_ok=True)
        (VENV.parent / ".gitignore").write_text("*\n")
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", RIVER], check=True)
    return python


def _suite_from_alarms(
    found: dict[str, list[list[int]]], change: str, phi: float, which: str = "both"
) -> SuiteResult:
    """Same statistics as :func:`enms.drift.synthetic.evaluate`, from alarm lists."""
    hits = found[which]
    cut = N_MON if change == "none" else CUT
    stream = np.array([s for s, h in enumerate(hits) for _ in h], dtype=np.int64)
    at = np.array([t for h in hits for t in h], dtype=np.int64)
    alarms = BatchAlarms(stream, at, at.copy(), n_streams=len(hits), n_samples=N_MON)
    first, _ = alarms.first_after(cut)
    detected = first >= 0
    return SuiteResult(
        change=change,
        phi=phi,
        n_streams=len(hits),
        n_samples=N_MON,
        detection_rate=float("nan") if change == "none" else float(detected.mean()),
        median_delay=float(np.median(first[detected] - cut)) if detected.any() else float("nan"),
        median_change_point_error=float("nan"),
        false_alarms_per_1000=1000.0 * alarms.count_before(cut) / (len(hits) * cut),
    )


def _streams(change: str, phi: float, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(standardised-only, whitened) monitored residuals for one case."""
    ref, mon = residual_streams(
        change=change,
        phi=phi,
        n_streams=n,
        n_reference=N_REF,
        n_monitor=N_MON,
        change_at=N_MON if change == "none" else CUT,
        seed=seed,
    )
    loc = np.median(ref, axis=1, keepdims=True)
    scale = ref.std(axis=1, keepdims=True)
    return (mon - loc) / scale, whiten_batch(ref, mon)


def detection_rows(quick: bool) -> list[Row]:
    """Detection rate, median delay and false alarms: ours vs river on the same streams."""
    n = 20 if quick else 200
    python = _river_python()
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as tmp:
        paths: dict[tuple[str, float, str], str] = {}
        ours: dict[tuple[str, float], SuiteResult] = {}
        for i, (change, phi) in enumerate(CASES):
            seed = 100 + i
            standardised, whitened = _streams(change, phi, n, seed)
            for label, z in (("std", standardised), ("white", whitened)):
                path = f"{tmp}/{change}_{phi}_{label}.npy"
                np.save(path, z)
                paths[(change, phi, label)] = path
            ours[(change, phi)] = evaluate(
                [MeanCusum(), VarianceCusum()], change=change, phi=phi, n_streams=n, seed=seed
            )
        speed = np.random.default_rng(0).standard_normal(200_000)
        np.save(f"{tmp}/speed.npy", speed)
        out = subprocess.run(
            [str(python), "-c", RIVER_SCRIPT, f"{tmp}/speed.npy", *paths.values()],
            check=True,
            capture_output=True,
            text=True,
        )
        river = json.loads(out.stdout)
    for change, phi in CASES:
        mine = ours[(change, phi)]
        peer = _suite_from_alarms(river[paths[(change, phi, "std")]], change, phi)
        peer_w = _suite_from_alarms(river[paths[(change, phi, "white")]], change, phi)
        ph_alone = _suite_from_alarms(river[paths[(change, phi, "std")]], change, phi, "ph")
        case = f"{change} φ={phi}"
        note = f"{n} streams; river on whitened input: "
        if change == "none":
            rows.append(
                Row(
                    NAME,
                    f"{case}: false alarms per 1,000",
                    mine.false_alarms_per_1000,
                    "alarms/1000",
                    "river_PH+ADWIN",
                    peer.false_alarms_per_1000,
                    target=0.2,
                    target_on="value",
                    higher_is_better=False,
                    note=note + f"{peer_w.false_alarms_per_1000:.3g}; river PageHinkley alone: "
                    f"{ph_alone.false_alarms_per_1000:.3g}",
                )
            )
            continue
        rows.append(
            Row(
                NAME,
                f"{case}: detection rate",
                mine.detection_rate,
                "share",
                "river_PH+ADWIN",
                peer.detection_rate,
                target=0.95,
                target_on="value",
                note=note + f"{peer_w.detection_rate:.3g}; pre-change false alarms/1000 "
                f"ours {mine.false_alarms_per_1000:.3g}, river {peer.false_alarms_per_1000:.3g}",
            )
        )
        rows.append(
            Row(
                NAME,
                f"{case}: median delay",
                mine.median_delay,
                "samples",
                "river_PH+ADWIN",
                peer.median_delay,
                higher_is_better=False,
                # At φ = 0.5 the bound is relative to the optimal CUSUM (the row below).
                target=30.0 if (change, phi) == ("shift", 0.0) else None,
                target_on="value",
                note=note + f"{peer_w.median_delay:.3g}; our median change-point error "
                f"{mine.median_change_point_error:.3g} samples",
            )
        )
    # The delay a false-alarm budget buys: ours with thresholds loose enough to false-alarm
    # about as often as river does on the AR(1) controls.
    loose = [MeanCusum(h=10.0), VarianceCusum(h=14.0)]
    control = evaluate(
        loose, change="none", phi=0.5, n_streams=n, seed=100 + CASES.index(("none", 0.5))
    )
    shift = evaluate(
        loose, change="shift", phi=0.5, n_streams=n, seed=100 + CASES.index(("shift", 0.5))
    )
    river_shift = _suite_from_alarms(river[paths[("shift", 0.5, "std")]], "shift", 0.5)
    river_control = _suite_from_alarms(river[paths[("none", 0.5, "std")]], "none", 0.5)
    rows.append(
        Row(
            NAME,
            "shift φ=0.5: median delay, ours at h=10/14",
            shift.median_delay,
            "samples",
            "river_PH+ADWIN",
            river_shift.median_delay,
            higher_is_better=False,
            note=f"false alarms/1000 on AR(1) controls: ours {control.false_alarms_per_1000:.3g}, "
            f"river {river_control.false_alarms_per_1000:.3g}",
        )
    )
    # What any detector can reach there: the optimal CUSUM, true parameters, whole budget.
    oracle = optimal_cusum(phi=0.5, n_controls=4 * n, n_streams=n)
    rows.append(
        Row(
            NAME,
            "shift φ=0.5: median delay, ours vs the optimal CUSUM at the 0.2 budget",
            ours[("shift", 0.5)].median_delay,
            "samples",
            "optimal_CUSUM",
            oracle.median_delay,
            higher_is_better=False,
            target=1.6,
            target_on="ratio",
            note=f"the oracle: true φ and scale, k = half the whitened shift, mean test only, "
            f"h = {oracle.h:g}, {oracle.false_alarms_per_1000:.3g} false alarms/1000 on its "
            f"controls; it needs {oracle.median_delay:g} samples, so the issue's 30 is out of "
            "reach of any detector within the budget (tests/drift/test_detector_quality.py)",
        )
    )
    for ours_cls, peer_name in ((MeanCusum, "PageHinkley"), (VarianceCusum, "ADWIN")):
        detector = ours_cls()
        values = speed.tolist()
        t0 = time.perf_counter()
        for x in values:
            detector.update(x)
        rate = len(values) / (time.perf_counter() - t0)
        rows.append(
            Row(
                NAME,
                f"{ours_cls.__name__}.update throughput",
                rate,
                "updates/s",
                f"river_{peer_name}",
                float(river[f"speed_{peer_name}"]),
                note="scalar update() on the same 200,000 N(0, 1) values",
            )
        )
    return rows


def data_drift_rows(quick: bool) -> list[Row]:
    """dataset_drift on two windows of n × 10 vs exact sort-based W₁ per column."""
    n = 100_000 if quick else 1_000_000
    rng = np.random.default_rng(7)
    cols = [f"driver_{i}" for i in range(10)]
    ref = pd.DataFrame(rng.normal(size=(n, 10)), columns=cols)
    cur = pd.DataFrame(rng.normal(size=(n, 10)) + np.linspace(0, 0.3, 10), columns=cols)
    t0 = time.perf_counter()
    result = dataset_drift(ref, cur)
    ours = time.perf_counter() - t0
    t0 = time.perf_counter()
    exact = [stats.wasserstein_distance(ref[c], cur[c]) / ref[c].std(ddof=0) for c in cols]
    reference = time.perf_counter() - t0
    worst = max(
        abs(c.decision.statistic - e) / e for c, e in zip(result.columns, exact, strict=True) if e
    )
    return [
        Row(
            NAME,
            f"data drift 2 × {n:,} × 10 wall",
            ours,
            "s",
            "scipy_wasserstein_distance",
            reference,
            higher_is_better=False,
            note=f"{result.n_drifted}/10 columns drifted (shifts 0–0.3 σ); "
            f"max relative W₁ error vs scipy {worst:.1e}",
        )
    ]


def run(*, quick: bool) -> list[Row]:
    """Detector suite vs river, then the data-drift timing."""
    return detection_rows(quick) + data_drift_rows(quick)
