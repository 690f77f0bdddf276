"""The alarm threshold as a statistic: its realised alarm rate, and what a few spikes do to it."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from enms.ml.alarm_threshold import tail_threshold

SEEDS = range(40)


def test_exponential_tails_get_the_target_rate() -> None:
    # Exact for an exponential tail: the realised rate is within a factor of two of 1e-3 in
    # at least 90 % of seeded samples of 5,000 scores (the plain quantile rests on ~5 points).
    samples = [np.random.default_rng(s).exponential(size=5000) for s in SEEDS]
    realised = [float(stats.expon.sf(tail_threshold(x, 1e-3).threshold)) for x in samples]
    within = np.mean([0.5e-3 <= r <= 2e-3 for r in realised])
    assert within >= 0.9, realised


def test_gaussian_residuals_alarm_less_often_than_asked() -> None:
    # Conservative for light tails: |N(0, 1)| scores alarm below the target in 90 % of seeds.
    samples = [np.abs(np.random.default_rng(s).normal(size=5000)) for s in SEEDS]
    realised = [float(2 * stats.norm.sf(tail_threshold(x, 1e-3).threshold)) for x in samples]
    assert np.mean([r <= 1e-3 for r in realised]) >= 0.9, realised


@pytest.mark.parametrize(("n_spikes", "tolerance"), [(1, 0.02), (5, 0.12), (9, 0.25)])
def test_spikes_of_any_size_move_it_by_order_statistics_only(
    n_spikes: int, tolerance: float
) -> None:
    # 2,000 scores: the top 20 are ignored, so m < 20 spikes shift the upper anchor by m
    # ranks of the bulk, whatever their size (about 1 % of threshold per spike here).
    for seed in range(5):
        scores = np.abs(np.random.default_rng(seed).normal(size=2000))
        clean = tail_threshold(scores, 1e-4)
        spiked = tail_threshold(np.append(scores, np.full(n_spikes, 1e9)), 1e-4)
        assert spiked.threshold == pytest.approx(clean.threshold, rel=tolerance)
        assert spiked.threshold < 10  # the plain 1 - 1e-4 quantile would be about 1e9


def test_generous_rates_are_the_empirical_quantile_and_nan_is_ignored() -> None:
    scores = np.append(np.arange(1000.0), [np.nan] * 50)
    result = tail_threshold(scores, 0.05)
    assert result.method == "empirical_quantile"
    assert result.threshold == pytest.approx(np.quantile(np.arange(1000.0), 0.95))
    assert result.n == 1000
    with pytest.raises(ValueError, match="cannot calibrate"):
        tail_threshold(np.arange(5.0), 0.01)
