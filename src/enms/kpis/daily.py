"""Per local calendar day KPIs from a readings frame and (optionally) a baseline (pure).

A day is the machine's local calendar day ``[local midnight, next local midnight)``, so it
lasts 23, 24 or 25 hours across a DST change (:func:`day_bounds`). Per day:

- ``energy_kwh``: the sum of every reading's energy (all readings, predicted or not);
- ``production_units``: the sum of the day's production, None when the readings have none;
- ``sec_kwh_per_unit`` (specific energy consumption): energy / production, None without
  (or with zero) production;
- with a baseline: ``expected_kwh`` = the baseline's expected energy summed over the readings
  it could predict, ``enpi`` = actual / expected and ``savings_kwh`` = expected − actual, both
  over those same readings only. A reading with a missing driver (or one the model declines)
  is counted in ``n_missing`` and left out of both sides, so a meter gap in one driver neither
  inflates nor deflates the EnPI; ``energy_kwh`` still counts it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import numpy as np
import numpy.typing as npt
import pandas as pd

from enms.ml.base import TARGET, EnergyModel, MissingColumns
from enms.ml.scoring import model_columns

PRODUCTION = "production_units"
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class DayKpi:
    """One machine-day's figures (the columns of ``energy_kpis`` minus identity)."""

    day: date
    day_start: datetime
    day_end: datetime
    n_readings: int
    n_predicted: int
    n_missing: int
    energy_kwh: float
    production_units: float | None
    sec_kwh_per_unit: float | None
    expected_kwh: float | None
    enpi: float | None
    savings_kwh: float | None


def day_bounds(day: date, timezone: str) -> tuple[datetime, datetime]:
    """``[start, end)`` of a local calendar day, in UTC.

    >>> s, e = day_bounds(date(2025, 3, 30), "Europe/Berlin")
    >>> s.isoformat(), (e - s).total_seconds() / 3600
    ('2025-03-29T23:00:00+00:00', 23.0)
    >>> s, e = day_bounds(date(2025, 10, 26), "Europe/Berlin")
    >>> (e - s).total_seconds() / 3600
    25.0
    """
    return _midnight(day, timezone), _midnight(day + timedelta(days=1), timezone)


def _midnight(day: date, timezone: str) -> datetime:
    # A zone whose DST change happens at midnight has no 00:00 that day: the day starts at
    # the first instant that exists.
    local = pd.Timestamp(day).tz_localize(timezone, nonexistent="shift_forward", ambiguous=True)
    stamp: datetime = local.tz_convert("UTC").to_pydatetime()
    return stamp


def local_days(index: pd.DatetimeIndex, timezone: str) -> npt.NDArray[np.object_]:
    """The local calendar day of each UTC timestamp."""
    return np.asarray(index.tz_convert(timezone).date, dtype=object)


def expected_energy(model: EnergyModel | None, frame: pd.DataFrame) -> pd.Series:
    """The baseline's expected energy per reading, NaN where it cannot predict (a missing
    driver, or no baseline at all)."""
    empty = pd.Series(np.nan, index=frame.index, dtype=float)
    if model is None or frame.empty:
        return empty
    if any(c not in frame.columns for c in model_columns(model)):
        return empty  # the readings never had this driver
    try:
        predicted = model.predict(frame)
    except MissingColumns:
        return empty
    return pd.Series(predicted.to_numpy(dtype=float), index=frame.index)


def daily_kpis(
    *, frame: pd.DataFrame, expected: pd.Series | None, days: list[date], timezone: str
) -> list[DayKpi]:
    """The KPIs of each of ``days`` that has readings in ``frame`` (UTC-indexed; ``expected``
    aligned to it, or None without a baseline). Days without a reading are left out."""
    if frame.empty:
        return []
    by_day = local_days(pd.DatetimeIndex(frame.index), timezone)
    energy = frame[TARGET].to_numpy(dtype=float)
    production = frame[PRODUCTION].to_numpy(dtype=float) if PRODUCTION in frame.columns else None
    predicted = None if expected is None else expected.to_numpy(dtype=float)
    out: list[DayKpi] = []
    for day in days:
        rows = by_day == day
        n = int(rows.sum())
        if n == 0:
            continue
        start, end = day_bounds(day, timezone)
        total = float(energy[rows].sum())
        units = _production(production, rows)
        sec = total / units if units is not None and units > 0 else None
        exp, enpi, savings, n_pred = _against_baseline(predicted, energy, rows)
        out.append(
            DayKpi(
                day=day,
                day_start=start,
                day_end=end,
                n_readings=n,
                n_predicted=n_pred,
                n_missing=n - n_pred if predicted is not None else n,
                energy_kwh=total,
                production_units=units,
                sec_kwh_per_unit=sec,
                expected_kwh=exp,
                enpi=enpi,
                savings_kwh=savings,
            )
        )
    return out


def _production(production: FloatArray | None, rows: BoolArray) -> float | None:
    if production is None:
        return None
    values = production[rows]
    known = values[~np.isnan(values)]
    return float(known.sum()) if known.size else None


def _against_baseline(
    predicted: FloatArray | None, energy: FloatArray, rows: BoolArray
) -> tuple[float | None, float | None, float | None, int]:
    """(expected, EnPI, savings, readings predicted) over the rows the baseline predicts."""
    if predicted is None:
        return None, None, None, 0
    p = predicted[rows]
    ok = ~np.isnan(p)
    n = int(ok.sum())
    if n == 0:
        return None, None, None, 0
    expected = float(p[ok].sum())
    actual = float(energy[rows][ok].sum())
    enpi = actual / expected if expected > 0 else None
    return expected, enpi, expected - actual, n
