"""Paired comparison of two versions on the same timestamps: the Diebold–Mariano test.

Both versions are shadow-scored on every reading, so their losses can be compared point by
point: ``d_t = loss_b − loss_a``. Energy models' errors are strongly autocorrelated (hours of
memory), so the variance of the mean of ``d`` needs a HAC estimator. Choices, each checked by
seeded simulations (``tests/experiments/test_stats_simulation.py``; A/A tests of 7–28 days,
1,000–2,000 runs each while choosing, |AR(1)| errors with a daily cycle in scale and a day-to-day
scale factor):

* **AR(1) prewhitening** (Andrews & Monahan 1992): the Bartlett kernel alone leaves a large
  downward bias of the long-run variance when ``d`` is this persistent — with a one-day
  bandwidth and HLN's t(n−1) reference, the false-winner rate was 9.7 % for hourly φ = 0.9
  and 9.2 % for 15-minute φ = 0.98. The residuals of an AR(1) fit get the Newey–West
  (Bartlett) estimate, recoloured by ``1/(1 − ρ)²`` (ρ clipped to ±0.97).
* **Bandwidth**: two days of points (or Andrews' AR(1) plug-in on the residuals if larger),
  so the window covers the errors' memory with margin; one day left the rate at 6.5 % for
  hourly φ = 0.9 over 28 days (2,000 runs), two days 5.7 %, three days 5.4 % at a further
  loss of power.
* **Small-sample correction**: instead of the Harvey–Leybourne–Newbold factor with t(n−1),
  which assumes a truncated kernel with ``h − 1`` lags, the fixed-b correction for the
  Bartlett kernel (Kiefer & Vogelsang 2005; Sun 2014's approximation): the statistic is
  multiplied by ``√(1 − b + b²/3)`` (the mean of the demeaned Bartlett estimator), ``b =
  (lag + 1)/n``, and referred to Student t with ``1.5/b`` degrees of freedom.

Simulated A/A false-winner rates at alpha 0.05 with the defaults (2,000 runs each): 5.2 %
(15-min φ = 0.95, 14 days), 5.7 % (hourly φ = 0.9, 28 days); plain Newey–West + HLN with a
one-day bandwidth: 6.6 %, 9.2 % (15-min φ = 0.98), 9.7 % (hourly φ = 0.9, 14 days) in 1,000
runs. Power for a B with 10 % lower MAE (300 runs): 20 % in 14 days of 15-minute readings and
27 % in 28 hourly days, against 10 % and 17 % for the unpaired blocked test on the same data.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
import pandas as pd

from enms.experiments.blocking import FloatArray, InsufficientData
from enms.experiments.difference import Difference, check_alpha, t_inference

BANDWIDTH_DAYS = 2
"""Default bandwidth of the HAC estimator, in days of readings (see the module docstring)."""

MAX_RHO = 0.97
"""Largest |lag-1 autocorrelation| the prewhitening uses (a near unit root would explode)."""


def andrews_bartlett_lag(d: FloatArray) -> int:
    """Andrews' (1991) AR(1) plug-in bandwidth of the Bartlett kernel for series ``d``.

    ``M = 1.1447·(α·n)^(1/3)``, ``α = 4ρ²/((1−ρ)²(1+ρ)²)``, ρ the lag-1 autocorrelation
    (clipped to ±0.97).

    >>> andrews_bartlett_lag(np.array([1.0, -1.0] * 50))
    0
    """
    n = d.size
    x = d - d.mean()
    denom = float(np.dot(x, x))
    if n < 3 or denom <= 0.0:
        return 0
    rho = float(np.clip(np.dot(x[1:], x[:-1]) / denom, -MAX_RHO, MAX_RHO))
    if rho <= 0.0:
        return 0
    a1 = 4.0 * rho**2 / ((1.0 - rho) ** 2 * (1.0 + rho) ** 2)
    return math.floor(1.1447 * math.pow(a1 * n, 1.0 / 3.0))


def newey_west_variance(d: FloatArray, lag: int) -> float:
    """Bartlett-kernel long-run variance ``γ₀ + 2Σ_{j≤lag}(1 − j/(lag+1))γⱼ`` (γ over n)."""
    n = d.size
    x = d - d.mean()
    s = float(np.dot(x, x)) / n
    for j in range(1, min(lag, n - 1) + 1):
        s += 2.0 * (1.0 - j / (lag + 1.0)) * float(np.dot(x[j:], x[:-j])) / n
    return s


def prewhitened_variance(
    d: FloatArray, lag: int | None, default_lag: int
) -> tuple[float, int, float]:
    """Long-run variance of ``d`` by AR(1) prewhitening + Bartlett: ``(lrv, lag, rho)``.

    Without ``lag``: the larger of ``default_lag`` and Andrews' plug-in on the residuals,
    at most half the residuals.
    """
    x = d - d.mean()
    denom = float(np.dot(x[:-1], x[:-1]))
    rho = float(np.clip(np.dot(x[1:], x[:-1]) / denom, -MAX_RHO, MAX_RHO)) if denom > 0 else 0.0
    resid = x[1:] - rho * x[:-1]
    used = lag if lag is not None else max(default_lag, andrews_bartlett_lag(resid))
    used = max(0, min(used, resid.size // 2))
    return newey_west_variance(resid, used) / (1.0 - rho) ** 2, used, rho


def _per_day(idx: pd.DatetimeIndex) -> int:
    if len(idx) < 2:
        return 0
    steps = np.diff(np.sort(idx.as_unit("ns").asi8))
    steps = steps[steps > 0]
    if steps.size == 0:
        return 0
    return round(pd.Timedelta("1D").value / float(np.median(steps)))


def diebold_mariano(
    ts: pd.DatetimeIndex,
    loss_a: npt.ArrayLike,
    loss_b: npt.ArrayLike,
    *,
    alpha: float = 0.05,
    lag: int | None = None,
) -> Difference:
    """Paired Diebold–Mariano test of mean loss B − A on the same timestamps.

    ``d_t = loss_b − loss_a`` in time order (non-finite pairs dropped); HAC variance of its
    mean by AR(1)-prewhitened Newey–West with ``lag`` lags (default: two days of points or
    Andrews' plug-in, the larger), fixed-b small-sample correction and Student t reference —
    see the module docstring for the choices and their simulated error rates.

    Raises :class:`InsufficientData` with fewer than 8 pairs.
    """
    check_alpha(alpha)
    la = np.asarray(loss_a, dtype=np.float64).reshape(-1)
    lb = np.asarray(loss_b, dtype=np.float64).reshape(-1)
    idx = pd.DatetimeIndex(ts)
    if not (len(idx) == la.size == lb.size):
        raise ValueError(f"{len(idx)} timestamps, {la.size} losses of A, {lb.size} of B")
    keep = np.isfinite(la) & np.isfinite(lb)
    kept = idx[keep]
    order = np.argsort(kept.as_unit("ns").asi8, kind="stable")
    d = (lb[keep] - la[keep])[order]
    n = d.size
    if n < 8:
        raise InsufficientData(f"{n} paired point(s); the paired test needs at least 8")
    lrv, lag_used, rho = prewhitened_variance(d, lag, BANDWIDTH_DAYS * _per_day(kept))
    b = (lag_used + 1.0) / n
    factor = math.sqrt(1.0 - b + b * b / 3.0)
    df = 1.5 / b
    estimate = float(np.mean(d))
    se = math.sqrt(max(lrv, 0.0) / n) / factor
    low, high, p = t_inference(estimate, se, df, alpha)
    base = float(np.mean(la[keep]))
    return Difference(
        method="Diebold–Mariano paired test (AR(1)-prewhitened Newey–West HAC, Bartlett "
        "kernel, fixed-b correction)",
        estimate=estimate,
        relative=estimate / base if base > 0 else None,
        ci_low=low,
        ci_high=high,
        p_value=p,
        n_a=n,
        n_b=n,
        n_units=n,
        settings={
            "lag": lag_used,
            "lag_rule": "given"
            if lag is not None
            else f"max({BANDWIDTH_DAYS} days of points, Andrews AR(1) on residuals)",
            "kernel": "bartlett",
            "prewhitening_rho": rho,
            "fixed_b": b,
            "small_sample_factor": factor,
            "df": df,
            "alpha": alpha,
            "standard_error": se,
            "points_dropped": int(la.size - n),
        },
    )
