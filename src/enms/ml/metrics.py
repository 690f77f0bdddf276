"""Metric formulas that judge energy models, and the catalogue that describes them.

This module owns the arithmetic of every performance figure enms records (R², RMSE, MAE,
MAPE, CV(RMSE), NMBE, precision/recall/F1, forecast skill, interval coverage, ASHRAE
Guideline 14 fractional savings uncertainty). The catalogue :data:`METRICS` declares each
metric as data (unit, direction, field thresholds) apart from the code that computes it.

Rules shared by every function:

* inputs are array-likes of equal, non-zero length without NaN; anything else raises
  :class:`MetricUndefined` naming the reason. A metric never returns a made-up ``0.0``
  for a window where it has no meaning (empty, zero mean, zero variance, no labels...).
* percent-valued metrics (``mape``, ``cv_rmse``, ``nmbe``) return percent (``12.5``
  means 12.5 %); ``interval_coverage`` and the classification scores return fractions.
* ``nmbe`` is ``100·Σ(y−ŷ)/(n·mean(y))``: positive means the model under-predicts.
* ``mape`` ignores actuals with ``|y| < 1 %`` of ``mean(|y|)`` (near-zero readings such
  as a machine switched off would otherwise dominate the average); it is undefined when
  nothing is left.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from scipy import stats

from enms.ml.base import ModelError

ArrayLike = npt.ArrayLike
FloatArray = npt.NDArray[np.float64]

MAPE_NEAR_ZERO_FRACTION = 0.01
"""Actuals with ``|y|`` below this fraction of ``mean(|y|)`` are left out of MAPE."""


class MetricUndefined(ModelError):
    """A metric has no meaningful value for the given data; ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class MetricSpec:
    """Description of one metric: what it measures and which values pass in the field."""

    name: str
    unit: str
    higher_is_better: bool | None
    description: str
    thresholds: dict[str, float] = field(default_factory=dict)
    """Named field thresholds (e.g. ``{"hourly": 30.0, "monthly": 15.0}``); empty if none."""


METRICS: dict[str, MetricSpec] = {
    spec.name: spec
    for spec in (
        MetricSpec(
            "r_squared",
            "ratio",
            True,
            "Coefficient of determination 1 − SS_res/SS_tot.",
            {"doe_enpi_min": 0.5},
        ),
        MetricSpec("rmse", "kWh", False, "Root mean squared error."),
        MetricSpec("mae", "kWh", False, "Mean absolute error."),
        MetricSpec(
            "mape",
            "%",
            False,
            "Mean absolute percentage error, ignoring actuals below 1 % of mean |y|.",
        ),
        MetricSpec(
            "cv_rmse",
            "%",
            False,
            "Coefficient of variation of the RMSE, 100·RMSE/mean(y) (ASHRAE Guideline 14).",
            {"hourly_max": 30.0, "monthly_max": 15.0},
        ),
        MetricSpec(
            "nmbe",
            "%",
            None,  # closer to zero is better; either sign is bias
            "Normalised mean bias error, 100·Σ(y−ŷ)/(n·mean(y)); |NMBE| is judged.",
            {"hourly_abs_max": 10.0, "monthly_abs_max": 5.0},
        ),
        MetricSpec("precision", "ratio", True, "Share of raised flags that are labelled."),
        MetricSpec("recall", "ratio", True, "Share of labelled anomalies that were flagged."),
        MetricSpec("f1", "ratio", True, "Harmonic mean of precision and recall."),
        MetricSpec(
            "skill",
            "ratio",
            True,
            "Forecast skill 1 − RMSE/RMSE_reference (reference: seasonal naive).",
            {"min": 0.0},
        ),
        MetricSpec(
            "interval_coverage",
            "ratio",
            None,  # should match the nominal level of the interval
            "Share of actuals inside the prediction interval [lower, upper].",
        ),
        MetricSpec(
            "fractional_savings_uncertainty",
            "%",
            False,
            "ASHRAE Guideline 14 uncertainty of a savings claim at 68 % confidence.",
            {"max": 50.0},
        ),
        MetricSpec("n", "count", None, "Number of points the metrics were computed on."),
    )
}


def _pair(actual: ArrayLike, predicted: ArrayLike) -> tuple[FloatArray, FloatArray]:
    y = np.asarray(actual, dtype=np.float64).ravel()
    p = np.asarray(predicted, dtype=np.float64).ravel()
    if y.size != p.size:
        raise MetricUndefined(f"mismatched lengths: {y.size} actual vs {p.size} predicted")
    if y.size == 0:
        raise MetricUndefined("empty window: no points to score")
    if np.isnan(y).any() or np.isnan(p).any():
        raise MetricUndefined("NaN in actual or predicted values; drop those rows first")
    return y, p


