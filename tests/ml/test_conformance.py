"""One contract, every model type: each entry of ``MODEL_TYPES`` must pass these checks.

A new model type joins by being registered in :mod:`enms.ml.registry`; nothing here names
a type. Type-specific behaviour (accuracy, what NaN rows predict) lives in each type's tests.
"""

from __future__ import annotations

import inspect

import numpy as np
import pandas as pd
import pytest

from enms.demo.generator import SyntheticMachine
from enms.ml.base import ArtifactError, EnergyModel, InsufficientData
from enms.ml.registry import MODEL_TYPES, get_model_class

from .conftest import Aggregate

TYPES = sorted(MODEL_TYPES)


@pytest.fixture(scope="module")
def frames(
    plant_by_type: dict[str, SyntheticMachine], to_hourly: Aggregate
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Nine weeks of hourly HVAC readings to fit on, and those plus one week to predict."""
    hourly = to_hourly(plant_by_type["hvac"].readings)
    return hourly.loc["2025-02-03":"2025-04-06"], hourly.loc["2025-02-03":"2025-04-13"]


@pytest.fixture(scope="module")
def fitted(frames: tuple[pd.DataFrame, pd.DataFrame]) -> dict[str, EnergyModel]:
    return {name: MODEL_TYPES[name]().fit(frames[0]) for name in TYPES}


@pytest.mark.parametrize("model_type", TYPES)
def test_artifact_round_trip_gives_identical_predictions(
    model_type: str, fitted: dict[str, EnergyModel], frames: tuple[pd.DataFrame, pd.DataFrame]
) -> None:
    model = fitted[model_type]
    data = model.to_bytes()
    cls = get_model_class(model_type)
    for loader in (cls.from_bytes, EnergyModel.from_bytes):
        loaded = loader(data)
        assert type(loaded) is cls
        pd.testing.assert_series_equal(loaded.predict(frames[1]), model.predict(frames[1]))


@pytest.mark.parametrize("model_type", TYPES)
def test_tampered_artifact_is_refused(model_type: str, fitted: dict[str, EnergyModel]) -> None:
    data = bytearray(fitted[model_type].to_bytes())
    data[-10] ^= 0xFF
    with pytest.raises(ArtifactError):
        get_model_class(model_type).from_bytes(bytes(data))
    with pytest.raises(ArtifactError):
        EnergyModel.from_bytes(b"not an artifact at all")


@pytest.mark.parametrize("model_type", TYPES)
def test_same_params_give_identical_predictions(
    model_type: str, fitted: dict[str, EnergyModel], frames: tuple[pd.DataFrame, pd.DataFrame]
) -> None:
    model = fitted[model_type]
    again = get_model_class(model_type)(**model.get_params()).fit(frames[0])
    pd.testing.assert_series_equal(again.predict(frames[1]), model.predict(frames[1]))


@pytest.mark.parametrize("model_type", TYPES)
def test_insufficient_data_is_refused(
    model_type: str, frames: tuple[pd.DataFrame, pd.DataFrame]
) -> None:
    with pytest.raises(InsufficientData):
        get_model_class(model_type)().fit(frames[0].iloc[:5])


@pytest.mark.parametrize("model_type", TYPES)
def test_nan_drivers_and_gaps_do_not_break_fit_or_predict(
    model_type: str, frames: tuple[pd.DataFrame, pd.DataFrame]
) -> None:
    train = frames[0].drop(frames[0].index[300:306]).copy()  # a six-hour gap
    train.loc[train.index[500:510], "production_units"] = np.nan
    model = get_model_class(model_type)().fit(train)
    probe = frames[1].copy()
    probe.loc[probe.index[-20:-10], "production_units"] = np.nan
    predicted = model.predict(probe)
    assert predicted.index.equals(probe.index)
    assert np.isfinite(predicted.iloc[: len(frames[0]) - 200].dropna()).all()


@pytest.mark.parametrize("model_type", TYPES)
def test_params_are_keyword_only_and_returned_as_given(model_type: str) -> None:
    cls = get_model_class(model_type)
    params = list(inspect.signature(cls.__init__).parameters.values())[1:]
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in params)
    defaults = {p.name: p.default for p in params}
    assert cls().get_params() == defaults
    assert cls(**defaults).get_params() == defaults


@pytest.mark.parametrize("model_type", TYPES)
def test_learned_attributes_end_in_underscore(
    model_type: str, fitted: dict[str, EnergyModel]
) -> None:
    cls = get_model_class(model_type)
    before = set(vars(cls()))
    model = fitted[model_type]
    assert model.is_fitted
    assert not cls().is_fitted
    learned = set(vars(model)) - before
    assert learned, "fit set no learned attributes"
    assert all(name.endswith("_") for name in learned if not name.startswith("_")), learned
