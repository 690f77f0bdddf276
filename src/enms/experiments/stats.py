"""Statistics of A/B tests between two model versions (pure numpy/scipy/pandas, no database).

The public API the A/B stage uses:

* :func:`losses` — per-point loss of a primary metric; :func:`summarise` — one arm's metrics.
* :func:`compare_arms` — the A/B test proper, on the readings each arm was assigned: a
  **day-blocked t-test** on the per-day differences of the arms' mean losses
  (:mod:`enms.experiments.blocking` explains why this is robust to autocorrelated errors).
* :func:`diebold_mariano` (:mod:`enms.experiments.paired`) — the paired second opinion on the
  timestamps both versions scored (both are shadow-scored on every reading): AR(1)-prewhitened
  Newey–West (Bartlett) HAC variance of the loss differential, fixed-b small-sample
  correction, Student t reference.
* :func:`required_per_arm` (:mod:`enms.experiments.power`) — the sample :func:`compare_arms`
  needs for a given power; :func:`sequential_p_value` (:mod:`enms.experiments.sequential`) —
  an always-valid p-value for deciding before the planned end.
* :func:`srm` — sample-ratio mismatch against the configured split; :func:`verdict`.

Error rates, checked by seeded simulations in ``tests/experiments/test_stats_*.py``, are in
the docstrings of the functions. The settings (``settings.ab_test``: alpha, power,
minimum_detectable_effect, srm_alpha) are passed in by the caller.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import stats as sps

from enms.experiments.blocking import (
    BlockedDifferences,
    FloatArray,
    InsufficientData,
    block_differences,
)
from enms.experiments.difference import Difference, check_alpha, t_inference
from enms.experiments.paired import diebold_mariano
from enms.experiments.power import required_per_arm
from enms.experiments.sequential import sequential_p_value
from enms.ml import metrics as m

__all__ = [
    "LOSS_METRICS",
    "ArmSummary",
    "Difference",
    "InsufficientData",
    "compare_arms",
    "diebold_mariano",
    "losses",
    "required_per_arm",
    "sequential_p_value",
    "srm",
    "summarise",
    "verdict",
]

LOSS_METRICS = ("mae", "rmse", "energy_kwh", "cost")
"""Primary metrics an A/B test can decide on (lower is better for all)."""


def losses(
    metric: str,
    actual: npt.ArrayLike,
    predicted: npt.ArrayLike,
    *,
    price: float | npt.ArrayLike | None = None,
) -> FloatArray:
    """Per-point loss whose mean is the metric's basis (lower is better).

    ``mae`` and ``energy_kwh``: absolute error (kWh); ``rmse``: squared error (the test
    compares mean squared errors; RMSE is its square root, so the direction agrees);
    ``cost``: absolute error times ``price`` (currency per kWh, scalar or per point), which is
    required for it.

    >>> losses("rmse", [1.0, 2.0], [2.0, 0.0]).tolist()
    [1.0, 4.0]
    >>> losses("cost", [1.0, 2.0], [2.0, 0.0], price=0.2).tolist()
    [0.2, 0.4]
    """
    if metric not in LOSS_METRICS:
        raise ValueError(f"metric {metric!r} is not one of {', '.join(LOSS_METRICS)}")
    y = np.asarray(actual, dtype=np.float64).reshape(-1)
    p = np.asarray(predicted, dtype=np.float64).reshape(-1)
    if y.shape != p.shape:
        raise ValueError(f"{y.size} actuals for {p.size} predictions")
    err = y - p
    if metric == "rmse":
        return err * err
    out = np.abs(err)
    if metric == "cost":
        if price is None:
            raise ValueError("metric 'cost' needs a price (currency per kWh)")
        out = out * np.asarray(price, dtype=np.float64)
    return out


@dataclass(frozen=True)
class ArmSummary:
    """One arm's metrics on its scored points (None: undefined there, e.g. no points)."""

    n: int
    mae: float | None
    rmse: float | None
    mape: float | None
    cv_rmse: float | None
    nmbe: float | None
    mean_actual: float | None


def _metric(fn: Any, y: FloatArray, p: FloatArray) -> float | None:
    try:
        return float(fn(y, p))
    except m.MetricUndefined:
        return None


def summarise(actual: npt.ArrayLike, predicted: npt.ArrayLike) -> ArmSummary:
    """Per-arm figures with :mod:`enms.ml.metrics` formulas (percent for MAPE, CV(RMSE),
    NMBE; MAPE leaves out actuals below 1 % of mean |y|). Non-finite pairs are ignored.

    >>> summarise([10.0, 20.0], [12.0, 18.0]).mae
    2.0
    >>> summarise([], []).mae is None
    True
    """
    y = np.asarray(actual, dtype=np.float64).reshape(-1)
    p = np.asarray(predicted, dtype=np.float64).reshape(-1)
    keep = np.isfinite(y) & np.isfinite(p)
    y, p = y[keep], p[keep]
    if y.size == 0:
        return ArmSummary(0, None, None, None, None, None, None)
    return ArmSummary(
        n=int(y.size),
        mae=_metric(m.mae, y, p),
        rmse=_metric(m.rmse, y, p),
        mape=_metric(m.mape, y, p),
        cv_rmse=_metric(m.cv_rmse, y, p),
        nmbe=_metric(m.nmbe, y, p),
        mean_actual=float(np.mean(y)),
    )