def _mean_for_normalising(y: FloatArray) -> float:
    mean = float(y.mean())
    if abs(mean) < 1e-12:
        raise MetricUndefined("mean of actuals is zero, so a normalised metric is undefined")
    return mean


def rmse(actual: ArrayLike, predicted: ArrayLike, *, n_params: int = 0) -> float:
    """Root mean squared error; ``n_params`` > 0 divides by ``n − p`` (ASHRAE 14).

    >>> rmse([1, 2, 3], [1, 2, 5])
    1.1547005383792515
    >>> rmse([], [])
    Traceback (most recent call last):
    ...
    enms.ml.metrics.MetricUndefined: empty window: no points to score
    """
    y, p = _pair(actual, predicted)
    dof = y.size - n_params
    if dof <= 0:
        raise MetricUndefined(f"{y.size} points do not exceed {n_params} model parameters")
    return math.sqrt(float(np.sum((y - p) ** 2)) / dof)


def mae(actual: ArrayLike, predicted: ArrayLike) -> float:
    """Mean absolute error.

    >>> mae([1, 2, 3], [2, 2, 1])
    1.0
    """
    y, p = _pair(actual, predicted)
    return float(np.mean(np.abs(y - p)))


def r_squared(actual: ArrayLike, predicted: ArrayLike) -> float:
    """Coefficient of determination ``1 − SS_res/SS_tot``.

    >>> round(r_squared([1, 2, 3, 4], [1.1, 1.9, 3.2, 3.8]), 4)
    0.98
    >>> r_squared([2, 2, 2], [2, 2, 2])
    Traceback (most recent call last):
    ...
    enms.ml.metrics.MetricUndefined: actuals have zero variance, so R² is undefined
    """
    y, p = _pair(actual, predicted)
    ss_tot = float(np.sum((y - y.mean()) ** 2))
    if ss_tot <= 0.0:
        raise MetricUndefined("actuals have zero variance, so R² is undefined")
    return 1.0 - float(np.sum((y - p) ** 2)) / ss_tot


def mape(actual: ArrayLike, predicted: ArrayLike) -> float:
    """Mean absolute percentage error in percent (near-zero actuals excluded, see module).

    >>> mape([100, 200, 0.5], [110, 180, 3.0])
    10.0
    >>> mape([0, 0], [1, 1])
    Traceback (most recent call last):
    ...
    enms.ml.metrics.MetricUndefined: all actuals are zero, so MAPE is undefined
    """
    y, p = _pair(actual, predicted)
    scale = float(np.mean(np.abs(y)))
    if scale == 0.0:
        raise MetricUndefined("all actuals are zero, so MAPE is undefined")
    keep = np.abs(y) >= MAPE_NEAR_ZERO_FRACTION * scale
    if not keep.any():
        raise MetricUndefined("no actual is above 1 % of mean |y|, so MAPE is undefined")
    return 100.0 * float(np.mean(np.abs((y[keep] - p[keep]) / y[keep])))


def cv_rmse(actual: ArrayLike, predicted: ArrayLike, *, n_params: int = 0) -> float:
    """CV(RMSE) in percent: ``100·RMSE/mean(y)`` (RMSE over ``n − n_params``).

    >>> round(cv_rmse([10, 20, 30], [12, 18, 30]), 3)
    8.165
    >>> cv_rmse([-1, 1], [0, 0])
    Traceback (most recent call last):
    ...
    enms.ml.metrics.MetricUndefined: mean of actuals is zero, so a normalised metric is undefined
    """
    y, p = _pair(actual, predicted)
    mean = _mean_for_normalising(y)
    return 100.0 * rmse(y, p, n_params=n_params) / mean


def nmbe(actual: ArrayLike, predicted: ArrayLike) -> float:
    """Normalised mean bias error in percent: ``100·Σ(y−ŷ)/(n·mean(y))``.

    The one NMBE definition of enms (DESIGN.md), used for in-sample, held-out and ASHRAE
    Guideline 14 figures alike: the bias is divided by ``n`` (ASHRAE's ``n − p`` applies
    to CV(RMSE) only; ASHRAE 14-2002 also used ``n − p`` for NMBE, 14-2014 uses ``n``).
    Positive values mean the model under-predicts.

    >>> nmbe([10, 20, 30], [9, 19, 29])
    5.0
    """
    y, p = _pair(actual, predicted)
    mean = _mean_for_normalising(y)
    return 100.0 * float(np.sum(y - p)) / (y.size * mean)


