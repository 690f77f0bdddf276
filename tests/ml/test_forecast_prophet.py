"""forecast_prophet on the demo plant: skill over seasonal naive, day types, quiet offline fits."""

from __future__ import annotations

import pandas as pd
import pytest

from enms.demo.generator import SyntheticMachine
from enms.ml.base import InsufficientData
from enms.ml.forecast_prophet import ProphetForecaster
from enms.ml.forecasting import evaluate_forecaster

from .conftest import forecast_split

TZ = "Europe/Berlin"
PLANNED = ("production_units", "operating_hours")  # the demo's shift plan and schedule


@pytest.mark.parametrize("kind", ["furnace", "boiler", "cnc_line"])
def test_beats_weekly_seasonal_naive_on_the_demo_plant(
    hourly_by_type: dict[str, pd.DataFrame], kind: str
) -> None:
    train, evaluation, cut = forecast_split(hourly_by_type[kind])
    model = ProphetForecaster(timezone=TZ, country="DE", drivers=PLANNED).fit(train)
    result = evaluate_forecaster(model, evaluation, start=cut, alpha=0.1)
    assert result.n_origins == 28 * 4  # origins every 6 hours
    selection = model.report_["selection"]
    assert set(selection["candidates"]) == {"prophet", "prophet_ar", "prophet_level"}
    assert selection["winner"] == model.winner_
    assert model.report_["flags"] == []
    assert result.overall["skill"] is not None
    assert result.overall["skill"] > 0.0
    coverage = result.overall["coverage"]
    assert coverage is not None
    assert 0.75 <= coverage <= 0.995


def test_day_type_daily_seasonalities_and_no_yearly_below_a_year(
    hourly_by_type: dict[str, pd.DataFrame],
) -> None:
    train, _, _ = forecast_split(hourly_by_type["lighting"])
    model = ProphetForecaster(
        timezone="Europe/Berlin", country="DE", drivers=("operating_hours", "outdoor_temp_c")
    ).fit(train)
    seasonalities = model._model().seasonalities
    assert {"daily_weekday", "daily_saturday", "daily_offday", "weekly"} <= set(seasonalities)
    assert seasonalities["daily_offday"]["condition_name"] == "offday"
    assert "yearly" not in seasonalities
    assert "daily" not in seasonalities
    assert {"operating_hours", "outdoor_temp_c"} <= set(model.drivers_)
    assert set(model.drivers_) <= set(model._model().extra_regressors)
    assert model._model().holidays["holiday"].str.contains("New Year").any()
    # no country, no holidays: no machine gets another country's calendar by default
    assert ProphetForecaster().get_params()["country"] is None
    assert ProphetForecaster().get_params()["drivers"] == ()


def test_fit_is_quiet_deterministic_and_round_trips(
    hourly_by_type: dict[str, pd.DataFrame], capfd: pytest.CaptureFixture[str]
) -> None:
    train, evaluation, _ = forecast_split(hourly_by_type["chiller"])
    first = ProphetForecaster(timezone="Europe/Berlin", seed=3).fit(train)
    out, err = capfd.readouterr()
    assert "cmdstanpy" not in err + out
    assert "Chain" not in err + out
    second = ProphetForecaster(timezone="Europe/Berlin", seed=3).fit(train)
    expected = first.forecast(evaluation)
    pd.testing.assert_frame_equal(expected, second.forecast(evaluation))
    loaded = ProphetForecaster.from_bytes(first.to_bytes())
    assert "_prophet" not in vars(loaded)  # stored as Prophet JSON, rebuilt on first use
    pd.testing.assert_frame_equal(expected, loaded.forecast(evaluation))


def test_fifteen_minute_readings_fit_hourly_and_forecast_every_reading(
    plant_by_type: dict[str, SyntheticMachine],
) -> None:
    machine = plant_by_type["cnc_line"]
    df = machine.readings.drop(columns="is_anomaly")
    cut = df.index[0] + pd.Timedelta(weeks=4)
    model = ProphetForecaster(timezone=machine.timezone, drivers=PLANNED).fit(df[df.index < cut])
    assert model.horizon_ == 96
    assert len(model._model().history) == 4 * 7 * 24  # hourly means
    evaluation = df[
        (df.index >= cut - pd.Timedelta(weeks=1)) & (df.index < cut + pd.Timedelta(weeks=1))
    ]
    forecast = model.forecast(evaluation)
    assert forecast.index.equals(evaluation.index)
    result = evaluate_forecaster(model, evaluation, start=cut)
    assert result.overall["skill"] is not None
    assert result.overall["skill"] > 0.0
    coverage = result.overall["coverage"]  # intervals are for readings, not hourly means
    assert coverage is not None
    assert 0.75 <= coverage <= 0.995


def test_less_than_two_weeks_is_insufficient(hourly_by_type: dict[str, pd.DataFrame]) -> None:
    df = hourly_by_type["furnace"].iloc[: 10 * 24]
    with pytest.raises(InsufficientData, match=r"at least 21 days .* weekly seasonality"):
        ProphetForecaster().fit(df)
