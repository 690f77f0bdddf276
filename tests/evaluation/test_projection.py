"""The metric projection as a statistic: seeded series with known slopes (200 runs each)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np

from enms.evaluation.degradation import threshold
from enms.evaluation.projection import project

T0 = datetime(2025, 3, 1, tzinfo=UTC)
RUNS = 200


def _series(
    rng: np.random.Generator, slope: float, sd: float, n: int = 42, days: float = 14
) -> tuple[list[datetime], np.ndarray, np.ndarray]:
    x = np.sort(rng.uniform(0, days, n))
    times = [T0 + timedelta(days=float(d)) for d in x]
    return times, 10.0 + slope * x + rng.normal(0, sd, n), x


def test_the_slope_ci_covers_the_true_slope_about_95_percent_of_the_time() -> None:
    rng = np.random.default_rng(20261201)
    covered = 0
    for _ in range(RUNS):
        times, values, _ = _series(rng, slope=0.3, sd=1.0)
        result, _ = project(
            times, values, threshold=None, window_days=14, horizon_days=30, min_points=8
        )
        assert result is not None
        low, high = result.slope_ci
        covered += low <= 0.3 <= high
    rate = covered / RUNS
    # binomial sd at 95 % over 200 runs is 1.5 points: 0.90..0.99 is beyond 3 sd either way
    assert 0.90 <= rate <= 0.99, rate


def test_a_flat_metric_gets_no_crossing_in_at_least_95_percent_of_runs() -> None:
    rng = np.random.default_rng(7)
    limit = threshold("rmse", 10.0, 0.25)  # 12.5
    crossings = 0
    for _ in range(RUNS):
        times, values, _ = _series(rng, slope=0.0, sd=0.8)
        result, _ = project(
            times, values, threshold=limit, window_days=14, horizon_days=30, min_points=8
        )
        assert result is not None
        crossings += result.crossing_at is not None
    assert crossings / RUNS <= 0.05, crossings


def test_a_degrading_metric_is_projected_to_cross_when_the_truth_does() -> None:
    rng = np.random.default_rng(11)
    limit = threshold("rmse", 10.0, 0.25)  # 12.5: crossed at day 25, 11 days after the end
    found, bracketed = 0, 0
    for _ in range(RUNS):
        times, values, _x = _series(rng, slope=0.1, sd=0.3)
        result, _ = project(
            times, values, threshold=limit, window_days=14, horizon_days=30, min_points=8
        )
        assert result is not None
        truth = T0 + timedelta(days=25)
        if result.crossing_at is not None:
            found += 1
            early = result.crossing_earliest or truth
            late = result.crossing_latest or T0 + timedelta(days=1000)
            bracketed += early <= truth <= late
    assert found / RUNS >= 0.95, found
    assert bracketed / found >= 0.85, bracketed


def test_too_few_points_and_an_already_degraded_metric() -> None:
    times = [T0 + timedelta(days=d) for d in range(5)]
    result, reason = project(
        times, [1.0] * 5, threshold=None, window_days=14, horizon_days=30, min_points=8
    )
    assert result is None
    assert reason == "only 5 points in the last 14 days (need 8)"
    times = [T0 + timedelta(days=d) for d in range(10)]
    result, _ = project(
        times,
        [0.5 - 0.01 * d for d in range(10)],
        threshold=threshold("r_squared", 0.8, 0.25),
        window_days=14,
        horizon_days=30,
        min_points=8,
    )
    assert result is not None
    assert result.already_degraded is True
    assert result.crossing_at is None