def _labels(actual: ArrayLike, predicted: ArrayLike) -> tuple[int, int, int]:
    y, p = _pair(actual, predicted)
    a, f = y != 0, p != 0
    return int(np.sum(a & f)), int(np.sum(~a & f)), int(np.sum(a & ~f))


def precision(actual: ArrayLike, predicted: ArrayLike) -> float:
    """Share of flagged points that carry a positive label.

    >>> precision([1, 0, 1, 0], [1, 1, 0, 0])
    0.5
    >>> precision([1, 0], [0, 0])
    Traceback (most recent call last):
    ...
    enms.ml.metrics.MetricUndefined: no point was flagged, so precision is undefined
    """
    tp, fp, _ = _labels(actual, predicted)
    if tp + fp == 0:
        raise MetricUndefined("no point was flagged, so precision is undefined")
    return tp / (tp + fp)


def recall(actual: ArrayLike, predicted: ArrayLike) -> float:
    """Share of positive labels that were flagged.

    >>> recall([1, 0, 1, 0], [1, 1, 0, 0])
    0.5
    >>> recall([0, 0], [1, 0])
    Traceback (most recent call last):
    ...
    enms.ml.metrics.MetricUndefined: no positive labels in the window, so recall is undefined
    """
    tp, _, fn = _labels(actual, predicted)
    if tp + fn == 0:
        raise MetricUndefined("no positive labels in the window, so recall is undefined")
    return tp / (tp + fn)


def f1(actual: ArrayLike, predicted: ArrayLike) -> float:
    """F1 score ``2·TP/(2·TP+FP+FN)``; undefined without positive labels.

    >>> round(f1([1, 1, 0, 0], [1, 0, 1, 0]), 3)
    0.5
    >>> f1([1, 1], [0, 0])
    0.0
    """
    tp, fp, fn = _labels(actual, predicted)
    if tp + fn == 0:
        raise MetricUndefined("no positive labels in the window, so F1 is undefined")
    return 2 * tp / (2 * tp + fp + fn)


def forecast_skill(
    actual: ArrayLike, predicted: ArrayLike, reference_predicted: ArrayLike
) -> float:
    """Skill ``1 − RMSE/RMSE_ref`` against a reference forecast (e.g. seasonal naive).

    >>> forecast_skill([1, 2, 3], [1, 2, 3], [2, 3, 4])
    1.0
    >>> forecast_skill([1, 2, 3], [2, 3, 4], [1, 2, 3])
    Traceback (most recent call last):
    ...
    enms.ml.metrics.MetricUndefined: reference forecast is perfect (RMSE 0), so skill is undefined
    """
    ref = rmse(actual, reference_predicted)
    if ref == 0.0:
        raise MetricUndefined("reference forecast is perfect (RMSE 0), so skill is undefined")
    return 1.0 - rmse(actual, predicted) / ref


def interval_coverage(actual: ArrayLike, lower: ArrayLike, upper: ArrayLike) -> float:
    """Fraction of actuals inside the closed interval ``[lower, upper]``.

    >>> interval_coverage([1, 2, 3, 4], [0, 0, 0, 5], [2, 2, 2, 6])
    0.5
    """
    y, lo = _pair(actual, lower)
    _, hi = _pair(actual, upper)
    if np.any(lo > hi):
        raise MetricUndefined("some lower bounds exceed their upper bounds")
    return float(np.mean((y >= lo) & (y <= hi)))


def lag1_autocorrelation(residuals: ArrayLike) -> float:
    """Lag-1 autocorrelation of a residual series (used by the savings uncertainty).

    >>> lag1_autocorrelation([1, -1, 1, -1, 1, -1])
    -0.8333333333333334
    """
    r = np.asarray(residuals, dtype=np.float64).ravel()
    if r.size < 3 or np.isnan(r).any():
        raise MetricUndefined("need at least 3 residuals without NaN for an autocorrelation")
    d = r - r.mean()
    denom = float(np.dot(d, d))
    if denom == 0.0:
        raise MetricUndefined("residuals have zero variance, so autocorrelation is undefined")
    return float(np.dot(d[1:], d[:-1])) / denom


