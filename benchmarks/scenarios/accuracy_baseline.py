"""Baseline accuracy on real smart-meter data, next to OpenEEmeter 4.1.1 in the same run.

Data: the UK household samples that ship inside the ``eemeter`` 4.1.1 wheel — Low Carbon
London electricity samples 1 and 2, and the electricity and gas sample 0 (half-hourly or
hourly readings with hourly outdoor temperature). OpenEEmeter runs in its own virtual
environment, ``benchmarks/.venvs/eemeter`` (created here on first use, gitignored), as a
subprocess (:mod:`benchmarks.peers.eemeter_fit`): it builds the hourly and the daily frame,
splits them (first 365 days baseline, the rest held out), fits its default ``HourlyModel``
/ ``DailyModel`` and writes frame and predictions to CSV. enms fits ``BaselineModel`` with
default settings on the *same* rows and both are scored by :mod:`enms.ml.metrics` on the
held-out rows where both predict. Acceptance (issue 7): enms held-out CV(RMSE) ≤
OpenEEmeter's on LCL sample 1, hourly and daily; the other cases are reported.

Peer pins: eemeter 4.1.1 imports ``pytz`` without declaring it, breaks on pandas 3 and on
scikit-learn ≥ 1.6 (``BisectingKMeans._validate_data``), so its venv pins
``pandas<3`` and ``scikit-learn<1.6``.
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

from benchmarks.harness import Row
from enms.ml import metrics
from enms.ml.baseline import BaselineModel

NAME = "accuracy_baseline"
ROOT = Path(__file__).resolve().parents[1]
VENV = ROOT / ".venvs" / "eemeter"
RUNNER = ROOT / "peers" / "eemeter_fit.py"
PEER_REQUIREMENTS = ("eemeter==4.1.1", "pytz", "pandas<3", "scikit-learn<1.6")
ACCEPTANCE_SAMPLE = "uk_elec_1"  # Low Carbon London sample 1
TIMEZONE = "Europe/London"


def _peer_python() -> Path:
    python = VENV / "bin" / "python"
    if not python.exists():
        print(f"creating {VENV} for OpenEEmeter…", file=sys.stderr, flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        pip = [str(python), "-m", "pip", "install", "-q", *PEER_REQUIREMENTS]
        subprocess.run(pip, check=True)
    return python


def _enms(frame: pd.DataFrame) -> tuple[pd.Series, float, BaselineModel]:
    data = pd.DataFrame(
        {"energy_kwh": frame["observed"], "outdoor_temp_c": frame["temperature_c"]},
        index=frame.index,
    )
    train, test = data[frame["split"] == "train"], data[frame["split"] == "test"]
    t0 = time.perf_counter()
    model = BaselineModel(timezone=TIMEZONE).fit(train)
    predicted = model.predict(test)
    return predicted, time.perf_counter() - t0, model


def _rows(case: dict[str, object], frame: pd.DataFrame) -> list[Row]:
    predicted, seconds, model = _enms(frame)
    test = frame[frame["split"] == "test"]
    ok = test["observed"].notna() & predicted.notna() & test["eemeter_predicted"].notna()
    y, ours, peer = test["observed"][ok], predicted[ok], test["eemeter_predicted"][ok]
    name = str(case["case"])
    accept = name.startswith(ACCEPTANCE_SAMPLE + "_")
    terms = ",".join(model.coefficients_.index[1:]) or "none"
    flags = ",".join(model.report_["flags"]) or "none"
    note = (
        f"held-out n={int(ok.sum())}; enms terms: {terms}; flags: {flags}; "
        f"enms fit+predict {seconds:.2f} s, eemeter {float(str(case['fit_predict_seconds'])):.2f} s"
    )
    return [
        Row(
            NAME,
            f"{name} held-out CV(RMSE)",
            metrics.cv_rmse(y, ours),
            "%",
            reference_name="openeemeter_4.1.1",
            reference_value=metrics.cv_rmse(y, peer),
            target=1.0 if accept else None,
            higher_is_better=False,
            note=note,
        ),
        Row(
            NAME,
            f"{name} held-out NMBE",
            metrics.nmbe(y, ours),
            "%",
            reference_name="openeemeter_4.1.1",
            reference_value=metrics.nmbe(y, peer),
            note="100·Σ(y−ŷ)/(n·mean(y)); closer to 0 is better",
        ),
    ]


def peer_cases(only: list[str]) -> list[tuple[dict[str, object], pd.DataFrame]]:
    """OpenEEmeter's cases (``only`` those samples; all when empty), each with its frame
    (UTC index; observed, temperature_c, split, eemeter_predicted), run in its venv."""
    python = _peer_python()
    with tempfile.TemporaryDirectory(prefix="enms-eemeter-") as tmp:
        out = Path(tmp)
        subprocess.run([str(python), str(RUNNER), str(out), *only], check=True)
        cases = json.loads((out / "cases.json").read_text())["cases"]
        found = []
        for case in cases:
            frame = pd.read_csv(out / f"{case['case']}.csv", index_col="timestamp")
            frame.index = pd.DatetimeIndex(pd.to_datetime(frame.index, utc=True))
            found.append((case, frame))
    return found


def run(*, quick: bool) -> list[Row]:
    """Run OpenEEmeter in its venv, fit enms on the same frames, compare held-out errors."""
    rows: list[Row] = []
    ratios: list[float] = []
    for case, frame in peer_cases([ACCEPTANCE_SAMPLE] if quick else []):
        case_rows = _rows(case, frame)
        ratios.append(float(case_rows[0].ratio or np.nan))
        rows.extend(case_rows)
    wins = sum(r <= 1.0 for r in ratios)
    rows.append(
        Row(
            NAME,
            "median CV(RMSE) ratio enms/openeemeter over all cases",
            float(np.nanmedian(ratios)),
            "ratio",
            higher_is_better=False,
            note=f"enms ≤ OpenEEmeter on {wins} of {len(ratios)} cases",
        )
    )
    return rows
