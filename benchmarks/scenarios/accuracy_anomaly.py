"""Anomaly detection on real labelled QA data (pvanalytics), next to a plain 3σ-residual rule.

Data: the labelled sets that ship inside the ``pvanalytics`` 0.2.2 wheel (NREL PV data,
each with a human-made or injected label per row), fetched once with ``pip download
--no-deps`` into ``benchmarks/.data/`` (git-ignored) and read from the wheel:

* ``outliers`` — ``ac_power_inv_7539_outliers.csv``: 500 daytime 15-minute readings of
  one inverter over 10 days, 6 labelled outliers;
* ``stale`` — ``ac_power_inv_2173_stale_data.csv``: 3,000 15-minute readings over a month,
  245 labelled stale (a value repeated for hours); 1,149 readings are missing (NaN);
* ``interpolated`` — ``ac_power_inv_2173_interpolated_data.csv``: the same inverter with
  1,254 gaps filled by linear interpolation, labelled;
* ``shift`` — ``pvlib_data_shift.csv``: six years of daily energy with one labelled data
  shift (output drops by about 60 % from 2015-10-28).

Mapping PV power to an energy meter. ``value_normalized`` is AC power as a fraction of
the inverter's nameplate, averaged over the interval; an interval's energy is power ×
duration, so ``energy_kwh = value_normalized × 100 kW × 0.25 h`` for a nominal 100 kW
inverter. The nominal size is arbitrary and harmless: both detectors standardise their
residuals, so precision, recall and F1 do not depend on it. The shift set's ``value`` is
daily energy in Wh, so ``energy_kwh = value / 1000`` per day. There are no drivers (no
irradiance ships with these inverters): the expected energy is the baseline's
time-of-week profile (hour of week for 15-minute data, day of week for daily data), in
UTC, as the sites' zones are not given. Negative power (two injected outliers) is kept;
``enms import`` would refuse such a reading at the door.

Protocol. ``outliers``, ``stale`` and ``interpolated`` are unsupervised, in-sample, as
pvanalytics' own examples run: each detector is fitted on the whole series with the
labels *withheld* (so anomalies contaminate its training data as they do in the field)
and flags the same series. ``shift``: both are fitted on 2015-01-01..2015-08-31 and judged
on 2015-09-01..2015-12-31, where every day from the shift on is positive. Rows with
missing energy are left out of fitting and judging.

Detectors. ``enms``: :class:`~enms.ml.anomaly.AnomalyDetector` at its defaults
(``target_alarm_rate=1e-4``) and at ``0.0027``, the two-sided Gaussian rate of a 3σ rule
(a like-for-like alarm budget). The baseline's 14-day minimum is lowered to 7 days
(``baseline_params``) for the 10-day outlier set only. Reference, computed in the same run
on the same rows: a plain 3σ rule — the same :class:`~enms.ml.baseline.BaselineModel`
fitted on the same rows, a reading flagged when its residual is more than three standard
deviations from the mean training residual. Each row is one metric of enms next to the
same metric of the 3σ rule; the note counts flags. No pass/fail target: the issue sets
none.
"""

from __future__ import annotations

import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from benchmarks.harness import Row
from enms.ml.anomaly import AnomalyDetector
from enms.ml.baseline import BaselineModel

NAME = "accuracy_anomaly"
PACKAGE = "pvanalytics==0.2.2"
WHEEL = "pvanalytics-0.2.2-py3-none-any.whl"
DATA_DIR = Path(__file__).resolve().parents[1] / ".data"
NOMINAL_KW = 100.0
MATCHED_RATE = 0.0027  # P(|N(0, 1)| > 3)


@dataclass(frozen=True)
class LabelledSet:
    """A readings frame (``energy_kwh``), its labels and the rows that are judged."""

    name: str
    frame: pd.DataFrame
    labels: pd.Series
    train: pd.Series  # bool mask of the rows both detectors are fitted on
    judged: pd.Series  # bool mask of the rows they are judged on
    baseline_params: dict[str, Any]


def wheel_path() -> Path:
    """The pvanalytics wheel, downloaded once into ``benchmarks/.data``."""
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    ignore = DATA_DIR / ".gitignore"
    if not ignore.exists():
        ignore.write_text("*\n")  # a cache, never committed
    path = DATA_DIR / WHEEL
    if not path.exists():
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(DATA_DIR),
             PACKAGE],
            check=True,
        )  # fmt: skip
    return path


def _read(wheel: zipfile.ZipFile, name: str) -> pd.DataFrame:
    with wheel.open(f"pvanalytics/data/{name}") as handle:
        return pd.read_csv(handle)


def _truthy(values: pd.Series) -> pd.Series:
    return values.astype(str).str.strip().str.lower().isin(["true", "1"])


