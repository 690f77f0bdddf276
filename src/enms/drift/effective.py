"""Driver tests chosen by the effective sample size (pure; ``ENMS_DRIFT__SMALL_SAMPLE``).

Owns :func:`column_test`, the per-driver test of the drift check, and
:func:`effective_size`. :func:`enms.drift.two_sample.column_drift` picks its test by the
row count; driver series are persistent (15-minute temperatures have lag-1 autocorrelation
ρ ≈ 0.99), so a quarter of them holds a few dozen independent values, not 8,640. Here the
test follows the effective size ``n·(1−ρ)/(1+ρ)`` of the smaller side: at most
``small_sample`` → Kolmogorov–Smirnov with the effective sizes (the p-value of the
small-sample branch of ``column_drift``), beyond → ``column_drift``'s normalised
Wasserstein distance and PSI. The distances are reported alongside the KS test either way.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import stats

from enms.core.config import DriftSettings
from enms.drift.score import p_value_score
from enms.drift.two_sample import ColumnDrift, TestResult, column_drift


def _lag1(x: npt.NDArray[np.float64]) -> float:
    c = x - x.mean()
    denom = float(np.dot(c, c))
    return float(np.clip(np.dot(c[1:], c[:-1]) / denom, 0.0, 0.99)) if denom > 0 else 0.0


def effective_size(values: pd.Series) -> float:
    """``n·(1−ρ)/(1+ρ)`` of the finite values in time order (ρ: lag-1 autocorrelation,
    clipped to [0, 0.99], as :func:`enms.drift.two_sample.column_drift` adjusts KS).

    >>> import numpy as np, pandas as pd
    >>> round(effective_size(pd.Series(np.arange(100.0) % 2)))
    100
    """
    x = values.to_numpy(dtype=float)
    x = x[np.isfinite(x)]
    if len(x) < 3:
        return float(len(x))
    rho = _lag1(x)
    return len(x) * (1.0 - rho) / (1.0 + rho)


def _ks_effective(
    x: npt.NDArray[np.float64], y: npt.NDArray[np.float64], settings: DriftSettings
) -> TestResult:
    """KS on many rows that hold few independent values: the asymptotic p-value at the
    effective sizes (Stephens' correction), as the small-sample branch of ``column_drift``
    computes it; the exact distribution scipy would try for up to 10,000 rows costs a
    fraction of a second per column and is then discarded."""
    d = float(stats.ks_2samp(x, y, method="asymp").statistic)
    rx, ry = _lag1(x), _lag1(y)
    nx = max(len(x) * (1 - rx) / (1 + rx), 2.0)
    ny = max(len(y) * (1 - ry) / (1 + ry), 2.0)
    en = math.sqrt(nx * ny / (nx + ny))
    p = float(stats.kstwobign.sf((en + 0.12 + 0.11 / en) * d))
    return TestResult(
        method="ks",
        statistic=d,
        threshold=settings.alpha,
        p_value=p,
        drift_detected=p < settings.alpha,
        score=p_value_score(p, alpha=settings.alpha),
        settings={
            "alpha": settings.alpha,
            "small_sample": settings.small_sample,
            "chosen_by": "effective sample size",
            "lag1_reference": rx,
            "lag1_current": ry,
            "n_effective": (nx, ny),
        },
    )


def column_test(
    reference: pd.Series, current: pd.Series, column: str, label: str, settings: DriftSettings
) -> ColumnDrift:
    """The column's test, chosen by the *effective* sample size: a quarter of 15-minute
    temperatures holds a few dozen independent weather situations, not 8,640 values, so it
    is a small sample (KS with the effective sizes), not one on which KS is oversensitive."""
    found = column_drift(
        reference.to_numpy(dtype=float),
        current.to_numpy(dtype=float),
        column=column,
        reference_label=label,
        small_sample=settings.small_sample,
        ks_alpha=settings.alpha,
        wasserstein_threshold=settings.wasserstein_threshold,
        psi_threshold=settings.psi_threshold,
    )
    if found.decision.method != "wasserstein_normed":
        return found  # KS on few rows already, or not enough data
    n_effective = min(effective_size(reference), effective_size(current))
    if n_effective > settings.small_sample:
        return found
    x, y = reference.to_numpy(dtype=float), current.to_numpy(dtype=float)
    ks = _ks_effective(x[np.isfinite(x)], y[np.isfinite(y)], settings)
    # The large-sample distances stay in the answer, reported alongside.
    return replace(found, tests=(ks, *found.tests))
