"""forecast_arima on the demo plant: selection, skill over naive, intervals, 15-min data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from enms.demo.generator import SyntheticMachine
from enms.ml.base import InsufficientData, MissingColumns
from enms.ml.forecast_arima import ArimaForecaster
from enms.ml.forecasting import evaluate_forecaster

from .conftest import forecast_split

TZ = "Europe/Berlin"
PLANNED = ("production_units", "operating_hours")  # the demo's shift plan and schedule


@pytest.mark.parametrize("kind", ["furnace", "boiler", "cnc_line"])
def test_beats_weekly_seasonal_naive_on_the_demo_plant(
    hourly_by_type: dict[str, pd.DataFrame], kind: str
) -> None:
    train, evaluation, cut = forecast_split(hourly_by_type[kind])
    model = ArimaForecaster(timezone=TZ, drivers=PLANNED).fit(train)
    result = evaluate_forecaster(model, evaluation, start=cut, alpha=0.1)
    assert result.n_origins == 28 * 4  # origins every 6 hours
    assert result.overall["skill"] is not None
    assert result.overall["skill"] > 0.0
    coverage = result.overall["coverage"]
    assert coverage is not None
    assert 0.75 <= coverage <= 0.97
    assert [b["hours_ahead"] for b in result.by_lead] == [float(h) for h in range(1, 25)]


def test_energy_alone_still_beats_seasonal_naive(hourly_by_type: dict[str, pd.DataFrame]) -> None:
    train, evaluation, cut = forecast_split(hourly_by_type["furnace"])
    model = ArimaForecaster(timezone="Europe/Berlin").fit(train)
    assert model.drivers_ == []
    result = evaluate_forecaster(model, evaluation, start=cut)
    assert result.overall["skill"] is not None
    assert result.overall["skill"] > 0.0
    assert result.drivers_used == []
    assert result.skill_upper_bound is False


def test_a_machine_no_candidate_beats_gets_the_naive_and_a_flag(
    hourly_by_type: dict[str, pd.DataFrame],
) -> None:
    # the CNC line's energy alone: without its production plan nothing beats last week
    train, evaluation, cut = forecast_split(hourly_by_type["cnc_line"])
    model = ArimaForecaster(timezone=TZ).fit(train)
    scores = model.report_["selection"]["candidates"]
    assert model.winner_ == "seasonal_naive"
    assert all(s["skill"] <= 0.0 for s in scores.values())
    assert model.report_["flags"] == ["skill_not_positive"]
    result = evaluate_forecaster(model, evaluation, start=cut)
    assert result.overall["skill"] == pytest.approx(0.0)


def test_fifteen_minute_readings_are_forecast_at_their_own_interval(
    plant_by_type: dict[str, SyntheticMachine],
) -> None:
    machine = plant_by_type["furnace"]
    df = machine.readings.drop(columns="is_anomaly")
    cut = df.index[0] + pd.Timedelta(weeks=4)
    model = ArimaForecaster(timezone=machine.timezone, drivers=PLANNED).fit(df[df.index < cut])
    assert model.horizon_ == 96
    evaluation = df[
        (df.index >= cut - pd.Timedelta(weeks=1)) & (df.index < cut + pd.Timedelta(weeks=1))
    ]
    forecast = model.forecast(evaluation)
    assert forecast.index.equals(evaluation.index)
    assert forecast["step"].max() == 96
    result = evaluate_forecaster(model, evaluation, start=cut)
    assert result.overall["skill"] is not None
    assert result.overall["skill"] > 0.0
    coverage = result.overall["coverage"]  # intervals are for readings, not hourly means
    assert coverage is not None
    assert 0.75 <= coverage <= 0.995
    assert len(result.by_lead) == 24  # hour-ahead buckets of four 15-min steps


def test_interval_holds_the_forecast_and_widens_with_confidence(
    hourly_by_type: dict[str, pd.DataFrame],
) -> None:
    train, evaluation, _ = forecast_split(hourly_by_type["chiller"])
    model = ArimaForecaster(timezone="Europe/Berlin").fit(train)
    point = model.predict(evaluation)
    assert point.index.equals(evaluation.index)
    ok = point.notna()
    narrow = model.predict_interval(evaluation, alpha=0.5)[ok]
    wide = model.predict_interval(evaluation, alpha=0.01)[ok]
    point = point[ok]
    assert len(point) >= 4 * 7 * 24
    assert (narrow["lower"] <= point).all()
    assert (point <= narrow["upper"]).all()
    assert ((wide["upper"] - wide["lower"]) > (narrow["upper"] - narrow["lower"])).all()


def test_less_than_two_weeks_is_insufficient(hourly_by_type: dict[str, pd.DataFrame]) -> None:
    df = hourly_by_type["furnace"].iloc[: 10 * 24]
    with pytest.raises(InsufficientData, match=r"at least 21 days .* weekly seasonality"):
        ArimaForecaster().fit(df)


def test_a_frame_without_a_fitted_driver_is_refused(
    hourly_by_type: dict[str, pd.DataFrame],
) -> None:
    train, evaluation, _ = forecast_split(hourly_by_type["cnc_line"])
    model = ArimaForecaster(timezone=TZ, drivers=("production_units",)).fit(train)
    assert model.winner_ == "profile_arma"  # the production plan drives this line
    assert model.drivers_ == ["production_units"]
    with pytest.raises(MissingColumns, match="production_units"):
        model.predict(evaluation.drop(columns="production_units"))


def test_continues_from_the_end_of_training(hourly_by_type: dict[str, pd.DataFrame]) -> None:
    train, evaluation, cut = forecast_split(hourly_by_type["furnace"])
    model = ArimaForecaster(timezone=TZ, drivers=PLANNED).fit(train)
    after = model.forecast(evaluation[evaluation.index >= cut])
    # the same targets forecast from a frame that also holds the last training week
    within = model.forecast(evaluation).loc[after.index]
    same_origin = after["origin"] == within["origin"]
    assert same_origin.sum() >= 24 * 27  # all but the partial first block
    np.testing.assert_allclose(
        after.loc[same_origin, "forecast"], within.loc[same_origin, "forecast"], rtol=1e-9
    )
