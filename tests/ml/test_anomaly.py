"""The anomaly detector finds the demo plant's labelled spikes without flooding alarms."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from enms.demo.generator import SyntheticMachine, generate_plant
from enms.ml import metrics
from enms.ml.anomaly import AnomalyDetector
from enms.ml.base import InsufficientData


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