def _power_set(wheel: zipfile.ZipFile, name: str, file: str, label: str) -> LabelledSet:
    raw = _read(wheel, file)
    index = pd.DatetimeIndex(pd.to_datetime(raw["timestamp"], utc=True), name="timestamp")
    energy = raw["value_normalized"].to_numpy(dtype=float) * NOMINAL_KW * 0.25
    frame = pd.DataFrame({"energy_kwh": energy}, index=index)
    labels = pd.Series(_truthy(raw[label]).to_numpy(), index=index)
    everything = pd.Series(True, index=index)
    params = {"min_days": 7.0} if name == "outliers" else {}
    return LabelledSet(name, frame, labels, everything, everything, params)


def _shift_set(wheel: zipfile.ZipFile) -> LabelledSet:
    raw = _read(wheel, "pvlib_data_shift.csv")
    index = pd.DatetimeIndex(pd.to_datetime(raw["timestamp"], format="%m/%d/%Y", utc=True))
    frame = pd.DataFrame({"energy_kwh": raw["value"].to_numpy(dtype=float) / 1000.0}, index=index)
    shift_at = index[_truthy(raw["label"]).to_numpy()][0]
    labels = pd.Series(index >= shift_at, index=index)
    train = pd.Series(index < pd.Timestamp("2015-09-01", tz="UTC"), index=index)
    judged = pd.Series(
        (index >= pd.Timestamp("2015-09-01", tz="UTC"))
        & (index < pd.Timestamp("2016-01-01", tz="UTC")),
        index=index,
    )
    return LabelledSet("shift", frame, labels, train, judged, {})


def labelled_sets() -> list[LabelledSet]:
    """The four labelled sets, read from the cached wheel."""
    with zipfile.ZipFile(wheel_path()) as wheel:
        return [
            _power_set(wheel, "outliers", "ac_power_inv_7539_outliers.csv", "outlier"),
            _power_set(wheel, "stale", "ac_power_inv_2173_stale_data.csv", "stale_data_mask"),
            _power_set(
                wheel,
                "interpolated",
                "ac_power_inv_2173_interpolated_data.csv",
                "interpolated_data_mask",
            ),
            _shift_set(wheel),
        ]


def three_sigma_flags(data: LabelledSet, train: pd.DataFrame, judged: pd.DataFrame) -> np.ndarray:
    """The reference: |residual − mean| > 3·sd of the training residuals."""
    baseline = BaselineModel(timezone="UTC", **data.baseline_params).fit(train)
    resid = (train["energy_kwh"] - baseline.predict(train)).dropna()
    centre, sd = float(resid.mean()), float(resid.std())
    judged_resid = (judged["energy_kwh"] - baseline.predict(judged)).to_numpy()
    return np.asarray(np.abs(judged_resid - centre) > 3.0 * sd, dtype=bool)


def _confusion(labels: np.ndarray, flags: np.ndarray) -> dict[str, float]:
    tp = float(np.sum(labels & flags))
    fp = float(np.sum(~labels & flags))
    fn = float(np.sum(labels & ~flags))
    return {
        "precision": tp / (tp + fp) if tp + fp else float("nan"),
        "recall": tp / (tp + fn) if tp + fn else float("nan"),
        "f1": 2 * tp / (2 * tp + fp + fn) if tp + fn else float("nan"),
        "flags": tp + fp,
    }


def evaluate(data: LabelledSet, rate: float) -> tuple[dict[str, float], dict[str, float], int]:
    """(enms scores, 3σ scores, rows judged) for one set at one target alarm rate."""
    present = data.frame["energy_kwh"].notna()
    train = data.frame[data.train & present]
    judged = data.frame[data.judged & present]
    labels = data.labels[data.judged & present].to_numpy(dtype=bool)
    detector = AnomalyDetector(
        timezone="UTC", target_alarm_rate=rate, baseline_params=data.baseline_params
    ).fit(train)
    ours = detector.flag(judged).to_numpy(dtype=bool)
    return (
        _confusion(labels, ours),
        _confusion(labels, three_sigma_flags(data, train, judged)),
        len(judged),
    )


def run(*, quick: bool) -> list[Row]:
    """Precision, recall and F1 of the enms detector (two alarm budgets) and of the 3σ rule.

    The sets are small, so ``quick`` runs them all too. A precision is NaN (not 0) when a
    detector raised no flag at all.
    """
    rows = []
    for data in labelled_sets():
        positives = int(data.labels[data.judged & data.frame["energy_kwh"].notna()].sum())
        for variant, rate in (("default 1e-4", 1e-4), ("matched 0.0027", MATCHED_RATE)):
            ours, ref, n = evaluate(data, rate)
            note = (
                f"{ours['flags']:.0f} flags vs 3σ {ref['flags']:.0f}; "
                f"{positives} labelled of {n} rows"
            )
            for metric in ("precision", "recall", "f1"):
                rows.append(
                    Row(
                        scenario=NAME,
                        case=f"{data.name} {metric}, enms {variant}",
                        value=ours[metric],
                        unit="ratio",
                        reference_name="3σ",
                        reference_value=ref[metric],
                        note=note,
                    )
                )
    return rows
