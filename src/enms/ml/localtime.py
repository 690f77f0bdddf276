"""Fast local-calendar keys (day and month numbers) for the baseline's per-fit bookkeeping.

``DatetimeIndex.tz_convert(...).normalize()`` and ``.year``/``.month`` cost about half a
millisecond each on a machine-year of hourly rows; the baseline needs local days and months
in several places per fit (window check, day-mean temperature, sufficiency, ASHRAE months),
so they are computed here from integer arithmetic on the local wall-clock nanoseconds.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

IntArray = npt.NDArray[np.int64]
DAY_NS = 86_400_000_000_000
EPOCH_MONTH = 1970 * 12


def local_days(index: pd.DatetimeIndex, timezone: str) -> IntArray:
    """Days since 1970-01-01 of each timestamp's local calendar date.

    >>> idx = pd.DatetimeIndex(["2025-03-30 21:59", "2025-03-30 22:00"], tz="UTC")
    >>> (local_days(idx, "Europe/Berlin") - local_days(idx[:1], "UTC")[0]).tolist()
    [0, 1]
    """
    wall = index.tz_convert(timezone).tz_localize(None).as_unit("ns").asi8
    return np.asarray(wall // DAY_NS, dtype=np.int64)


def months_of_days(days: IntArray) -> IntArray:
    """``year·12 + month − 1`` of day numbers from :func:`local_days`.

    >>> months_of_days(np.array([0, 31, 365])).tolist()
    [23640, 23641, 23652]
    """
    month = np.asarray(days, dtype="datetime64[D]").astype("datetime64[M]").astype(np.int64)
    return np.asarray(month + EPOCH_MONTH, dtype=np.int64)


def local_months(index: pd.DatetimeIndex, timezone: str) -> IntArray:
    """``year·12 + month − 1`` of each timestamp's local calendar date."""
    return months_of_days(local_days(index, timezone))


def local_midnight(day: int, timezone: str) -> pd.Timestamp:
    """The instant (UTC) at which local calendar day ``day`` begins.

    >>> local_midnight(20240, "Europe/Berlin").isoformat()
    '2025-05-31T22:00:00+00:00'
    >>> local_midnight(19246, "America/Santiago").isoformat()  # 2022-09-11 starts at 01:00
    '2022-09-11T04:00:00+00:00'
    """
    # midnight does not exist on some zones' DST days (e.g. America/Santiago): shift forward
    wall = pd.Timestamp(day * DAY_NS, unit="ns")
    return wall.tz_localize(timezone, ambiguous=True, nonexistent="shift_forward").tz_convert("UTC")
