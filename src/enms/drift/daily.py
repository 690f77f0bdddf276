"""The detection path shared by :mod:`enms.drift.concept` and its calibration: hourly → daily.

Owns the two steps after the residuals became hourly means:

* :func:`clipped_whitened` — AR(1)-whitened hourly values (a fitted
  :class:`~enms.drift.whitening.ResidualWhitener`), divided by the reference's tail factor and
  limited to ``±z_clip``;
* :func:`daily_evidence` — per local day with at least ``min_hours`` whitened hours, the
  standardised sums ``M = Σz/√n`` (mean shift) and ``V = Σs/√n`` with
  ``s = (|z| − √(2/π)) / √(1 − 2/π)`` (variance change), then divided by their spread on
  the reference days (:func:`day_scale`) and limited to ``±day_clip``
  (:func:`standardised`).
  Under no change both are ≈ N(0, 1) whatever the number of hours, so a day with three
  hours of support and a day with 24 weigh the same per unit of evidence; the clip caps what
  one day can contribute, so one odd day (a holiday the model mispredicts, a cluster of
  spikes) is never a change by itself — a change must persist into a second day.

And the steps after the evidence that both detection paths share: :func:`run_days` (a CUSUM
over the daily values, where it first alarmed), :func:`split` (the change hour: the
likelihood-ratio split of the hourly values before the alarm) and :func:`day_end` (the
alarm's moment: the end of the local day that raised it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
import numpy.typing as npt
import pandas as pd

from enms.drift.cusum import MeanCusum
from enms.drift.variance_cusum import ABS_MEAN, ABS_SD
from enms.drift.whitening import MAD_TO_SIGMA, ResidualWhitener

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def clipped_whitened(
    whitener: ResidualWhitener, reference: FloatArray, values: FloatArray, z_clip: float
) -> tuple[FloatArray, float]:
    """Whitened ``values`` limited to ``±z_clip`` (NaN stays NaN: a gap), and the tail factor.

    Heavy-tailed residuals (spikes, weather) make the reference's clipped ``|z|`` larger
    than the normal ``√(2/π)`` the variance statistic assumes; ``z`` is divided by that
    ratio (the tail factor, never below 1) so the reference itself sits at the null.
    """
    z_ref = np.clip(whitener.transform(reference), -z_clip, z_clip)
    tail = max(float(np.nanmean(np.abs(z_ref))) / ABS_MEAN, 1.0)
    z = np.clip(whitener.transform(values) / tail, -z_clip, z_clip)
    return np.asarray(z, dtype=np.float64), tail


@dataclass(frozen=True)
class DailyEvidence:
    """Per usable day: the mean and variance statistics, hours used, and the day's index."""

    mean: FloatArray
    variance: FloatArray
    hours: IntArray
    day: IntArray  # day code of each usable day (0 = first day of the hourly grid)
    n_skipped: int  # days with some whitened hours, but fewer than min_hours


def day_codes(period_starts: pd.DatetimeIndex, timezone: str) -> IntArray:
    """Local calendar day of each period, as days since the first period's local day."""
    local = pd.DatetimeIndex(period_starts).tz_convert(timezone).tz_localize(None).normalize()
    first = local[0] if len(local) else pd.Timestamp(0)
    return np.asarray((local - first).days, dtype=np.int64)


def daily_evidence(z: FloatArray, days: IntArray, *, min_hours: int) -> DailyEvidence:
    """The daily statistics of the module docstring, before scaling and clipping."""
    finite = np.isfinite(z)
    zf, df = z[finite], days[finite]
    s = (np.abs(zf) - ABS_MEAN) / ABS_SD
    n_days = int(days.max()) + 1 if len(days) else 0
    hours = np.bincount(df, minlength=n_days)
    sum_z = np.bincount(df, weights=zf, minlength=n_days)
    sum_s = np.bincount(df, weights=s, minlength=n_days)
    ok = hours >= min_hours
    root = np.sqrt(np.maximum(hours[ok], 1))
    return DailyEvidence(
        mean=sum_z[ok] / root,
        variance=sum_s[ok] / root,
        hours=hours[ok].astype(np.int64),
        day=np.flatnonzero(ok).astype(np.int64),
        n_skipped=int(((hours > 0) & ~ok).sum()),
    )


def day_scale(values: FloatArray) -> float:
    """Robust σ (1.4826·MAD) of a reference's daily statistic, never below 1.

    Hourly values that stay correlated within a day after AR(1) whitening (weather, a
    daily pattern the model misses) make the daily sums wider than N(0, 1); dividing by
    the reference's own spread keeps the threshold honest. Never below 1: with 59
    reference days the estimate is ±12 %, and shrinking it would only add false alarms.
    """
    v = values[np.isfinite(values)]
    if len(v) < 2:
        return 1.0
    return max(1.0, MAD_TO_SIGMA * float(np.median(np.abs(v - np.median(v)))))


def standardised(values: FloatArray, scale: float, day_clip: float) -> FloatArray:
    """``values / scale`` limited to ``±day_clip``."""
    return np.asarray(np.clip(values / scale, -day_clip, day_clip), dtype=np.float64)


def split(x: FloatArray, lo: int, hi: int) -> int:
    """Index in ``[lo, hi]`` maximising ``S²/m`` of the finite values from it to ``hi``."""
    seg = x[lo : hi + 1]
    finite = np.isfinite(seg)
    vals = np.where(finite, seg, 0.0)
    tail_sum = np.cumsum(vals[::-1])[::-1]
    tail_n = np.cumsum(finite[::-1])[::-1]
    stat = np.where(tail_n > 0, tail_sum**2 / np.maximum(tail_n, 1), -1.0)
    stat[~finite] = -1.0  # a change starts at an observed hour
    return lo + int(np.argmax(stat))


@dataclass(frozen=True)
class CusumRun:
    """Where a CUSUM over daily evidence first alarmed (day codes), and its peak."""

    alarm_day: int | None  # day code
    start_day: int | None  # day code of the CUSUM excursion's first day
    direction: str | None
    statistic: float
    n: int


def run_days(detector: MeanCusum, values: FloatArray, day: IntArray) -> CusumRun:
    """Feed the daily ``values`` (one per usable day ``day``) until the first alarm."""
    peak = 0.0
    for i, value in enumerate(values):
        detector.update(float(value))
        peak = max(peak, detector.statistic)
        if detector.drift_detected:
            start = int(day[detector.change_point or 0])
            return CusumRun(int(day[i]), start, detector.direction, peak, detector.n_seen)
    return CusumRun(None, None, None, peak, detector.n_seen)


def day_end(day_start: pd.Timestamp, timezone: str) -> datetime:
    """The end (next local midnight, as UTC) of the local day ``day_start`` falls in."""
    local = day_start.tz_convert(timezone).tz_localize(None).normalize() + pd.Timedelta(days=1)
    end = local.tz_localize(timezone, ambiguous=False, nonexistent="shift_forward")
    return pd.Timestamp(end).tz_convert("UTC").to_pydatetime()
