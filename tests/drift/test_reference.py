"""Season-matched reference on the demo's temperature series; drift_score and whitener basics.

The demo plant (``generate_plant``, hourly, seeds 0–2) supplies a year of outdoor
temperatures. Measured at these seeds: every winter week (3 weeks × 3 seeds) against its
season-matched reference from the same year is *not* flagged (KS p ≥ 0.93), while the same
weeks against a summer reference (June–August) are all flagged (p ≤ 0.005).
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest

from enms.demo.generator import generate_plant
from enms.drift.dataset import dataset_drift
from enms.drift.reference import matched_reference
from enms.drift.score import distance_score, drift_score, p_value_score
from enms.drift.whitening import ResidualWhitener

WINTER_WEEKS = ["2025-01-13", "2025-02-03", "2025-12-01"]


def _week(frame: pd.DataFrame, start: str) -> pd.DataFrame:
    t0 = pd.Timestamp(start, tz="UTC")
    return frame[(frame.index >= t0) & (frame.index < t0 + pd.Timedelta(days=7))]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_winter_week_is_not_drift_against_its_own_season(seed: int) -> None:
    year = generate_plant(seed=seed, freq="h")[0].readings
    month = pd.DatetimeIndex(year.index).month
    summer = year[(month >= 6) & (month <= 8)]
    for start in WINTER_WEEKS:
        current = _week(year, start)
        matched = matched_reference(year, current, weeks=2, timezone="Europe/Berlin")
        assert matched.method == "season"
        assert matched.n_rows >= 1000
        verdict = dataset_drift(
            matched.frame, current, columns=["outdoor_temp_c"], reference_label=matched.description
        )
        assert verdict.drift_detected is False
        assert verdict.columns[0].reference.startswith("ISO weeks")
        # The test is not blind: against summer the same week is drift.
        assert dataset_drift(summer, current, columns=["outdoor_temp_c"]).drift_detected is True


def test_operating_mode_fallback_when_the_season_is_not_covered() -> None:
    year = generate_plant(seed=0, freq="h")[0].readings
    month = pd.DatetimeIndex(year.index).month
    spring_summer = year[(month >= 4) & (month <= 9)]
    current = _week(year, "2025-10-20")  # autumn, outside the reference's weeks
    matched = matched_reference(spring_summer, current, weeks=1, min_rows=300)
    assert matched.method == "operating_mode"
    temp = current["outdoor_temp_c"]
    low, high = temp.quantile(0.05) - 2.0, temp.quantile(0.95) + 2.0
    assert matched.frame["outdoor_temp_c"].between(low, high).all()
    # Nothing matches at all: the whole reference, and the answer says so.
    hopeless = matched_reference(spring_summer.iloc[:10], current)
    assert hopeless.method == "unmatched"
    assert hopeless.n_rows == 10


def test_naive_timestamps_are_refused() -> None:
    frame = pd.DataFrame({"x": [1.0]}, index=pd.DatetimeIndex(["2025-01-01"]))
    with pytest.raises(ValueError, match="timezone-aware"):
        matched_reference(frame, frame)


def test_drift_score_is_half_at_every_threshold_and_none_when_unchecked() -> None:
    assert p_value_score(0.05, alpha=0.05) == pytest.approx(0.5)
    assert p_value_score(0.0025, alpha=0.05) == pytest.approx(2 / 3)
    assert p_value_score(0.0, alpha=0.05) == 1.0
    assert distance_score(0.0, threshold=0.1) == 0.0
    assert distance_score(math.inf, threshold=0.1) == 1.0
    scores = [p_value_score(p, alpha=0.05) for p in np.linspace(1e-9, 1, 50)]
    assert all(a >= b for a, b in itertools.pairwise(scores))  # monotone
    assert drift_score([0.2, 0.7, None]) == 0.7
    assert drift_score([]) is None


def test_whitener_needs_a_reference_and_restarts_after_gaps() -> None:
    with pytest.raises(ValueError, match="finite values"):
        ResidualWhitener().fit([1.0, 2.0, math.nan])
    with pytest.raises(ValueError, match="zero spread"):
        ResidualWhitener().fit(np.ones(100))
    rng = np.random.default_rng(30)
    w = ResidualWhitener().fit(rng.normal(size=500))
    values = np.array([0.3, math.nan, 0.5, 0.1])
    batch = w.transform(values)
    streamed = [w.update(v).z for v in values]
    np.testing.assert_allclose(streamed, batch, equal_nan=True)
