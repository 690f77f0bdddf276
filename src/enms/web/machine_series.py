"""The machine page's time series, built from frames already read: bucketing in local time.

Pure functions (no database): readings and logged points in, plottable JSON-ready lists out.
Every series of one response shares one grid of local-time buckets (:func:`bucket_grid`), at
most ~1,000 of them (see :mod:`enms.web.machine_window`); a bucket with no data is ``None``
so a chart shows a gap rather than a made-up zero. Energy is summed per bucket (kWh per
bucket), the heatmap is the mean kWh per local hour by weekday and hour of day.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, cast

import numpy as np
import pandas as pd

from enms.readings.aggregate import aggregate
from enms.web.machine_window import SeriesWindow

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
LOCAL_FORMAT = "%Y-%m-%d %H:%M"
#: A forecast counts as day-ahead when issued at most this long before its target.
DAY_AHEAD = timedelta(hours=24)


def bucket_grid(window: SeriesWindow, timezone: str) -> pd.DatetimeIndex:
    """The bucket starts covering ``[start, end)``, in local time, from the local midnight
    of the first day: calendar days for daily buckets, fixed hours otherwise (so across a
    DST change sub-day labels shift by the hour the clocks moved)."""
    first = pd.Timestamp(window.start).tz_convert(timezone).normalize()
    end = pd.Timestamp(window.end).tz_convert(timezone)
    if window.bucket.hours >= 24:
        grid = pd.date_range(first, end, freq="D", inclusive="left")
    else:
        grid = pd.date_range(
            first.tz_convert("UTC"),
            end.tz_convert("UTC"),
            freq=window.bucket.freq,
            inclusive="left",
        ).tz_convert(timezone)
    return grid


def labels(grid: pd.DatetimeIndex) -> list[str]:
    """Local wall-clock labels of the grid (plotly draws them as given, no browser zone)."""
    return [str(t.strftime(LOCAL_FORMAT)) for t in grid]


def positions(stamps: pd.DatetimeIndex, grid: pd.DatetimeIndex) -> np.ndarray:
    """The grid bucket of each timestamp (-1 before the grid's first bucket)."""
    return np.asarray(grid.searchsorted(stamps.tz_convert(str(grid.tz)), side="right")) - 1


def bucket_sums(values: pd.Series, grid: pd.DatetimeIndex) -> list[float | None]:
    """Sum of ``values`` (UTC-indexed) per bucket of ``grid``; ``None`` where none fell."""
    if values.empty:
        return [None] * len(grid)
    where = positions(pd.DatetimeIndex(values.index), grid)
    inside = where >= 0
    frame = pd.DataFrame({"bucket": where[inside], "v": values.to_numpy(dtype=float)[inside]})
    summed = frame.groupby("bucket")["v"].sum(min_count=1).reindex(range(len(grid)))
    return as_list(summed)


def as_list(series: pd.Series) -> list[float | None]:
    """Floats with NaN as ``None`` (JSON null), rounded to what a chart can show."""
    out: list[float | None] = []
    for value in series.to_numpy(dtype=float):
        out.append(None if not np.isfinite(value) else round(float(value), 4))
    return out


def energy_series(
    readings: pd.DataFrame, expected: pd.DataFrame, grid: pd.DatetimeIndex
) -> dict[str, Any]:
    """Actual energy (the readings) and the baseline's expected energy per bucket, kWh."""
    actual = readings["energy_kwh"] if not readings.empty else pd.Series(dtype=float)
    predicted = expected["predicted"].dropna() if not expected.empty else pd.Series(dtype=float)
    last = predicted.index.max() if not predicted.empty else None
    return {
        "x": labels(grid),
        "actual": bucket_sums(actual, grid),
        "expected": bucket_sums(predicted, grid),
        "n_expected": len(predicted),
        "expected_until": None if last is None else pd.Timestamp(last).isoformat(),
    }


def day_ahead(points: pd.DataFrame) -> pd.DataFrame:
    """Per target, the earliest-issued forecast at most :data:`DAY_AHEAD` before it.

    A forecaster's daily origin covers the next day; a served request adds points with other
    origins for the same targets, which are dropped here so each target counts once.
    """
    if points.empty:
        return points
    lead = points.index.to_series() - pd.DatetimeIndex(points["origin"])
    kept = points[(lead >= timedelta(0)).to_numpy() & (lead <= DAY_AHEAD).to_numpy()]
    return kept[~kept.index.duplicated(keep="first")]


def forecast_series(
    readings: pd.DataFrame, points: pd.DataFrame, grid: pd.DatetimeIndex
) -> dict[str, Any]:
    """Day-ahead forecast with its interval bounds vs the actual energy, kWh per bucket.

    Bounds are summed per bucket like the forecast: for buckets of several readings that
    band is wider than the interval of the bucket's sum (a conservative band).
    """
    chosen = day_ahead(points)
    actual = readings["energy_kwh"] if not readings.empty else pd.Series(dtype=float)
    if chosen.empty:
        empty: list[float | None] = [None] * len(grid)
        return {
            "x": labels(grid),
            "actual": bucket_sums(actual, grid),
            "predicted": empty,
            "lower": empty,
            "upper": empty,
            "n_points": 0,
        }
    bounded = chosen.dropna(subset=["lower", "upper"])
    return {
        "x": labels(grid),
        "actual": bucket_sums(actual, grid),
        "predicted": bucket_sums(chosen["predicted"].dropna(), grid),
        "lower": bucket_sums(bounded["lower"], grid),
        "upper": bucket_sums(bounded["upper"], grid),
        "n_points": len(chosen),
    }


def heatmap(readings: pd.DataFrame, timezone: str) -> dict[str, Any]:
    """Mean kWh per local hour by weekday (rows, Monday first) and hour of day (columns)."""
    hours = list(range(24))
    if readings.empty:
        return {"weekdays": list(WEEKDAYS), "hours": hours, "z": [[None] * 24 for _ in WEEKDAYS]}
    hourly = aggregate(readings, "hourly", timezone)["energy_kwh"].dropna()
    local = cast(pd.DatetimeIndex, hourly.index).tz_convert(timezone)
    frame = pd.DataFrame({"kwh": hourly.to_numpy(), "day": local.day_of_week, "hour": local.hour})
    means = frame.groupby(["day", "hour"])["kwh"].mean()
    table = means.unstack("hour").reindex(index=range(7), columns=hours)
    return {
        "weekdays": list(WEEKDAYS),
        "hours": hours,
        "z": [as_list(row) for _, row in table.iterrows()],
    }


def anomaly_marks(
    events: list[dict[str, Any]], grid: pd.DatetimeIndex, bucketed_actual: list[float | None]
) -> list[dict[str, Any]]:
    """Each event with where to draw it: on its bucket of the actual-energy line (the
    reading's own value stays in ``energy_kwh``, its local time in ``local``)."""
    out = []
    for event in events:
        local = pd.Timestamp(event["ts"]).tz_convert(str(grid.tz))
        position = int(positions(pd.DatetimeIndex([local]), grid)[0])
        if position < 0 or position >= len(grid):
            continue
        out.append(
            {
                **event,
                "ts": pd.Timestamp(event["ts"]).isoformat(),
                "x": str(grid[position].strftime(LOCAL_FORMAT)),
                "local": str(local.strftime(LOCAL_FORMAT)),
                "y": bucketed_actual[position],
            }
        )
    return out
