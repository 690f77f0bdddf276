"""The names of the model types, without importing the estimators (cheap to import).

``enms.ml.registry.MODEL_TYPES`` maps the same names to classes; a test keeps them equal.
"""

from __future__ import annotations

from typing import Literal

from enms.core.errors import InvalidInput

ModelTypeName = Literal["baseline", "anomaly", "forecast_arima", "forecast_prophet"]
MODEL_TYPE_NAMES: tuple[str, ...] = ("baseline", "anomaly", "forecast_arima", "forecast_prophet")


def check_model_type(model_type: str) -> str:
    """Return ``model_type`` if it is known, else raise :class:`InvalidInput` listing them.

    >>> check_model_type("baseline")
    'baseline'
    >>> check_model_type("lstm")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    enms.core.errors.InvalidInput: unknown model type 'lstm'; choose one of baseline, ...
    """
    if model_type not in MODEL_TYPE_NAMES:
        raise InvalidInput(
            f"unknown model type {model_type!r}; choose one of {', '.join(MODEL_TYPE_NAMES)}"
        )
    return model_type
