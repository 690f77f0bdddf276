"""Candidate selection, the skill flag and empirical intervals (seeded synthetic data)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from enms.ml.base import TARGET
from enms.ml.forecast_arima import ArimaForecaster
from enms.ml.forecast_select import (
    SKILL_NOT_POSITIVE,
    cross_fitted_coverage,
    interval_offsets,
    lead_hours,
    select,
    selection_report,
)


def _shifts(days: int, seed: int, walk: float = 0.0) -> pd.DataFrame:
    idx = pd.date_range("2025-01-06", periods=days * 24, freq="1h", tz="UTC")
    rng = np.random.default_rng(seed)
    hour = idx.hour.to_numpy()
    busy = (idx.day_of_week.to_numpy() < 5) & (hour >= 6) & (hour < 20)
    level = np.cumsum(rng.normal(0.0, walk, len(idx))) if walk else 0.0
    y = 50.0 + level + 30.0 * busy + rng.normal(0.0, 2.0, len(idx))
    return pd.DataFrame({TARGET: y}, index=idx)


def test_every_candidate_is_scored_and_the_best_validation_rmse_wins() -> None:
    model = ArimaForecaster(timezone="UTC").fit(_shifts(42, seed=4, walk=0.3))
    selection = model.report_["selection"]
    scores = selection["candidates"]
    assert set(scores) == {
        "seasonal_naive",
        "weekly_diff_sarima",
        "recent_weeks_sarima",
        "mstl_arima",
        "profile_arma",
    }
    assert scores["seasonal_naive"]["skill"] == 0.0
    best = min(scores, key=lambda n: scores[n]["rmse"])
    assert selection["winner"] == best == model.winner_
    assert scores[best]["skill"] > 0.0  # a wandering level: naive carries a week-old level
    assert model.report_["flags"] == []
    assert selection["n_origins"] == 14 * 4
    assert selection["origin_every_hours"] == 6.0
    # the empirical interval's cross-fitted validation coverage is close to nominal
    coverage = selection["interval"]["cross_fitted_coverage"]
    assert abs(coverage - 0.9) <= 0.03


def test_a_winner_without_positive_skill_is_flagged() -> None:
    report, flags = selection_report(
        winner="seasonal_naive",
        scores={"seasonal_naive": {"skill": 0.0}, "mstl_arima": {"skill": -0.2}},
        validation_start=pd.Timestamp("2025-01-01", tz="UTC"),
        n_origins=56,
        every=pd.Timedelta(hours=6),
        coverage=0.9,
        alpha=0.1,
    )
    assert flags == [SKILL_NOT_POSITIVE]
    assert report["winner"] == "seasonal_naive"
    _, ok = selection_report(
        winner="mstl_arima",
        scores={"mstl_arima": {"skill": 0.1}},
        validation_start=pd.Timestamp("2025-01-01", tz="UTC"),
        n_origins=56,
        every=pd.Timedelta(hours=6),
        coverage=0.9,
        alpha=0.1,
    )
    assert ok == []


def test_a_failing_candidate_is_recorded_and_never_wins() -> None:
    actual = np.arange(12.0).reshape(3, 4)
    naive = actual + 2.0

    def broken() -> np.ndarray:
        raise ValueError("did not converge")

    winner, scores, residuals = select(
        {"naive": lambda: naive, "broken": broken, "close": lambda: actual + 1.0}, actual, naive
    )
    assert winner == "close"
    assert scores["broken"] == {"error": "did not converge"}
    assert scores["close"]["skill"] == pytest.approx(0.5)
    assert set(residuals) == {"naive", "close"}


def test_empirical_intervals_cover_gaussian_residuals_at_nominal() -> None:
    rng = np.random.default_rng(7)
    buckets = lead_hours(24, pd.Timedelta("1h"))
    scale = np.linspace(1.0, 3.0, 24)  # wider at longer leads
    residuals = rng.normal(0.0, 1.0, (400, 24)) * scale
    lo, hi = interval_offsets(residuals[:200], buckets, alpha=0.1)
    fresh = residuals[200:]
    inside = (fresh >= lo) & (fresh <= hi)
    assert abs(inside.mean() - 0.9) <= 0.02
    assert hi[-1] - lo[-1] > 2.0 * (hi[0] - lo[0])
    coverage = cross_fitted_coverage(residuals, buckets, alpha=0.1)
    assert coverage is not None
    assert abs(coverage - 0.9) <= 0.02
