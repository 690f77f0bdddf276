"""Fixtures for the model tests: the synthetic demo plant (generated once) and aggregation."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import pytest

from enms.demo.generator import SyntheticMachine, generate_plant

Aggregate = Callable[[pd.DataFrame], pd.DataFrame]


def hourly(readings: pd.DataFrame) -> pd.DataFrame:
    """15-minute readings to hourly: energy, production and hours summed, temperature
    averaged, an hour labelled anomalous when any of its readings is."""
    grouped = readings.resample("1h")
    return pd.DataFrame(
        {
            "energy_kwh": grouped["energy_kwh"].sum(),
            "outdoor_temp_c": grouped["outdoor_temp_c"].mean(),
            "production_units": grouped["production_units"].sum(),
            "operating_hours": grouped["operating_hours"].sum(),
            "is_anomaly": grouped["is_anomaly"].max().astype(bool),
        }
    )


@pytest.fixture(scope="session")
def plant() -> list[SyntheticMachine]:
    """The default demo plant: eight machines, 2025, 15-minute readings."""
    return generate_plant()


@pytest.fixture(scope="session")
def plant_by_type(plant: list[SyntheticMachine]) -> dict[str, SyntheticMachine]:
    return {m.machine_type: m for m in plant}


@pytest.fixture(scope="session")
def to_hourly() -> Aggregate:
    return hourly


#: Forecaster tests train on ten weeks and score four weeks of day-ahead origins.
FORECAST_TRAIN = pd.Timedelta(weeks=10)
FORECAST_EVAL = pd.Timedelta(weeks=4)


@pytest.fixture(scope="session")
def hourly_by_type(
    plant_by_type: dict[str, SyntheticMachine], to_hourly: Aggregate
) -> dict[str, pd.DataFrame]:
    """Hourly readings per machine type (the shared demo plant, aggregated)."""
    return {kind: to_hourly(m.readings) for kind, m in plant_by_type.items()}


def forecast_split(readings: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, pd.Timestamp]:
    """(training frame, evaluation frame with a week of context, first scored origin)."""
    df = readings.drop(columns="is_anomaly")
    cut = df.index[0] + FORECAST_TRAIN
    train = df[df.index < cut]
    # the evaluation frame carries one week of context before the first scored origin
    evaluation = df[(df.index >= cut - pd.Timedelta(weeks=1)) & (df.index < cut + FORECAST_EVAL)]
    return train, evaluation, cut
