"""Readings-frame validation and the calendar features every model type builds on.

This module owns the shape of a readings frame as the models see it: a tz-aware
``DatetimeIndex`` in UTC (a non-UTC zone is converted, a naive index is refused), sorted,
without duplicate timestamps, with a numeric ``energy_kwh`` target and optional numeric
driver columns. Calendar features (hour of week, day of week, time of day) are computed in
the machine's *local* time, because shifts and weekends follow the wall clock, not UTC.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

from enms.ml.base import KNOWN_DRIVERS, LABEL, TARGET, InsufficientData

IntArray = npt.NDArray[np.int64]

ONE_DAY = pd.Timedelta(days=1)


def validate_frame(frame: pd.DataFrame, *, require_target: bool = True) -> pd.DataFrame:
    """Return ``frame`` with a sorted UTC index, after checking its shape.

    Raises ``ValueError`` for a structurally wrong frame (naive or non-datetime index,
    duplicate timestamps, non-numeric target) and :class:`InsufficientData` for an empty one.

    >>> idx = pd.date_range("2025-01-01", periods=3, freq="h", tz="Europe/Berlin")
    >>> out = validate_frame(pd.DataFrame({"energy_kwh": [1.0, 2.0, 3.0]}, index=idx[::-1]))
    >>> str(out.index.tz), out.index[0].hour, bool(out.index.is_monotonic_increasing)
    ('UTC', 23, True)
    """
    if not isinstance(frame.index, pd.DatetimeIndex):
        raise ValueError("readings frame needs a DatetimeIndex of timestamps")
    if frame.index.tz is None:
        raise ValueError("readings frame index must be timezone-aware (UTC); got naive timestamps")
    if len(frame) == 0:
        raise InsufficientData("the readings frame is empty")
    out = frame
    if str(frame.index.tz) != "UTC":
        out = out.tz_convert("UTC")
    if not out.index.is_monotonic_increasing:
        out = out.sort_index()
    if out.index.has_duplicates:
        dup = out.index[out.index.duplicated()][0]
        raise ValueError(f"readings frame has duplicate timestamps (first: {dup.isoformat()})")
    if require_target:
        if TARGET not in out.columns:
            raise ValueError(f"readings frame has no {TARGET!r} column")
        if not pd.api.types.is_numeric_dtype(out[TARGET]):
            raise ValueError(f"{TARGET!r} must be numeric")
    return out


def datetime_index(frame: pd.DataFrame | pd.Series) -> pd.DatetimeIndex:
    """The frame's index, typed as the ``DatetimeIndex`` that :func:`validate_frame` ensures."""
    index = frame.index
    if not isinstance(index, pd.DatetimeIndex):
        raise ValueError("readings frame needs a DatetimeIndex of timestamps")
    return index


def infer_interval(index: pd.DatetimeIndex) -> pd.Timedelta:
    """Sampling interval as the median spacing of consecutive timestamps.

    >>> infer_interval(pd.date_range("2025-01-01", periods=5, freq="15min", tz="UTC"))
    Timedelta('0 days 00:15:00')
    """
    if len(index) < 2:
        raise InsufficientData("need at least two readings to infer the sampling interval")
    diffs = np.diff(index.as_unit("ns").asi8)
    return pd.Timedelta(int(np.median(diffs)), unit="ns")


def driver_columns(frame: pd.DataFrame) -> list[str]:
    """Numeric driver columns: the known drivers first, then any other numeric column.

    The target, the anomaly label and boolean columns are never drivers.

    >>> f = pd.DataFrame({"energy_kwh": [1.0], "line_speed": [2.0],
    ...                   "production_units": [3.0], "is_anomaly": [False], "note": ["x"]})
    >>> driver_columns(f)
    ['production_units', 'line_speed']
    """
    known = [c for c in KNOWN_DRIVERS if c in frame.columns]
    others = [
        str(c)
        for c in frame.columns
        if c not in (TARGET, LABEL)
        and c not in KNOWN_DRIVERS
        and pd.api.types.is_numeric_dtype(frame[c])
        and not pd.api.types.is_bool_dtype(frame[c])
    ]
    return known + others


def local_index(index: pd.DatetimeIndex, timezone: str) -> pd.DatetimeIndex:
    """The UTC index in the machine's local wall-clock time."""
    return index.tz_convert(timezone)


def time_of_week_groups(
    index: pd.DatetimeIndex, timezone: str, interval: pd.Timedelta
) -> tuple[IntArray, int]:
    """Time-of-week bin per row and the number of bins, chosen by resolution.

    Sub-daily data: hour of week (0 = Monday 00:00 local, 168 bins). Daily data: day of
    week (7 bins). Coarser data: one bin (no time-of-week terms).

    >>> idx = pd.date_range("2025-01-06 00:00", periods=3, freq="h", tz="UTC")
    >>> groups, n = time_of_week_groups(idx, "Europe/Berlin", pd.Timedelta("1h"))
    >>> groups.tolist(), n
    ([1, 2, 3], 168)
    """
    if interval >= pd.Timedelta(days=7):
        return np.zeros(len(index), dtype=np.int64), 1
    local = local_index(index, timezone)
    dow = np.asarray(local.day_of_week, dtype=np.int64)
    if interval >= ONE_DAY:
        return dow, 7
    return dow * 24 + np.asarray(local.hour, dtype=np.int64), 168


def calendar_features(index: pd.DatetimeIndex, timezone: str) -> pd.DataFrame:
    """Smooth local-time features for multivariate detectors: time of day and week.

    >>> idx = pd.date_range("2025-01-06 11:00", periods=1, freq="h", tz="UTC")
    >>> calendar_features(idx, "Europe/Berlin").round(3).iloc[0].tolist()
    [0.0, -1.0, 0.0, 0.0]
    """
    local = local_index(index, timezone)
    hour = np.asarray(local.hour + local.minute / 60.0, dtype=np.float64)
    dow = np.asarray(local.day_of_week, dtype=np.float64)
    return pd.DataFrame(
        {
            "tod_sin": np.sin(2 * np.pi * hour / 24.0),
            "tod_cos": np.cos(2 * np.pi * hour / 24.0),
            "dow": dow,
            "is_weekend": (dow >= 5).astype(np.float64),
        },
        index=index,
    )
