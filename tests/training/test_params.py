"""A model's hyperparameters come from the machine it is trained for, then the overrides."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from enms.core.errors import InvalidInput
from enms.ml.anomaly import AnomalyDetector
from enms.ml.baseline import BaselineModel
from enms.ml.forecast_arima import ArimaForecaster
from enms.ml.forecast_prophet import ProphetForecaster
from enms.readings.models import Machine
from enms.training.params import build_params, machine_params

TZ = "Europe/Berlin"


def _machine(country: str | None, planned: list[str]) -> Machine:
    return Machine(
        name="Press 1",
        machine_type="press",
        timezone=TZ,
        country=country,
        planned_drivers=planned,
        metadata_={"site": "Nord"},
        created_at=datetime(2025, 1, 1, tzinfo=UTC),
    )


@pytest.mark.parametrize("cls", [ArimaForecaster, ProphetForecaster])
def test_forecasters_get_the_machines_country_and_planned_drivers(
    cls: type[ArimaForecaster] | type[ProphetForecaster],
) -> None:
    machine = _machine("FR", ["production_units", "operating_hours"])
    params = machine_params(cls, machine=machine, overrides={})
    assert params["timezone"] == TZ
    assert params["country"] == "FR"
    assert params["drivers"] == ("production_units", "operating_hours")
    cls(**params)  # the estimator takes them as they are


def test_no_country_means_no_holidays_and_no_planned_drivers_means_none() -> None:
    params = machine_params(ArimaForecaster, machine=_machine(None, []), overrides={})
    assert params["country"] is None  # never another country's holidays by default
    assert params["drivers"] == ()  # never the actual driver values of the forecast hour


def test_overrides_win() -> None:
    machine = _machine("DE", ["production_units"])
    params = machine_params(
        ArimaForecaster,
        machine=machine,
        overrides={"country": "AT", "drivers": ["outdoor_temp_forecast_c"]},
    )
    assert (params["country"], params["drivers"]) == ("AT", ("outdoor_temp_forecast_c",))
    assert (
        machine_params(ArimaForecaster, machine=machine, overrides={"drivers": []})["drivers"] == ()
    )


def test_planned_drivers_are_a_forecasting_fact_only() -> None:
    machine = _machine("DE", ["production_units"])
    baseline = machine_params(BaselineModel, machine=machine, overrides={})
    assert "drivers" not in baseline  # a baseline regresses on every driver it finds
    assert baseline["timezone"] == TZ
    assert baseline.get("country", "DE") == "DE"  # a holiday calendar, if it takes one
    assert machine_params(AnomalyDetector, machine=machine, overrides={}) == {"timezone": TZ}


def test_legacy_metadata_country_is_a_fallback_and_typos_are_refused() -> None:
    params = build_params(ArimaForecaster, timezone=TZ, metadata={"country": "NL"}, overrides={})
    assert params["country"] == "NL"
    column_wins = build_params(
        ArimaForecaster, timezone=TZ, country="BE", metadata={"country": "NL"}, overrides={}
    )
    assert column_wins["country"] == "BE"
    with pytest.raises(InvalidInput, match=r"unknown hyperparameter\(s\) \['contry'\]"):
        build_params(ArimaForecaster, timezone=TZ, overrides={"contry": "DE"})
