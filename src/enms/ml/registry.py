"""The model-type catalogue: ``model_type`` string → estimator class.

This is the one place that says which model types exist; the registry, training jobs and
the generic conformance test (``tests/ml/test_conformance.py``) all read
:data:`MODEL_TYPES`, so a new type joins everything by adding one line here.
"""

from __future__ import annotations

from enms.ml.anomaly import AnomalyDetector
from enms.ml.base import EnergyModel
from enms.ml.baseline import BaselineModel
from enms.ml.forecast_arima import ArimaForecaster
from enms.ml.forecast_prophet import ProphetForecaster

MODEL_TYPES: dict[str, type[EnergyModel]] = {
    BaselineModel.model_type: BaselineModel,
    AnomalyDetector.model_type: AnomalyDetector,
    ArimaForecaster.model_type: ArimaForecaster,
    ProphetForecaster.model_type: ProphetForecaster,
}


def get_model_class(model_type: str) -> type[EnergyModel]:
    """The estimator class for ``model_type``.

    >>> get_model_class("baseline").__name__
    'BaselineModel'
    >>> get_model_class("magic")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    KeyError: "unknown model type 'magic'; known: anomaly, baseline..."
    """
    try:
        return MODEL_TYPES[model_type]
    except KeyError:
        known = ", ".join(sorted(MODEL_TYPES))
        raise KeyError(f"unknown model type {model_type!r}; known: {known}") from None
