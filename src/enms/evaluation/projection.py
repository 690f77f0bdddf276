"""Where a metric is heading: a robust trend over its recent points and its threshold crossing.

Pure (no database). The trend is the Theil–Sen slope (median of pairwise slopes,
``scipy.stats.theilslopes``) with its 95 % confidence interval (from Kendall's τ, valid for
independent noise) over the points of the last ``ENMS_MONITORING__PROJECTION_WINDOW_DAYS``
days of the series (at least ``ENMS_MONITORING__PROJECTION_MIN_POINTS`` of them, at most the
:data:`MAX_POINTS` most recent: the estimator is quadratic in the points). The line
is projected ``ENMS_MONITORING__PROJECTION_HORIZON_DAYS`` past the last point; the band uses
the slope's CI, pivoting at the median point (the trend's uncertainty, not a single row's).

A crossing of the degradation threshold (:func:`enms.evaluation.degradation.threshold`) is
reported only when the slope's whole CI points towards degradation (a one-sided test at
2.5 %): a flat, noisy metric never gets a crossing date from a slope indistinguishable from
zero. ``crossing_earliest``/``crossing_latest`` come from the CI's steep and shallow ends;
None where that line does not reach the threshold within the horizon.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import numpy.typing as npt
from scipy import stats

from enms.evaluation.degradation import Threshold

CONFIDENCE = 0.95
MAX_POINTS = 300
DAY_SECONDS = 86_400.0


@dataclass(frozen=True)
class ProjectionResult:
    """The fitted trend of one metric and its projection (see the module)."""

    method: str
    window_start: datetime
    window_end: datetime
    n_points: int
    slope_per_day: float
    slope_ci: tuple[float, float]
    confidence: float
    horizon_days: float
    projected_at: datetime
    projected_value: float
    projected_low: float
    projected_high: float
    threshold: Threshold | None
    significant_towards_degradation: bool | None
    already_degraded: bool | None
    crossing_at: datetime | None
    crossing_earliest: datetime | None
    crossing_latest: datetime | None
    note: str


def project(
    times: list[datetime],
    values: npt.ArrayLike,
    *,
    threshold: Threshold | None,
    window_days: float,
    horizon_days: float,
    min_points: int,
) -> tuple[ProjectionResult | None, str | None]:
    """Fit and project the points of the last ``window_days`` before the last time.

    Returns the projection, or None and the reason.

    >>> from datetime import UTC
    >>> t0 = datetime(2025, 1, 1, tzinfo=UTC)
    >>> ts = [t0 + timedelta(days=d) for d in range(10)]
    >>> th = Threshold("rmse", 12.0, True, 10.0, "")
    >>> p, why = project(ts, [10 + 0.1 * d for d in range(10)], threshold=th,
    ...                  window_days=14, horizon_days=30, min_points=8)
    >>> round(p.slope_per_day, 3), p.crossing_at.date().isoformat()
    (0.1, '2025-01-21')
    >>> project(ts[:3], [1, 2, 3], threshold=None, window_days=14, horizon_days=30,
    ...         min_points=8)[1]
    'only 3 points in the last 14 days (need 8)'
    """
    y_all = np.asarray(values, dtype=np.float64)
    if len(times) == 0:
        return None, "no points"
    end = times[-1]
    start = end - timedelta(days=window_days)
    keep = np.array([t >= start for t in times]) & np.isfinite(y_all)
    if keep.sum() > MAX_POINTS:  # Theil-Sen is O(n²): the most recent MAX_POINTS
        keep[: np.flatnonzero(keep)[-MAX_POINTS]] = False
    n = int(keep.sum())
    if n < min_points:
        return None, f"only {n} points in the last {window_days:g} days (need {min_points})"
    x = np.array(
        [(t - end).total_seconds() / DAY_SECONDS for t, k in zip(times, keep, strict=True) if k]
    )
    y = y_all[keep]
    if np.ptp(x) == 0:
        return None, "all points share one time"
    fit = stats.theilslopes(y, x, alpha=CONFIDENCE)
    slope, low, high = float(fit.slope), float(fit.low_slope), float(fit.high_slope)
    xm, ym = float(np.median(x)), float(np.median(y))
    intercept = ym - slope * xm  # value of the trend line at the last point (x = 0)

    def line(s: float, at: float) -> float:
        return ym + s * (at - xm)

    at_h = horizon_days
    ends = (line(low, at_h), line(high, at_h))
    result_threshold, significant, already = threshold, None, None
    crossing = earliest = latest = None
    note = "slope CI excludes zero" if low > 0 or high < 0 else "slope CI includes zero"
    if threshold is not None:
        target, worse_up = _target(threshold, intercept, slope)
        already = bool(threshold.degraded(intercept))
        significant = (low > 0) if worse_up else (high < 0)
        if already:
            note = "the trend line is past the threshold already"
        elif significant:
            steep, shallow = (high, low) if worse_up else (low, high)
            crossing = _cross(end, ym, xm, slope, target, horizon_days)
            earliest = _cross(end, ym, xm, steep, target, horizon_days)
            latest = _cross(end, ym, xm, shallow, target, horizon_days)
            note = (
                "trending towards the threshold (slope CI excludes zero)"
                if crossing
                else f"trending towards the threshold, not crossing within {horizon_days:g} days"
            )
        else:
            note = "no significant trend towards the threshold"
    return (
        ProjectionResult(
            method=f"Theil-Sen slope, {int(CONFIDENCE * 100)} % CI (scipy.stats.theilslopes), "
            f"points of the last {window_days:g} days (at most the {MAX_POINTS} most recent)",
            window_start=start,
            window_end=end,
            n_points=n,
            slope_per_day=slope,
            slope_ci=(low, high),
            confidence=CONFIDENCE,
            horizon_days=horizon_days,
            projected_at=end + timedelta(days=horizon_days),
            projected_value=intercept + slope * at_h,
            projected_low=min(ends),
            projected_high=max(ends),
            threshold=result_threshold,
            significant_towards_degradation=significant,
            already_degraded=already,
            crossing_at=crossing,
            crossing_earliest=earliest,
            crossing_latest=latest,
            note=note,
        ),
        None,
    )


def _target(threshold: Threshold, level: float, slope: float) -> tuple[float, bool]:
    """The value the line must reach, and whether degradation lies upwards."""
    if threshold.metric == "nmbe":  # |nmbe| is judged: the bound on the side it heads to
        upwards = slope > 0 if slope != 0 else level >= 0
        return (threshold.value if upwards else -threshold.value), upwards
    return threshold.value, threshold.above


def _cross(
    end: datetime, ym: float, xm: float, slope: float, target: float, horizon: float
) -> datetime | None:
    if slope == 0:
        return None
    at = xm + (target - ym) / slope
    if not 0 < at <= horizon:
        return None
    return end + timedelta(days=at)
