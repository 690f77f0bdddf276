"""Scoring on real, gappy data: incomplete rows are left out and counted, absent columns refused."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from tests.ml.conftest import Aggregate

from enms.demo.generator import SyntheticMachine
from enms.ml import metrics
from enms.ml.anomaly import AnomalyDetector
from enms.ml.base import TARGET, MissingColumns
from enms.ml.baseline import BaselineModel
from enms.ml.forecast_arima import ArimaForecaster
from enms.ml.scoring import model_columns, score


@pytest.fixture(scope="module")
def furnace(plant_by_type: dict[str, SyntheticMachine], to_hourly: Aggregate) -> pd.DataFrame:
    return to_hourly(plant_by_type["furnace"].readings).drop(columns="is_anomaly")


@pytest.fixture(scope="module")
def baseline(furnace: pd.DataFrame) -> BaselineModel:
    return BaselineModel(timezone="Europe/Berlin").fit(furnace.loc[:"2025-03-31"])


def test_rows_with_missing_values_are_left_out_and_counted(
    baseline: BaselineModel, furnace: pd.DataFrame
) -> None:
    used = model_columns(baseline)
    assert "production_units" in used
    window = furnace.loc["2025-04-01":"2025-04-14"].copy()
    window.loc[window.index[10:20], "production_units"] = np.nan
    window.loc[window.index[30:35], TARGET] = np.nan
    unused = [c for c in window.columns if c not in (*used, TARGET)]
    if unused:  # a gap in a column the model does not read costs nothing
        window.loc[window.index[50:60], unused[0]] = np.nan

    result = score(baseline, window)

    complete = window.drop(window.index[10:20]).drop(window.index[30:35])
    expected = metrics.regression_report(
        complete[TARGET].to_numpy(), baseline.predict(complete).to_numpy()
    )
    assert result.values["n"] == len(window) - 15
    assert result.values["n_dropped"] == 15
    assert result.extra["dropped"] == {"missing_target": 5, "missing_drivers": 10}
    for name in ("r_squared", "rmse", "mae", "mape", "cv_rmse", "nmbe"):
        assert result.values[name] == pytest.approx(expected.values[name]), name
    assert result.undefined == {}
    as_dict = result.as_dict()
    assert (as_dict["n"], as_dict["n_dropped"]) == (len(window) - 15, 15)


def test_a_window_with_nothing_complete_says_why(
    baseline: BaselineModel, furnace: pd.DataFrame
) -> None:
    window = furnace.loc["2025-04-01":"2025-04-02"].assign(production_units=np.nan)
    result = score(baseline, window)
    assert (result.values["n"], result.values["n_dropped"]) == (0, len(window))
    assert result.values["rmse"] is None
    assert "lack energy_kwh or one of" in result.undefined["rmse"]


def test_detector_scores_only_complete_rows(plant_by_type: dict[str, SyntheticMachine]) -> None:
    readings = plant_by_type["cnc_line"].readings
    detector = AnomalyDetector().fit(readings.loc[:"2025-04-30"])
    window = readings.loc["2025-05-01":"2025-06-30"].copy()
    labelled = np.flatnonzero(window["is_anomaly"].to_numpy())
    assert labelled.size >= 3
    gaps = window.index[labelled[:2]]  # two labelled spikes whose driver went missing
    used = model_columns(detector)[0]
    window.loc[gaps, used] = np.nan

    result = score(detector, window)

    rest = window.drop(gaps)
    flags = detector.flag(rest)
    assert result.values["n"] == len(rest)
    assert result.values["n_dropped"] == 2
    assert result.values["alarm_rate"] == pytest.approx(float(flags.mean()))
    # the unscorable spikes are not counted as missed
    assert result.values["recall"] == pytest.approx(metrics.recall(rest["is_anomaly"], flags))
    assert result.values["recall"] == 1.0


def test_absent_driver_columns_raise_missing_columns(
    baseline: BaselineModel,
    furnace: pd.DataFrame,
    plant_by_type: dict[str, SyntheticMachine],
) -> None:
    window = furnace.loc["2025-04-01":"2025-04-14"]
    with pytest.raises(MissingColumns) as caught:
        score(baseline, window.drop(columns="production_units"))
    assert caught.value.columns == ["production_units"]

    readings = plant_by_type["cnc_line"].readings
    detector = AnomalyDetector().fit(readings.loc[:"2025-03-31"])
    used = model_columns(detector)
    probe = readings.loc["2025-04-01":"2025-04-07"].drop(columns=used[0])
    with pytest.raises(MissingColumns) as caught:
        score(detector, probe)
    assert caught.value.columns == [used[0]]
    with pytest.raises(MissingColumns):  # and straight from the detector, too
        detector.predict(probe)


def test_forecaster_missing_targets_are_counted_and_absent_drivers_refused(
    furnace: pd.DataFrame,
) -> None:
    train = furnace.loc["2025-01-06":"2025-02-16"]
    model = ArimaForecaster(timezone="Europe/Berlin", drivers=("production_units",)).fit(train)
    assert "production_units" in model_columns(model)
    frame = furnace.loc["2025-02-10":"2025-02-23"]
    start = pd.Timestamp("2025-02-17", tz="UTC")
    full = score(model, frame, start=start)
    gappy = frame.copy()
    gappy.loc["2025-02-19 10:00":"2025-02-19 14:00", TARGET] = np.nan  # five hours
    result = score(model, gappy, start=start)
    # Each missing hour is the target of 4 origins (every 6 h, 24 h ahead) and the daily-naive
    # reference of the same hour a day later: 5 × 4 × 2 forecast points left out.
    assert full.values["n_dropped"] == 0
    assert result.values["n_dropped"] == 5 * 4 * 2
    assert result.values["n"] == (full.values["n"] or 0) - 5 * 4 * 2
    assert result.values["rmse"] is not None
    with pytest.raises(MissingColumns) as caught:
        score(model, frame.drop(columns="production_units"), start=start)
    assert caught.value.columns == ["production_units"]
