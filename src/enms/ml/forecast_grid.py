"""The time grid every forecaster shares: reading interval, wall-clock slots, origins, naive.

This module owns *where* a forecast sits in time: the regular grid of a machine's
readings, the wall-clock time-of-week slot of each timestamp in the machine's ``timezone``
(on the 23-hour spring day one slot is absent, on the 25-hour autumn day one slot occurs
twice -- the clock, not the elapsed time since midnight, decides), the positions of
forecast origins, and the seasonal-naive references (the same wall-clock slot one day or
one week earlier).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from enms.ml.base import TARGET, InsufficientData

WEEK = pd.Timedelta(days=7)
DAY = pd.Timedelta(days=1)
HOUR = pd.Timedelta(hours=1)


def infer_step(index: pd.DatetimeIndex) -> pd.Timedelta:
    """The reading interval: the most common spacing between timestamps.

    >>> infer_step(pd.date_range("2024-01-01", periods=5, freq="15min", tz="UTC"))
    Timedelta('0 days 00:15:00')
    """
    if len(index) < 2:
        raise InsufficientData("need at least two readings to know their interval")
    diffs = pd.Series(index[1:] - index[:-1])
    step = pd.Timedelta(diffs.mode().iloc[0])
    if step <= pd.Timedelta(0) or DAY % step != pd.Timedelta(0):
        raise ValueError(f"reading interval {step} does not divide a day evenly")
    return step


def regular(frame: pd.DataFrame, step: pd.Timedelta) -> pd.DataFrame:
    """``frame`` on a gap-free grid of ``step`` (missing slots become NaN rows)."""
    grid = pd.date_range(frame.index[0], frame.index[-1], freq=step, tz="UTC")
    return frame if len(grid) == len(frame) else frame.reindex(grid)


def check_horizon(horizon: int, step: pd.Timedelta) -> None:
    """A horizon is at least one step and at most a week (the naive reference's lag)."""
    if not 1 <= horizon <= WEEK // step:
        raise ValueError(
            f"horizon must be 1..{WEEK // step} steps of {step} (at most one week), got {horizon}"
        )


def offday_mask(local: pd.DatetimeIndex, country: str | None) -> np.ndarray:
    """True on Sundays and public holidays of ``country`` (local calendar dates)."""
    mask = np.asarray(local.day_of_week == 6)
    if country:
        import holidays  # local: only forecasters with a country need the calendar

        years = sorted(set(local.year))
        days = holidays.country_holidays(country, years=years)
        dates = pd.DatetimeIndex(pd.to_datetime(sorted(days.keys())))
        mask |= np.asarray(local.normalize().tz_localize(None).isin(dates))
    return mask


def wall_slot(index: pd.DatetimeIndex, timezone: str, step: pd.Timedelta) -> np.ndarray:
    """Slot of the local day read from the wall clock (``hour:minute // step``).

    On the spring DST day in Berlin 02:00 does not exist, so 03:00 local is slot 3 (not 2,
    as the elapsed time since midnight would say):

    >>> idx = pd.DatetimeIndex(["2025-03-30 00:30", "2025-03-30 01:00"], tz="UTC")
    >>> wall_slot(idx, "Europe/Berlin", pd.Timedelta("1h")).tolist()
    [1, 3]
    """
    local = index.tz_convert(timezone)
    minutes = np.asarray(local.hour * 60 + local.minute, dtype=np.int64)
    return minutes // int(step / pd.Timedelta(minutes=1))


def time_of_week(
    index: pd.DatetimeIndex, timezone: str, step: pd.Timedelta, country: str | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Wall-clock time-of-week slot, and (day type, slot of day) key, of each timestamp.

    Day types: 0 weekday, 1 Saturday, 2 Sunday or a public holiday of ``country`` (which
    also takes Sunday's time-of-week slots).
    """
    local = index.tz_convert(timezone)
    spd = DAY // step
    slot = wall_slot(index, timezone, step)
    off = offday_mask(local, country)
    dow = np.where(off, 6, np.asarray(local.day_of_week))
    daytype = np.where(off, 2, np.where(dow == 5, 1, 0))
    return dow * spd + slot, daytype * spd + slot


def wall_clock_earlier(index: pd.DatetimeIndex, timezone: str, days: int = 7) -> pd.DatetimeIndex:
    """UTC instants showing the same wall-clock time ``days`` earlier in ``timezone``.

    A time that did not exist then (the spring gap) moves forward to the first one that
    did; an ambiguous one (the autumn repeat) takes standard time.

    >>> idx = pd.DatetimeIndex(["2025-04-06 06:00"], tz="UTC")  # 08:00 CEST
    >>> str(wall_clock_earlier(idx, "Europe/Berlin")[0])  # 08:00 CET a week before
    '2025-03-30 06:00:00+00:00'
    """
    if timezone == "UTC":
        return index - pd.Timedelta(days=days)
    wall = index.tz_convert(timezone).tz_localize(None) - pd.Timedelta(days=days)
    back = wall.tz_localize(
        timezone, ambiguous=np.zeros(len(wall), dtype=bool), nonexistent="shift_forward"
    )
    return back.tz_convert("UTC")


def seasonal_naive(
    frame: pd.DataFrame, step: pd.Timedelta, *, timezone: str = "UTC", days: int = 7
) -> pd.Series:
    """Seasonal-naive forecast: the reading in the same wall-clock slot ``days`` earlier
    (weekly by default; ``days=1`` is the daily seasonal naive)."""
    grid = regular(frame, step)[TARGET]
    earlier = wall_clock_earlier(pd.DatetimeIndex(frame.index), timezone, days)
    return pd.Series(grid.reindex(earlier).to_numpy(), index=frame.index, name=TARGET)


def origin_positions(index: pd.DatetimeIndex, step: pd.Timedelta, horizon: int) -> np.ndarray:
    """Positions of tiled origins: the first slot and every ``horizon`` steps from 00:00 UTC.

    >>> idx = pd.date_range("2024-01-01 22:00", periods=30, freq="1h", tz="UTC")
    >>> origin_positions(idx, pd.Timedelta("1h"), 24).tolist()
    [0, 2, 26]
    """
    positions = every_positions(index, step * horizon)
    if len(positions) == 0 or positions[0] != 0:
        positions = np.concatenate([[0], positions]).astype(np.int64)
    return positions


def every_positions(index: pd.DatetimeIndex, every: pd.Timedelta) -> np.ndarray:
    """Positions whose timestamp is a multiple of ``every`` after 1970-01-01 00:00 UTC.

    >>> idx = pd.date_range("2024-01-01 04:00", periods=10, freq="1h", tz="UTC")
    >>> every_positions(idx, pd.Timedelta("6h")).tolist()
    [2, 8]
    """
    epoch = pd.Timestamp(0, tz="UTC")
    offset = np.asarray((index - epoch) // pd.Timedelta(seconds=1), dtype=np.int64)
    return np.flatnonzero(offset % int(every.total_seconds()) == 0)


def target_positions(positions: np.ndarray, horizon: int, length: int) -> np.ndarray:
    """``(n_origins, horizon)`` grid positions forecast from each origin (clipped to the end)."""
    return np.minimum(positions[:, None] + np.arange(horizon)[None, :], length - 1)
