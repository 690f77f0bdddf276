"""Weather-term guard: a change-point term is kept only if it survives a level shift.

A level shift that coincides with a season (a compressed-air leak from June) is fitted as
well by a cooling term as by a step, and the hourly t-statistics of that spurious term are
huge. Before a selected heating/cooling term is accepted, :func:`shift_robust_terms` tests
the residuals of the weather-free model (time of week + drivers) for one change in level
(:func:`enms.ml.window_check.cusum_test` on daily means). When one is found, the term
selection is repeated with the shift as extra regressors — a step, and the step times each
driver (a leak scales every driver's effect) — at CalTRACK's per-term p < 0.10, and only
the terms it still selects are kept; their balance points are then chosen again without
the shift, which the final model does not carry. Also owns the small least-squares helpers
the baseline's fit shares (:func:`ssr`, :func:`within_fit`, :func:`day_mean`).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

from enms.ml import changepoint as cp
from enms.ml import window_check
from enms.ml.localtime import local_days

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

SHIFT_CHECK_PVALUE = 0.10  # CalTRACK's per-term p-value


def ssr(gram: FloatArray, idx: list[int]) -> float:
    """Residual sum of squares of the target (index 0) on columns ``idx`` of a within-Gram."""
    if not idx:
        return float(gram[0, 0])
    g = gram[np.ix_(idx, idx)]
    b = gram[idx, 0]
    return float(gram[0, 0] - b @ np.linalg.solve(g, b))


def day_mean(index: pd.DatetimeIndex, t: FloatArray, timezone: str) -> FloatArray:
    """Mean of ``t`` over each row's local calendar day (NaN ignored; all-NaN day → NaN)."""
    _, codes = np.unique(local_days(index, timezone), return_inverse=True)
    ok = ~np.isnan(t)
    sums = np.bincount(codes, weights=np.where(ok, t, 0.0))
    cnt = np.bincount(codes, weights=ok.astype(np.float64))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray((sums / cnt)[codes], dtype=np.float64)


def within_fit(x: FloatArray, groups: IntArray, counts: FloatArray, d_idx: list[int]) -> FloatArray:
    """Fitted values of the target (column 0) on time-of-week levels and columns ``d_idx``."""
    sub = x[:, [0, *d_idx]]
    group_mean = cp.group_sums(groups, len(counts), sub) / np.maximum(counts, 1.0)[:, None]
    demeaned = sub - group_mean[groups]
    if not d_idx:
        return np.asarray(group_mean[groups, 0], dtype=np.float64)
    beta, *_ = np.linalg.lstsq(demeaned[:, 1:], demeaned[:, 0], rcond=None)
    return np.asarray(sub[:, 0] - (demeaned[:, 0] - demeaned[:, 1:] @ beta), dtype=np.float64)


def shift_robust_terms(
    *,
    w: FloatArray,
    transform: FloatArray,
    gram: FloatArray,
    groups: IntArray,
    counts: FloatArray,
    index: pd.DatetimeIndex,
    timezone: str,
    d_idx: list[int],
    grid: FloatArray,
    dof0: int,
    max_pvalue: float,
    alpha: float,
    chosen: tuple[int | None, int | None],
) -> tuple[int | None, int | None]:
    """The chosen (heating, cooling) grid indices, with terms a level shift explains dropped.

    ``w``/``transform``/``gram`` come from :func:`enms.ml.changepoint.hinge_gram`; ``alpha``
    is the change-point test's level.
    """

    level = w[:, 0] - within_fit(w, groups, counts, d_idx)
    days, codes = np.unique(local_days(index, timezone), return_inverse=True)
    daily = np.bincount(codes, weights=level) / np.bincount(codes)
    if len(days) < window_check.MIN_DAYS:
        return chosen
    _, p_value, k = window_check.cusum_test(daily)
    if p_value >= alpha:
        return chosen
    step = (codes >= k).astype(np.float64)
    n_d = len(d_idx)
    # the shift may be additive (a new load) or proportional (a leak: every driver's
    # effect grows), so the step enters alone and times each driver
    shift = np.column_stack([step, step[:, None] * w[:, d_idx]])
    # within-Gram of [y, drivers, shift, hinges] from the one we have: only the shift
    # block is new (demeaned shift · x equals demeaned shift · demeaned x)
    shift_dm = (
        shift
        - (cp.group_sums(groups, len(counts), shift) / np.maximum(counts, 1.0)[:, None])[groups]
    )
    z0 = transform.shape[1] - 2 * grid.size
    cols = [0, *d_idx, *range(z0, transform.shape[1])]
    cross = (shift_dm.T @ w) @ transform[:, cols]
    k0, k_sh = 1 + n_d, shift.shape[1]
    gram_s = np.empty((len(cols) + k_sh, len(cols) + k_sh))
    old = np.r_[0:k0, k0 + k_sh : len(cols) + k_sh]
    gram_s[np.ix_(old, old)] = gram[np.ix_(cols, cols)]
    gram_s[k0 : k0 + k_sh, old] = cross
    gram_s[old, k0 : k0 + k_sh] = cross.T
    gram_s[k0 : k0 + k_sh, k0 : k0 + k_sh] = shift_dm.T @ shift_dm
    k_s = k0 + k_sh
    h2, c2 = cp.select_balance_points(
        gram_s, list(range(1, k_s)), k_s, grid, dof0, SHIFT_CHECK_PVALUE
    )
    allow = (chosen[0] is not None and h2 is not None, chosen[1] is not None and c2 is not None)
    if allow == (chosen[0] is not None, chosen[1] is not None):
        return chosen
    if not any(allow):
        return None, None
    return cp.select_balance_points(gram, d_idx, z0, grid, dof0, max_pvalue, allow)
