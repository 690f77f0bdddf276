"""Fractional savings uncertainty (FSU) of cumulative savings against the energy baseline.

ASHRAE Guideline 14-2014, Annex B (the simplified formula for regression baselines with
autocorrelated residuals, eq. B-14; see also Reddy & Claridge 2000 and the excerpts collected
at https://simularis.github.io/understand_nmec/uncertainty_excerpts.html)::

    ΔS/S = 1.26 · t · CV · sqrt( (n/n′) · (1 + 2/n′) · (1/m) ) / F

- ``CV``: the baseline's CV(RMSE) (as a fraction) on its own training readings, with the
  ``n − p`` degrees of freedom Guideline 14 uses (``metrics_in_sample["summary"]["cv_rmse"]``);
- ``n``: the baseline's training readings; ``n′ = n·(1 − ρ)/(1 + ρ)`` with ``ρ`` the lag-1
  autocorrelation of the baseline's training residuals — stored with every baseline version
  (``summary["residual_autocorrelation"]``), so nothing is assumed;
- ``m``: the reporting readings (those the baseline predicted); ``F = S / E`` the savings
  over the expected energy of the same readings;
- ``t``: the two-sided Student-t quantile at **68 %** confidence (Guideline 14's criterion:
  a savings claim is supported when FSU < 50 % at 68 %) with ``n′ − p`` degrees of freedom;
- 1.26: Guideline 14's empirical correction factor.

The formula itself is :func:`enms.ml.metrics.fractional_savings_uncertainty` (the project's
one implementation, checked there against the IPMVP worked example). Guideline 14 writes
``(1 + 2/n′)``; with n in the thousands ``(1 + 2/n)`` is the same to four digits.

Multiplying by ``|S|`` the ``F`` cancels: the absolute uncertainty
``ΔS = 1.26 · t · CV · sqrt(...) · E`` is defined even when nothing was saved. The fraction
``ΔS/|S|`` is not: at ``F ≈ 0`` (|F| < :data:`MIN_FRACTION`) it is None with the reason. A
negative ``F`` (more energy than expected, e.g. a leak) gets the FSU of ``|S|``: the
uncertainty of the claimed excess consumption.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from enms.ml import metrics

CONFIDENCE = 0.68
"""Confidence level of ``t`` (Guideline 14's savings criterion)."""
MIN_FRACTION = 1e-6
"""Below this |F| the fractional uncertainty is reported undefined (it diverges as F → 0)."""
METHOD = (
    "ASHRAE Guideline 14-2014 Annex B (eq. B-14): 1.26·t·CV(RMSE)·sqrt((n/n')·(1+2/n')·(1/m))/F, "
    "n' = n(1-rho)/(1+rho), t two-sided at 68 %"
)


@dataclass(frozen=True)
class BaselineStats:
    """What the formula needs from a baseline version (its stored fit summary)."""

    cv_rmse_percent: float
    n: int
    n_params: int
    autocorrelation: float

    @classmethod
    def of(cls, metrics_in_sample: dict[str, Any]) -> BaselineStats | None:
        """From a version's ``metrics_in_sample`` (None when its summary lacks a figure)."""
        summary = metrics_in_sample.get("summary") or {}
        values = [summary.get(k) for k in ("cv_rmse", "n", "n_params")]
        if any(not isinstance(v, int | float) for v in values):
            return None
        rho = summary.get("residual_autocorrelation")
        return cls(
            cv_rmse_percent=float(values[0]),  # type: ignore[arg-type]
            n=int(values[1]),  # type: ignore[arg-type]
            n_params=int(values[2]),  # type: ignore[arg-type]
            autocorrelation=float(rho) if isinstance(rho, int | float) else 0.0,
        )


@dataclass(frozen=True)
class SavingsUncertainty:
    """Uncertainty of a savings figure: absolute (kWh) and fractional (percent of |S|)."""

    absolute_kwh: float | None
    fsu_percent: float | None
    reason: str | None = None


def relative_uncertainty(stats: BaselineStats, m: int) -> float:
    """``1.26 · t · CV · sqrt((n/n′)(1 + 2/n′)/m)``: ΔS as a fraction of the expected energy
    (the formula with ``F = 1``); raises :class:`enms.ml.metrics.MetricUndefined`."""
    percent = metrics.fractional_savings_uncertainty(
        savings_fraction=1.0,
        cv_rmse_percent=stats.cv_rmse_percent,
        n_baseline=stats.n,
        m_reporting=m,
        n_params=stats.n_params,
        autocorrelation=stats.autocorrelation,
        confidence=CONFIDENCE,
    )
    return percent / 100.0


def savings_uncertainty(
    *, stats: BaselineStats | None, savings_kwh: float, expected_kwh: float, m: int
) -> SavingsUncertainty:
    """The uncertainty of ``savings_kwh`` = expected − actual over ``m`` predicted readings
    whose expected energy sums to ``expected_kwh``."""
    if stats is None:
        return SavingsUncertainty(None, None, "the baseline stores no fit summary (CV, n, rho)")
    if m <= 0 or not expected_kwh > 0:
        return SavingsUncertainty(None, None, "no reporting readings with an expectation")
    try:
        u = relative_uncertainty(stats, m)
    except metrics.MetricUndefined as exc:
        return SavingsUncertainty(None, None, str(exc))
    absolute = u * expected_kwh
    fraction = savings_kwh / expected_kwh
    if not math.isfinite(fraction) or abs(fraction) < MIN_FRACTION:
        return SavingsUncertainty(
            absolute, None, "savings are ~0 (F ~ 0): the fractional uncertainty is undefined"
        )
    return SavingsUncertainty(absolute, 100.0 * absolute / abs(savings_kwh))
