"""Training-window check: is a baseline's training window homogeneous?

A baseline fitted across a level shift (a leak, a new product mix) silently absorbs it into
its coefficients, often as a spurious temperature term when the shift coincides with a
season. This module tests the fitted model's in-sample residuals, in time order, for one
change in level:

* residuals are averaged per local calendar day (days with at least half of their
  intervals), which removes the intra-day structure and makes the series short;
* the CUSUM process of the daily means, ``S_k = Σ_{i≤k} (r_i − r̄)``, is scaled by the
  *long-run* standard deviation ``σ̂_LR·√n`` (Bartlett-kernel / Newey–West estimate with
  bandwidth ``⌊4·(n/100)^(2/9)⌋``, so autocorrelated residuals — weather fronts, weekly
  habits — do not pass for a change);
* the statistic ``max_k |S_k|/(σ̂_LR·√n)`` is compared with the supremum of a Brownian
  bridge (Kolmogorov distribution), its asymptotic law under "no change" for a weakly
  dependent stationary series (Ploberger & Krämer's OLS-CUSUM test);
* the change point is the day after ``argmax_k |S_k|``; the shift is the difference of the
  mean residual per interval after and before it.

A change is reported when ``p < alpha`` *and* the shift is at least ``min_shift_percent`` of
the mean energy before it (a statistically detectable but immaterial drift of a fraction of
a percent is not a reason to refuse a baseline).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import stats

from enms.ml.localtime import local_days, local_midnight

FloatArray = npt.NDArray[np.float64]

METHOD = "cusum_daily_mean_residuals_brownian_bridge"
ALPHA = 0.01
MIN_SHIFT_PERCENT = 2.0
MIN_DAYS = 28


def long_run_variance(x: FloatArray) -> float:
    """Bartlett-kernel (Newey–West) long-run variance of ``x`` around its mean.

    >>> round(long_run_variance(np.array([1.0, -1.0] * 50)), 3)  # variance 1, anti-persistent
    0.2
    """
    n = x.size
    d = x - x.mean()
    bandwidth = math.floor(4.0 * (n / 100.0) ** (2.0 / 9.0))
    value = float(d @ d) / n
    for lag in range(1, min(bandwidth, n - 1) + 1):
        weight = 1.0 - lag / (bandwidth + 1.0)
        value += 2.0 * weight * float(d[lag:] @ d[:-lag]) / n
    return value


def cusum_test(series: FloatArray) -> tuple[float, float, int]:
    """``(statistic, p_value, k)`` of the Brownian-bridge CUSUM test on ``series``.

    ``k`` is the number of points before the estimated change.

    >>> rng = np.random.default_rng(0)
    >>> stat, p, k = cusum_test(np.r_[rng.normal(0, 1, 100), rng.normal(1.5, 1, 100)])
    >>> p < 1e-4, k
    (True, 100)
    """
    n = series.size
    s = np.cumsum(series - series.mean())[:-1]
    k = int(np.argmax(np.abs(s))) + 1
    lrv = long_run_variance(series)
    if not lrv > 0.0:
        return 0.0, 1.0, k
    statistic = float(np.abs(s[k - 1]) / math.sqrt(lrv * n))
    return statistic, float(stats.kstwobign.sf(statistic)), k


def training_window_check(
    *,
    index: pd.DatetimeIndex,
    residuals: FloatArray,
    actual: FloatArray,
    timezone: str,
    alpha: float = ALPHA,
    min_shift_percent: float = MIN_SHIFT_PERCENT,
) -> dict[str, Any]:
    """The ``training_window_check`` report of a fitted baseline (JSON-able).

    ``index`` (UTC), ``residuals`` (actual − fitted) and ``actual`` are the rows the model
    was fitted on. Keys: ``checked``, ``change_detected``, ``change_point`` (ISO 8601, UTC,
    local midnight of the first day after the change), ``shift_kwh`` (per interval),
    ``shift_percent``, ``method``, ``statistic``, ``p_value``, ``alpha``,
    ``min_shift_percent``, ``n`` (days tested). With fewer than ``MIN_DAYS`` days the test
    is not run: ``checked`` is False and ``change_detected`` None (not checked ≠ no change).
    """
    days, codes = np.unique(local_days(index, timezone), return_inverse=True)
    counts = np.bincount(codes, minlength=len(days)).astype(np.float64)
    sums = np.bincount(codes, weights=residuals, minlength=len(days))
    keep = counts >= 0.5 * float(np.median(counts))
    report: dict[str, Any] = {
        "checked": False,
        "change_detected": None,
        "change_point": None,
        "shift_kwh": None,
        "shift_percent": None,
        "method": METHOD,
        "statistic": None,
        "p_value": None,
        "alpha": alpha,
        "min_shift_percent": min_shift_percent,
        "n": int(keep.sum()),
    }
    if int(keep.sum()) < MIN_DAYS:
        report["reason"] = f"{int(keep.sum())} days with data; the test needs {MIN_DAYS}"
        return report
    daily = sums[keep] / counts[keep]
    statistic, p_value, k = cusum_test(daily)
    change_day = local_midnight(int(days[keep][k]), timezone)
    after = index >= change_day
    shift = float(residuals[after].mean() - residuals[~after].mean())
    level = float(actual[~after].mean())
    percent = 100.0 * shift / level if level != 0.0 else math.inf
    detected = bool(p_value < alpha and abs(percent) >= min_shift_percent)
    report |= {
        "checked": True,
        "change_detected": detected,
        "change_point": change_day.isoformat(),
        "shift_kwh": shift,
        "shift_percent": percent,
        "statistic": statistic,
        "p_value": p_value,
    }
    return report