def compare_arms(
    ts_a: pd.DatetimeIndex,
    loss_a: npt.ArrayLike,
    ts_b: pd.DatetimeIndex,
    loss_b: npt.ArrayLike,
    *,
    alpha: float = 0.05,
    block: str = "1D",
) -> Difference:
    """The A/B test: day-blocked t-test of the arms' mean losses (different readings per arm).

    Per block (a UTC day by default) ``d_k = mean(loss_b) − mean(loss_a)``; the estimate is
    the mean of the ``d_k`` over the ``K`` blocks where both arms scored, its standard error
    ``sd(d)/√K``, the reference Student t with the Welch–Satterthwaite degrees of freedom of
    :meth:`BlockedDifferences.effective_df` (at most ``K − 1``: noisier days count less in
    the spread's degrees of freedom). ``relative`` is the estimate over the mean of A's
    per-block mean losses. Blocking also removes the day-to-day level of the losses (weather,
    production) from the comparison.

    Simulated (seeded, ``tests/experiments/test_stats_simulation.py``; 1,000–2,000 runs while
    choosing): A/A false-winner rates at alpha 0.05 of 3.6–5.7 % across 15-minute and hourly
    |AR(1)| errors (φ 0.85–0.95, 14–28 days, daily scale cycle, day-to-day scale) — with
    ``K − 1`` df they were 4.7–7.2 %; a 10 % lower MAE of B is found with ≥ 80 % power at the
    size :func:`required_per_arm` asks for.

    Raises :class:`InsufficientData` with fewer than 2 blocks where both arms scored.

    >>> idx = pd.date_range("2025-01-01", periods=8, freq="6h", tz="UTC")
    >>> d = compare_arms(idx[0::2], [1.0, 1.1, 0.9, 1.0], idx[1::2], [0.8, 0.9, 0.85, 0.8])
    >>> round(d.estimate, 3), d.n_units
    (-0.162, 2)
    """
    check_alpha(alpha)
    bd: BlockedDifferences = block_differences(ts_a, loss_a, ts_b, loss_b, block=block)
    k = bd.n_blocks
    if k < 2:
        raise InsufficientData(
            f"{k} block(s) of {block} where both arms scored; the test needs at least 2"
        )
    d = bd.diffs
    estimate = float(np.mean(d))
    se = float(np.std(d, ddof=1) / math.sqrt(k))
    df = bd.effective_df()
    low, high, p = t_inference(estimate, se, df, alpha)
    base = float(np.mean(bd.mean_a))
    return Difference(
        method=f"blocked t-test on per-block differences of arm mean losses (block {block})",
        estimate=estimate,
        relative=estimate / base if base > 0 else None,
        ci_low=low,
        ci_high=high,
        p_value=p,
        n_a=bd.n_a,
        n_b=bd.n_b,
        n_units=k,
        settings={
            "block": block,
            "df": df,
            "df_rule": "Welch–Satterthwaite over blocks, variance ∝ (1/n_a + 1/n_b)·level²",
            "alpha": alpha,
            "standard_error": se,
            "blocks_dropped": bd.blocks_dropped,
            "points_dropped": bd.points_dropped,
        },
    )


def srm(
    n_a: int, n_b: int, split: float, *, alpha: float = 0.001, points_per_unit: float = 1.0
) -> dict[str, Any]:
    """Sample-ratio mismatch: chi-square goodness of fit of (n_a, n_b) to the configured split.

    Pass counts of assignment *units* (slots), or point counts with ``points_per_unit`` (the
    readings per slot, e.g. 4 for 15-minute readings in 60-minute slots): points of one slot
    share an arm, so a chi-square on points alone would flag far too often; the statistic is
    divided by this design effect. ``mismatch`` is None when there is nothing to check.

    >>> srm(1200, 800, 0.5)["mismatch"]
    True
    >>> srm(700, 300, 0.3)["mismatch"]
    False
    """
    if not 0.0 < split < 1.0:
        raise ValueError(f"split must be in (0, 1), got {split}")
    total = n_a + n_b
    out: dict[str, Any] = {
        "method": "chi-square goodness of fit to the configured split (1 df)",
        "configured_share_b": split,
        "observed_share_b": (n_b / total) if total > 0 else None,
        "n_a": int(n_a),
        "n_b": int(n_b),
        "alpha": alpha,
        "points_per_unit": points_per_unit,
    }
    if total <= 0:
        return {**out, "chi2": None, "p_value": None, "mismatch": None}
    expected = np.array([total * (1.0 - split), total * split])
    observed = np.array([n_a, n_b], dtype=np.float64)
    chi2 = float(np.sum((observed - expected) ** 2 / expected)) / max(points_per_unit, 1.0)
    p = float(sps.chi2.sf(chi2, 1))
    return {**out, "chi2": chi2, "p_value": p, "mismatch": bool(p < alpha)}


def verdict(diff: Difference | None, alpha: float, *, p_value: float | None = None) -> str:
    """``a`` or ``b`` (the lower loss) when the p-value is below alpha, else ``inconclusive``.

    ``p_value`` (e.g. the always-valid sequential one) overrides ``diff.p_value``.

    >>> verdict(None, 0.05)
    'inconclusive'
    """
    if diff is None:
        return "inconclusive"
    p = diff.p_value if p_value is None else p_value
    if not math.isfinite(p) or p >= alpha or diff.estimate == 0.0:
        return "inconclusive"
    return "b" if diff.estimate < 0.0 else "a"
