"""OpenEEmeter side of the baseline accuracy benchmark; runs in ``benchmarks/.venvs/eemeter``.

Usage: ``python eemeter_fit.py OUT_DIR [SAMPLE ...]`` (default: every sample below).
For every UK smart-meter sample that ships inside the ``eemeter`` wheel (Low Carbon
London electricity samples 1 and 2, the electricity and gas sample 0), it builds the hourly
and the daily frame both tools use (meter readings summed to hours / local days, CalTRACK's
zero-as-missing rule for electricity, temperature averaged), splits it into the first 365
days (baseline) and the rest (reporting), fits OpenEEmeter's ``HourlyModel`` /
``DailyModel`` with default settings on the baseline and predicts the reporting period. It
writes ``<case>.csv`` (timestamp, observed, temperature_c, split, eemeter_predicted) and
``cases.json`` (case list, fit seconds, disqualifications).
"""

from __future__ import annotations

import importlib.resources
import json
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import eemeter  # type: ignore[import-not-found]
import eemeter.eemeter as em  # type: ignore[import-not-found]
import pandas as pd

SAMPLES = {
    "uk_elec_1": (
        "uk-electricity-hdd-only-hourly-sample-1.csv.gz",
        "uk-tempC-sample-1_2.csv.gz",
        True,
    ),
    "uk_elec_2": (
        "uk-electricity-hdd-only-hourly-sample-2.csv.gz",
        "uk-tempC-sample-1_2.csv.gz",
        True,
    ),
    "uk_elec_0": (
        "uk-electricity-hdd-only-hourly-sample-0.csv.gz",
        "uk-tempC-sample-0.csv.gz",
        True,
    ),
    "uk_gas_0": ("uk-gas-hdd-only-hourly-sample-0.csv.gz", "uk-tempC-sample-0.csv.gz", False),
}
TZ = "Europe/London"
TRAIN_DAYS = 365


def _read(name: str, **kwargs: Any) -> pd.DataFrame:
    res = importlib.resources.files("eemeter.eemeter.samples").joinpath(name)
    with res.open("rb") as fh:
        frame: pd.DataFrame = pd.read_csv(fh, compression="gzip", **kwargs)
    return frame


def _hourly(meter_file: str, temp_file: str, electricity: bool) -> pd.DataFrame:
    meter = _read(meter_file, parse_dates=["start"], index_col="start")["value"]
    meter.index = pd.to_datetime(meter.index, utc=True)
    observed = meter.resample("h").sum(min_count=1)
    if electricity:  # CalTRACK: a zero electricity reading is missing data
        observed = observed.where(observed != 0)
    temp = _read(temp_file, parse_dates=["dt"], index_col="dt")["tempC"]
    temp.index = pd.to_datetime(temp.index, utc=True)
    temp = temp.resample("h").mean()
    index = observed.index.union(temp.index)
    df = pd.DataFrame({"observed": observed.reindex(index), "temperature_c": temp.reindex(index)})
    df = df.loc[observed.first_valid_index() : observed.last_valid_index()]
    return df.tz_convert(TZ)


def _daily(hourly: pd.DataFrame) -> pd.DataFrame:
    days = hourly.resample("D")
    observed = days["observed"].sum(min_count=1)
    complete = days["observed"].count() >= 0.9 * days["observed"].size()
    return pd.DataFrame(
        {"observed": observed.where(complete), "temperature_c": days["temperature_c"].mean()}
    )


def _fit_predict(
    df: pd.DataFrame, electricity: bool, hourly: bool
) -> tuple[pd.Series, float, list[str]]:
    cut = df.index[0] + pd.Timedelta(days=TRAIN_DAYS)
    data = pd.DataFrame(
        {"observed": df["observed"], "temperature": df["temperature_c"] * 9 / 5 + 32}
    )
    train, test = data[data.index < cut], data[data.index >= cut]
    if hourly:
        base = em.HourlyBaselineData(train, is_electricity_data=electricity)
        rep = em.HourlyReportingData(test, is_electricity_data=electricity)
        model = em.HourlyModel()
    else:
        base = em.DailyBaselineData(train, is_electricity_data=electricity)
        rep = em.DailyReportingData(test, is_electricity_data=electricity)
        model = em.DailyModel()
    t0 = time.perf_counter()
    model.fit(base, ignore_disqualification=True)
    pred = model.predict(rep, ignore_disqualification=True)["predicted"]
    seconds = time.perf_counter() - t0
    dq = [w.qualified_name for w in base.disqualification]
    return pred.reindex(df.index), seconds, dq


def main(out: Path, only: list[str]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    cases: dict[str, Any] = {
        "eemeter_version": eemeter.__version__,
        "train_days": TRAIN_DAYS,
        "cases": [],
    }
    for name, (meter_file, temp_file, electricity) in SAMPLES.items():
        if only and name not in only:
            continue
        hourly = _hourly(meter_file, temp_file, electricity)
        for resolution, df in (("hourly", hourly), ("daily", _daily(hourly))):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                pred, seconds, dq = _fit_predict(df, electricity, resolution == "hourly")
            cut = df.index[0] + pd.Timedelta(days=TRAIN_DAYS)
            frame = df.assign(
                split=["train" if t < cut else "test" for t in df.index], eemeter_predicted=pred
            )
            case = f"{name}_{resolution}"
            frame.tz_convert("UTC").to_csv(out / f"{case}.csv", index_label="timestamp")
            cases["cases"].append(
                {
                    "case": case,
                    "sample": meter_file,
                    "resolution": resolution,
                    "electricity": electricity,
                    "fit_predict_seconds": seconds,
                    "disqualification": dq,
                }
            )
            print(f"{case}: {seconds:.1f} s", file=sys.stderr, flush=True)
    (out / "cases.json").write_text(json.dumps(cases, indent=2))


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2:])
