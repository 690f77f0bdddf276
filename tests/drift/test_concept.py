"""Concept drift on residuals: support, minimum data, gaps, spikes, and the calibration.

Streams are seeded; every rate is measured in the run. The yearly false-alarm share and the
synthetic suite go through the same whitening, clipping and detectors as
:func:`enms.drift.concept.concept_drift` (:mod:`enms.drift.calibration`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from enms.drift import aggregate
from enms.drift.calibration import suite, yearly_false_alarm_share
from enms.drift.concept import ConceptDrift, concept_drift, detectors, in_support
from enms.drift.concept_settings import DAY_CLIP, Z_CLIP

TZ = "Europe/Berlin"


def _residuals(
    n: int, *, start: str = "2025-01-01", seed: int = 0, sd: float = 1.0, phi: float = 0.5
) -> pd.Series:
    rng = np.random.default_rng(seed)
    x = np.zeros(n)
    e = rng.normal(0.0, sd * np.sqrt(1 - phi**2), n)
    x[0] = rng.normal(0.0, sd)
    for t in range(1, n):
        x[t] = phi * x[t - 1] + e[t]
    index = pd.date_range(start, periods=n, freq="15min", tz="UTC")
    return pd.Series(x, index=index)


def _split(series: pd.Series, days: int) -> tuple[pd.Series, pd.Series]:
    cut = series.index[0] + pd.Timedelta(days=days)
    return series[series.index < cut], series[series.index >= cut]


def test_in_support_uses_the_common_numeric_drivers_with_a_small_margin() -> None:
    ref = pd.DataFrame(
        {
            "energy_kwh": [100.0, 200.0, 300.0],
            "outdoor_temp_c": [0.0, 5.0, 10.0],
            "production_units": [0.0, 50.0, 100.0],
            "is_anomaly": [False, False, True],
            "note": ["a", "b", "c"],
        }
    )
    cur = pd.DataFrame(
        {
            # energy far outside its reference range: not a driver, ignored
            "energy_kwh": [1e6, 150.0, 150.0, 150.0, 150.0, 150.0],
            "outdoor_temp_c": [5.0, 10.19, 10.21, -0.19, 5.0, np.nan],
            "production_units": [100.0, 50.0, 50.0, 50.0, 103.0, 50.0],
            "is_anomaly": [True, False, False, False, False, False],
            "note": ["x"] * 6,
            "only_current": [1e9] * 6,
        }
    )
    # tail = 0: the range is min-max; margin = 2 % of it: 0.2 °C and 2 units
    assert in_support(ref, cur, tail=0.0).tolist() == [True, True, False, True, False, False]
    assert in_support(ref, cur, tail=0.0, margin=0.0).tolist() == [
        True, False, False, False, False, False,
    ]  # fmt: skip
    no_drivers = in_support(ref[["energy_kwh"]], cur[["energy_kwh"]])
    assert no_drivers.all()
    assert no_drivers.index.equals(cur.index)


def test_support_ends_where_the_reference_thins_out() -> None:
    """0.5 % / 99.5 % quantiles: a few warm outliers do not extend the support."""
    temps = np.concatenate([np.linspace(-10.0, 10.0, 995), [13.0, 14.0, 14.5, 14.6, 14.7]])
    ref = pd.DataFrame({"outdoor_temp_c": temps})
    lo, hi = np.quantile(temps, [0.005, 0.995])
    m = 0.02 * (hi - lo)
    cur = pd.DataFrame({"outdoor_temp_c": [hi + 0.9 * m, hi + 1.1 * m, 13.5, lo - 0.9 * m]})
    assert in_support(ref, cur).tolist() == [True, False, False, True]
    assert in_support(ref, cur, tail=0.0).all()  # min-max: 13.5 °C would count as seen


def test_a_driver_without_reference_values_leaves_nothing_in_support() -> None:
    ref = pd.DataFrame({"t": [np.nan, np.nan]})
    cur = pd.DataFrame({"t": [1.0, 2.0]})
    assert not in_support(ref, cur).any()


def test_too_little_data_is_none_with_the_reason() -> None:
    full = _residuals(96 * 40, seed=1)
    ref, cur = _split(full, 30)
    short_ref = concept_drift(ref.iloc[: 4 * 100], cur, timezone=TZ)
    assert short_ref.drift_detected is None
    assert short_ref.score is None
    assert short_ref.reason is not None
    assert "168" in short_ref.reason
    # One local day of readings (plus an hour: UTC midnight is 01:00 in Berlin).
    short_cur = concept_drift(ref, cur.iloc[: 4 * 24], timezone=TZ)
    assert short_cur.drift_detected is None
    assert short_cur.reason is not None
    assert "at least 2 needed" in short_cur.reason
    assert short_cur.n_current == 1
    enough = concept_drift(ref, cur.iloc[: 4 * 47], timezone=TZ)
    assert enough.drift_detected is False
    assert enough.n_current == 2


def test_no_change_is_no_drift_and_the_verdict_names_everything() -> None:
    ref, cur = _split(_residuals(96 * 150, seed=2), 59)
    result = concept_drift(ref, cur, timezone=TZ)
    assert result.drift_detected is False
    assert result.change_point is None
    assert result.detected_at is None
    assert result.score is not None
    assert result.score < 0.5
    assert result.n_reference == 59 * 24
    assert result.n_current == 91
    assert {t["name"] for t in result.tests} == {"residual_mean_shift", "residual_variance_change"}
    for test in result.tests:
        assert {"method", "settings", "statistic", "threshold", "n", "verdict"} <= set(test)
        assert test["verdict"] is False
        assert test["n"] == 91
    assert result.details["whitener"]["scale"] > 0


def test_gaps_and_partial_hours_are_counted_not_hidden() -> None:
    ref, cur = _split(_residuals(96 * 100, seed=3), 59)
    cur = cur.copy()
    cur.iloc[:10] = np.nan  # 10 non-finite readings: hours 0-1 lose 4, hour 2 loses 2
    cur = cur.drop(cur.index[96 * 5 : 96 * 7])  # two days without readings
    cur = cur.drop(cur.index[96 * 10 + 1 : 96 * 10 + 3])  # one hour with 2 of 4 readings
    result = concept_drift(ref, cur, timezone=TZ)
    assert result.n_dropped == 10
    periods = result.details["periods"]["current"]
    # The two days are gaps; the two leading all-NaN hours are before the first hour seen
    # (their readings are in n_dropped).
    assert periods["empty"] == 2 * 24
    assert periods["skipped"] == 2  # hour 2 (2 of 4) and the thinned hour
    assert periods["used"] == 41 * 24 - 2 * 24 - 4
    # Local days: UTC midnight is 01:00 in Berlin, so the gap and the window's end leave two
    # one-hour days, under the 6 hours a day needs.
    assert result.details["days"]["current"] == {"used": 39, "skipped": 2}
    assert result.n_current == 39
    assert result.drift_detected is False


def test_a_mean_shift_is_found_with_its_change_point() -> None:
    ref, cur = _split(_residuals(96 * 100, seed=4, sd=2.0, phi=0.3), 59)
    start = cur.index[0] + pd.Timedelta(days=20, hours=7)
    cur = cur + np.where(cur.index >= start, 1.5, 0.0)  # 0.75 σ of a reading
    result = concept_drift(ref, cur, timezone=TZ)
    assert result.drift_detected is True
    assert result.detected_at is not None
    assert result.change_point is not None
    assert pd.Timestamp(result.detected_at) - start <= pd.Timedelta(days=3)  # measured 64 h
    assert abs(pd.Timestamp(result.change_point) - start) <= pd.Timedelta(hours=6)
    assert result.score is not None
    assert result.score > 0.5
    assert result.detected_at.tzinfo is not None


def test_a_spike_cluster_alone_raises_no_concept_drift() -> None:
    """Ten spikes of 5-15 × the residual σ, 1-4 readings each, within two days."""
    ref, cur = _split(_residuals(96 * 100, seed=5), 59)
    cur = cur.copy()
    rng = np.random.default_rng(6)
    for s in rng.choice(np.arange(96 * 10, 96 * 12), size=10, replace=False):
        length = int(rng.integers(1, 5))
        cur.iloc[s : s + length] += rng.uniform(5.0, 15.0)
    result = concept_drift(ref, cur, timezone=TZ)
    assert result.details["clip"]["n_clipped_current"] >= 10
    assert result.drift_detected is False
    # A level change of the same readings that persists into a third day is a change.
    shifted = cur.copy()
    shifted.iloc[96 * 10 : 96 * 13] += 3.0
    assert concept_drift(ref, shifted, timezone=TZ).drift_detected is True


def test_one_odd_day_is_not_a_change() -> None:
    """A day the model gets wrong by 3 σ throughout (a holiday it never saw) is capped."""
    ref, cur = _split(_residuals(96 * 100, seed=9), 59)
    cur = cur.copy()
    cur.iloc[96 * 10 : 96 * 11] += 3.0
    assert concept_drift(ref, cur, timezone=TZ).drift_detected is False


def test_the_driver_adjustment_keeps_a_missed_driver_from_looking_like_drift() -> None:
    """A model without the temperature term, spring warming inside the training range."""
    rng = np.random.default_rng(7)
    index = pd.date_range("2025-01-01", periods=96 * 150, freq="15min", tz="UTC")
    season = np.linspace(-5.0, 8.0, len(index))
    temp = season + rng.normal(0.0, 2.0, len(index))
    residual = pd.Series(-3.0 * (temp - season[: 96 * 59].mean()) + rng.normal(0, 1.5, len(index)),
                         index=index)  # fmt: skip
    drivers = pd.DataFrame({"outdoor_temp_c": temp}, index=index)
    ref, cur = _split(residual, 59)
    assert concept_drift(ref, cur, timezone=TZ).drift_detected is True
    adjusted = concept_drift(
        ref, cur, timezone=TZ, reference_drivers=drivers.loc[ref.index], current_drivers=drivers
    )
    assert adjusted.drift_detected is False
    slope = adjusted.details["driver_adjustment"]["coefficients"]["outdoor_temp_c"]
    assert slope == pytest.approx(-3.0, abs=0.1)


def test_hours_are_local_clock_hours() -> None:
    index = pd.date_range("2025-03-30 00:00", periods=8, freq="15min", tz="UTC")
    p = aggregate.period_means(
        pd.Series(1.0, index=index), timezone="Asia/Kolkata", interval=pd.Timedelta("15min")
    )
    # UTC+05:30: local hours start at hh:30 UTC
    assert [t.strftime("%H:%M") for t in p.means.index] == ["23:30", "00:30", "01:30"]
    assert p.n_periods == 1
    assert p.n_skipped == 2


def test_yearly_false_alarm_share_is_small_at_the_chosen_thresholds() -> None:
    """≤ 2 % of change-free machine-years flagged (module docstring: 0.25 % at seed 0).

    200 streams × 365 days of hourly values: h = 4 flags 10.5 % and h = 5 4.25 %
    (module docstring), so a miscalibrated threshold fails this with near certainty.
    """
    mean, variance = detectors()
    shares = yearly_false_alarm_share(
        mean, variance, z_clip=Z_CLIP, day_clip=DAY_CLIP, n_streams=200, seed=1
    )
    assert shares[2] <= 0.02


@pytest.mark.parametrize("phi", [0.0, 0.5])
@pytest.mark.parametrize("change", ["none", "shift", "ramp", "variance"])
def test_issue_synthetic_suite_holds_for_the_concept_detectors(change: str, phi: float) -> None:
    """≥ 95 % detected, ≤ 0.2 false alarms per 1,000 samples, through the concept path."""
    result = suite(
        detectors(), change=change, phi=phi, z_clip=Z_CLIP, day_clip=DAY_CLIP,
        seed=12,
    )  # fmt: skip
    if change != "none":
        assert result.detection_rate >= 0.95
    assert result.false_alarms_per_1000 <= 0.2


def test_concept_drift_result_is_the_contract_dataclass() -> None:
    ref, cur = _split(_residuals(96 * 70, seed=8), 59)
    result = concept_drift(ref, cur)
    assert isinstance(result, ConceptDrift)
    assert result.reason is None
    assert result.drift_detected is False
