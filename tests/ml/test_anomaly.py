"""The anomaly detector finds the demo plant's labelled spikes without flooding alarms."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from enms.demo.generator import SyntheticMachine, generate_plant
from enms.ml import metrics
from enms.ml.anomaly import AnomalyDetector
from enms.ml.base import InsufficientData
from enms.ml.baseline import BaselineModel
from enms.ml.features import calendar_features


@pytest.fixture(scope="module")
def two_year_spiky() -> list[SyntheticMachine]:
    """Spiky machines of the demo plant over two years: train on 2025, judge 2026.

    A whole training year matters: a baseline that never saw summer cannot know what the
    cooling load of a warm day looks like, and every such day would alarm.
    """
    return [m for m in generate_plant(days=730) if m.readings["is_anomaly"].any()]


def test_f1_on_labelled_spikes_of_the_following_year(
    two_year_spiky: list[SyntheticMachine],
) -> None:
    assert len(two_year_spiky) >= 3
    for machine in two_year_spiky:
        train = machine.readings.loc[:"2025-12-31"]
        test = machine.readings.loc["2026-01-01":]
        detector = AnomalyDetector().fit(train)
        flags = detector.flag(test)
        labels = test["is_anomaly"]
        f1 = metrics.f1(labels, flags)
        assert f1 >= 0.8, f"{machine.name}: F1 {f1:.3f}"
        false_alarm_rate = float(flags[~labels].mean())
        assert false_alarm_rate < 10 * detector.target_alarm_rate, machine.name


def test_labelled_rows_are_left_out_of_fitting(plant: list[SyntheticMachine]) -> None:
    machine = next(m for m in plant if m.readings["is_anomaly"].any())
    frame = machine.readings.loc[:"2025-04-30"]
    with_labels = AnomalyDetector().fit(frame)
    without = AnomalyDetector().fit(frame[~frame["is_anomaly"]].drop(columns="is_anomaly"))
    probe = machine.readings.loc["2025-05-01":"2025-05-14"]
    pd.testing.assert_series_equal(with_labels.score(probe), without.score(probe))
    assert with_labels.threshold_ == without.threshold_


def test_threshold_comes_from_the_calibration_tail(plant: list[SyntheticMachine]) -> None:
    frame = plant[3].readings.loc[:"2025-04-30"]
    loose = AnomalyDetector(target_alarm_rate=0.01).fit(frame)
    strict = AnomalyDetector(target_alarm_rate=0.0001).fit(frame)
    assert loose.threshold_ < strict.threshold_
    clean = frame[~frame["is_anomaly"]]
    tail = clean.iloc[len(clean) - loose.n_calibration_ :]
    assert float(loose.flag(tail).mean()) == pytest.approx(0.01, abs=0.002)


def test_scores_flags_and_missing_drivers(plant: list[SyntheticMachine]) -> None:
    machine = plant[3]
    detector = AnomalyDetector().fit(machine.readings.loc[:"2025-03-31"])
    probe = machine.readings.loc["2025-04-01":"2025-04-07"].copy()
    probe.loc[probe.index[10:20], "production_units"] = np.nan
    scores, flags = detector.score(probe), detector.flag(probe)
    assert scores.index.equals(probe.index)
    assert flags.dtype == bool
    assert scores.iloc[10:20].isna().all()
    assert not flags.iloc[10:20].any()
    assert scores.drop(probe.index[10:20]).notna().all()
    pd.testing.assert_series_equal(scores, detector.predict(probe))


def test_refuses_a_window_too_short_to_calibrate(plant: list[SyntheticMachine]) -> None:
    with pytest.raises(InsufficientData, match="calibration tail"):
        AnomalyDetector().fit(plant[3].readings.iloc[:100])


def test_an_unlabelled_spike_in_the_calibration_tail_does_not_silence_it(
    plant: list[SyntheticMachine],
) -> None:
    machine = next(m for m in plant if m.machine_type == "cnc_line")
    train = machine.readings.loc[:"2025-06-30"].copy()
    later = machine.readings.loc["2025-07-01":]
    labels = later["is_anomaly"]
    assert labels.sum() >= 10
    clean = AnomalyDetector().fit(train)
    # three unlabelled meter glitches of 20 x the mean reading in the calibration tail
    tail_start = len(train) - clean.n_calibration_
    glitches = train.index[[tail_start + 100, tail_start + 900, len(train) - 50]]
    train.loc[glitches, "energy_kwh"] = 20 * train["energy_kwh"].mean()
    train.loc[glitches, "is_anomaly"] = False
    spiked = AnomalyDetector().fit(train)

    assert spiked.n_trimmed_ >= 3  # the glitches do not bend the baseline either
    assert spiked.threshold_ == pytest.approx(clean.threshold_, rel=0.05)
    flags = spiked.flag(later)
    assert metrics.recall(labels, flags) >= 0.95
    assert metrics.precision(labels, flags) >= 0.9
    # The plain 1 - rate quantile of the same calibration scores would sit above every
    # labelled spike that follows: this is the detector the glitches would have silenced.
    tail = train.iloc[tail_start:]
    plain = float(np.nanquantile(spiked.score(tail), 1 - spiked.target_alarm_rate))
    assert plain > spiked.score(later)[labels].max()
    assert spiked.report_["alarm_threshold"]["method"] == "exponential_tail"


def test_score_is_the_documented_formula(plant: list[SyntheticMachine]) -> None:
    import enms.ml.anomaly as module

    assert "score = |z| + forest_weight · max(0, forest_z)" in (module.__doc__ or "")
    frame = plant[3].readings.loc[:"2025-04-30"]
    probe = plant[3].readings.loc["2025-05-01":"2025-05-07"]
    residual_only = AnomalyDetector(forest_weight=0.0).fit(frame)
    z = (probe["energy_kwh"] - residual_only.baseline_.predict(probe)) / (
        residual_only.residual_scale_
    )
    pd.testing.assert_series_equal(
        residual_only.score(probe), z.abs().rename("anomaly_score"), check_exact=False
    )
    combined = AnomalyDetector(forest_weight=0.5).fit(frame)
    # forest_z as documented: the forest's raw score on z, the drivers and local time of
    # day / weekend, standardised by the median and 1.4826 MAD of its training scores
    cal = calendar_features(pd.DatetimeIndex(probe.index), combined.timezone)
    z = (probe["energy_kwh"] - combined.baseline_.predict(probe)) / combined.residual_scale_
    feats = np.column_stack(
        [z, *(probe[c] for c in combined.required_columns()), cal["tod_sin"], cal["tod_cos"],
         cal["is_weekend"]]
    )  # fmt: skip
    raw = -combined.forest_.score_samples((feats - combined.feature_mean_) / combined.feature_sd_)
    forest_z = (raw - combined.forest_centre_) / combined.forest_scale_
    expected = np.abs(z) + 0.5 * np.maximum(0.0, forest_z)
    np.testing.assert_allclose(combined.score(probe).to_numpy(), expected.to_numpy())
    assert (forest_z > 0).any()  # both branches of max(0, ·) are exercised
    assert (forest_z < 0).any()


def test_the_internal_baseline_sees_the_whole_window(plant: list[SyntheticMachine]) -> None:
    frame = plant[3].readings.loc[:"2025-04-30"]
    detector = AnomalyDetector().fit(frame)
    assert detector.n_trimmed_ == 0  # clean readings: nothing left out of the baseline
    whole = BaselineModel(timezone=detector.timezone).fit(frame[~frame["is_anomaly"]])
    probe = plant[3].readings.loc["2025-05-01":"2025-05-07"]
    pd.testing.assert_series_equal(detector.baseline_.predict(probe), whole.predict(probe))