def fractional_savings_uncertainty(
    *,
    savings_fraction: float,
    cv_rmse_percent: float,
    n_baseline: int,
    m_reporting: int,
    n_params: int,
    autocorrelation: float = 0.0,
    confidence: float = 0.68,
    scale: float = 1.26,
    parameter_term: bool = True,
    t_value: float | None = None,
) -> float:
    """ASHRAE Guideline 14 fractional savings uncertainty, in percent.

    ``ΔE/E = 1.26 · t · CV / F · sqrt((n/n′)·(1 + 2/n′)·(1/m))`` with the effective number
    of baseline points ``n′ = n·(1−ρ)/(1+ρ)`` (lag-1 autocorrelation ``ρ`` of the baseline
    residuals) and ``t`` the two-sided Student-t quantile at ``confidence`` with ``n′ − p``
    degrees of freedom. ``CV`` is the baseline CV(RMSE) as a fraction; ``F`` the expected
    savings fraction; ``m`` the number of reporting-period points. Savings claims pass
    at < 50 %.

    The defaults are Guideline 14's form. ``scale`` is its empirical factor 1.26;
    ``parameter_term=False`` drops the ``(1 + 2/n′)`` factor for the uncertainty of the fitted
    parameters and ``t_value`` replaces the Student-t quantile by a tabulated value: with
    ``scale=1``, no autocorrelation and no parameter term the formula is the IPMVP one
    (``t · SE·√m / savings``), checked in the tests against the worked example of EVO 10100-1.

    >>> round(fractional_savings_uncertainty(savings_fraction=0.1, cv_rmse_percent=10,
    ...     n_baseline=8760, m_reporting=8760, n_params=3), 3)
    1.339
    >>> fractional_savings_uncertainty(savings_fraction=0.0, cv_rmse_percent=10,
    ...     n_baseline=100, m_reporting=100, n_params=3)
    Traceback (most recent call last):
    ...
    enms.ml.metrics.MetricUndefined: savings fraction must be positive, got 0.0
    """
    if not savings_fraction > 0:
        raise MetricUndefined(f"savings fraction must be positive, got {savings_fraction}")
    if not -1.0 < autocorrelation < 1.0:
        raise MetricUndefined(f"autocorrelation must lie in (-1, 1), got {autocorrelation}")
    if m_reporting <= 0:
        raise MetricUndefined("the reporting period has no points")
    if not (math.isfinite(cv_rmse_percent) and cv_rmse_percent >= 0):
        raise MetricUndefined(
            f"CV(RMSE) must be a finite non-negative percent, got {cv_rmse_percent}"
        )
    n_eff = n_baseline * (1.0 - autocorrelation) / (1.0 + autocorrelation)
    dof = n_eff - n_params
    if dof <= 1:
        raise MetricUndefined(
            f"effective baseline size {n_eff:.1f} leaves no degrees of freedom for {n_params} "
            "parameters"
        )
    t = float(stats.t.ppf(0.5 + confidence / 2.0, dof)) if t_value is None else t_value
    cv = cv_rmse_percent / 100.0
    ratio = (n_baseline / n_eff) * ((1.0 + 2.0 / n_eff) if parameter_term else 1.0) / m_reporting
    return 100.0 * scale * t * cv / savings_fraction * math.sqrt(ratio)


@dataclass(frozen=True)
class MetricReport:
    """Metric values by key, with ``None`` and a reason in ``undefined`` where undefined."""

    values: dict[str, float | None]
    undefined: dict[str, str]


def regression_report(
    actual: ArrayLike, predicted: ArrayLike, *, n_params: int | None = None
) -> MetricReport:
    """``r_squared, rmse, mae, mape, cv_rmse, nmbe, n`` for one window, never raising.

    ``n_params`` (when given) applies the ASHRAE 14 ``n − p`` denominator to ``cv_rmse``;
    ``nmbe`` always divides by ``n`` (see :func:`nmbe`).

    >>> rep = regression_report([10, 20, 30], [12, 18, 30])
    >>> rep.values["n"], round(rep.values["cv_rmse"] or 0, 3), rep.undefined
    (3.0, 8.165, {})
    >>> regression_report([], []).undefined["rmse"]
    'empty window: no points to score'
    """
    p = n_params or 0
    funcs: dict[str, Callable[[], float]] = {
        "r_squared": lambda: r_squared(actual, predicted),
        "rmse": lambda: rmse(actual, predicted),
        "mae": lambda: mae(actual, predicted),
        "mape": lambda: mape(actual, predicted),
        "cv_rmse": lambda: cv_rmse(actual, predicted, n_params=p),
        "nmbe": lambda: nmbe(actual, predicted),
    }
    values: dict[str, float | None] = {}
    undefined: dict[str, str] = {}
    for key, func in funcs.items():
        try:
            values[key] = func()
        except MetricUndefined as exc:
            values[key] = None
            undefined[key] = exc.reason
    values["n"] = float(np.asarray(actual).size)
    return MetricReport(values=values, undefined=undefined)
