"""Choosing a forecaster's candidate by rolling-origin validation, and calibrating its interval.

This module owns the judgement made inside ``fit``: the tail of the training window
(``validation_days``) is held out, each candidate is fitted on the readings before it and
issues day-ahead forecasts from origins every ``origin_every`` hours (several times of day,
so lead time is not the hour of day) over the tail, each conditioned only on readings
before its origin. Candidates are ranked by RMSE; every candidate's ``mape, rmse, skill``
(``skill = 1 - RMSE/RMSE_weekly_naive`` on the same targets) goes into the version's
``report_["selection"]``, and a winner whose skill is not positive adds the flag
``"skill_not_positive"``.

The prediction interval is *empirical* (split-conformal): the winner's validation
residuals, pooled by hours ahead (with the neighbouring hours, for enough samples), give
the lower and upper quantiles added to the point forecast. Its validation coverage is
cross-fitted (quantiles from every other origin, coverage counted on the rest) so the
reported figure is not the in-sample coverage that calibration guarantees.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from enms.ml.base import TARGET
from enms.ml.forecast_grid import HOUR, every_positions, seasonal_naive, target_positions
from enms.ml.metrics import MetricUndefined, mape, rmse

SKILL_NOT_POSITIVE = "skill_not_positive"


def validation_positions(
    index: pd.DatetimeIndex, start: pd.Timestamp, every: pd.Timedelta
) -> np.ndarray:
    """Origin positions at or after ``start`` on the ``every``-hour grid."""
    positions = every_positions(index, every)
    return positions[index[positions] >= start]


def naive_paths(
    grid: pd.DataFrame, step: pd.Timedelta, tz: str, positions: np.ndarray, h: int
) -> np.ndarray:
    """Weekly seasonal-naive paths at the native interval (gaps carry the last reading)."""
    naive = seasonal_naive(grid[[TARGET]].ffill(), step, timezone=tz).to_numpy()
    out: np.ndarray = naive[target_positions(positions, h, len(naive))]
    return out


def actual_paths(y: np.ndarray, positions: np.ndarray, horizon: int) -> np.ndarray:
    """``(n_origins, horizon)`` actuals; NaN past the end of the series."""
    targets = target_positions(positions, horizon, len(y))
    out: np.ndarray = y[targets].astype(float)
    out[positions[:, None] + np.arange(horizon)[None, :] >= len(y)] = np.nan
    return out


def path_scores(actual: np.ndarray, mean: np.ndarray, naive: np.ndarray) -> dict[str, Any]:
    """MAPE (%), RMSE and skill against the naive paths, on targets where all three exist."""
    ok = np.isfinite(actual) & np.isfinite(mean) & np.isfinite(naive)
    y, f, ref = actual[ok], mean[ok], naive[ok]
    out: dict[str, Any] = {"n": int(ok.sum())}
    for key, func in (("mape", mape), ("rmse", rmse)):
        try:
            out[key] = float(func(y, f))
        except MetricUndefined:
            out[key] = None
    try:
        ref_rmse = float(rmse(y, ref))
        out["skill"] = None if ref_rmse == 0 or out["rmse"] is None else 1 - out["rmse"] / ref_rmse
    except MetricUndefined:
        out["skill"] = None
    return out


def select(
    candidates: dict[str, Callable[[], np.ndarray]],
    actual: np.ndarray,
    naive: np.ndarray,
) -> tuple[str | None, dict[str, dict[str, Any]], dict[str, np.ndarray]]:
    """Run every candidate's validation paths; return (winner, scores, residuals).

    A candidate whose fit fails is recorded with its ``error`` and never wins.
    """
    scores: dict[str, dict[str, Any]] = {}
    residuals: dict[str, np.ndarray] = {}
    for name, run in candidates.items():
        try:
            mean = run()
        except (ValueError, np.linalg.LinAlgError) as exc:
            scores[name] = {"error": str(exc)[:200]}
            continue
        scores[name] = path_scores(actual, mean, naive)
        residuals[name] = actual - mean
    ranked = [n for n in residuals if scores[n].get("rmse") is not None]
    winner = min(ranked, key=lambda n: float(scores[n]["rmse"])) if ranked else None
    return winner, scores, residuals


def lead_hours(horizon: int, step: pd.Timedelta) -> np.ndarray:
    """Hours-ahead bucket of each lead step (1 = within the first hour after the origin)."""
    out: np.ndarray = np.ceil(np.arange(1, horizon + 1) * (step / HOUR)).astype(int)
    return out


def interval_offsets(
    residuals: np.ndarray, buckets: np.ndarray, alpha: float
) -> tuple[np.ndarray, np.ndarray]:
    """Lower/upper offsets per lead from residual quantiles pooled over hours ahead ± 1."""
    lo = np.zeros(len(buckets))
    hi = np.zeros(len(buckets))
    for b in np.unique(buckets):
        pool = residuals[:, np.abs(buckets - b) <= 1]
        values = pool[np.isfinite(pool)]
        if len(values) == 0:
            continue
        n = len(values)
        upper = min(1.0, math.ceil((n + 1) * (1 - alpha / 2)) / n)
        lower = 1.0 - upper
        lo[buckets == b] = np.quantile(values, lower)
        hi[buckets == b] = np.quantile(values, upper)
    return lo, hi


def cross_fitted_coverage(residuals: np.ndarray, buckets: np.ndarray, alpha: float) -> float | None:
    """Coverage of intervals calibrated on every other origin, counted on the rest."""
    if len(residuals) < 4:
        return None
    hits, total = 0, 0
    for part in (0, 1):
        calib, held = residuals[part::2], residuals[1 - part :: 2]
        lo, hi = interval_offsets(calib, buckets, alpha)
        ok = np.isfinite(held)
        inside = (held >= lo[None, :]) & (held <= hi[None, :])
        hits += int((inside & ok).sum())
        total += int(ok.sum())
    return hits / total if total else None


def selection_report(
    *,
    winner: str | None,
    scores: dict[str, dict[str, Any]],
    validation_start: pd.Timestamp,
    n_origins: int,
    every: pd.Timedelta,
    coverage: float | None,
    alpha: float,
) -> tuple[dict[str, Any], list[str]]:
    """``report_`` entries ``selection`` and ``flags`` for a fitted forecaster."""
    skill = scores.get(winner, {}).get("skill") if winner else None
    flags = [] if skill is not None and skill > 0 else [SKILL_NOT_POSITIVE]
    selection = {
        "method": "rolling-origin day-ahead validation on the tail of the training window, "
        "lowest RMSE wins; skill = 1 - RMSE/RMSE(weekly seasonal naive, same targets)",
        "winner": winner,
        "validation_from": validation_start.isoformat(),
        "n_origins": n_origins,
        "origin_every_hours": every / HOUR,
        "candidates": scores,
        "interval": {
            "method": "empirical quantiles of the winner's validation residuals by hours "
            "ahead (split-conformal)",
            "nominal_coverage": 1 - alpha,
            "cross_fitted_coverage": coverage,
        },
    }
    return selection, flags
