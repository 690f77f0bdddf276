"""Pydantic shapes for evaluations (rows of ``model_performance_metrics``).

:class:`EvaluationRead` is the one answer of an evaluation everywhere: ``POST …/evaluate``,
``GET …/evaluations`` and ``enms evaluate --json`` print the same document.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, computed_field

#: The metrics each model type is judged by (``n`` is added to every set).
METRICS_BY_TYPE: dict[str, tuple[str, ...]] = {
    "baseline": ("r_squared", "rmse", "mae", "mape", "cv_rmse", "nmbe"),
    "anomaly": ("precision", "recall", "f1"),
    "forecast_arima": ("mape", "rmse", "mae", "skill"),
    "forecast_prophet": ("mape", "rmse", "mae", "skill"),
}


class EvaluationRead(BaseModel):
    """One evaluation of a model version on a window ``[evaluation_start, evaluation_end)``.

    The flat metric fields mirror the table row (None where a metric does not apply to the
    model type); ``metrics`` holds just the ones that apply, plus ``n`` (readings scored), and
    ``undefined`` says why any of them has no value.
    """

    model_config = ConfigDict(from_attributes=True, protected_namespaces=())

    id: int = Field(description="The evaluation's id (row of model_performance_metrics).")
    model_id: int = Field(description="The evaluated version's id in model_versions.")
    machine_id: int
    model_type: str
    model_version: int = Field(description="The evaluated version's number.")
    evaluation_date: datetime = Field(description="When the evaluation ran.")
    evaluation_start: datetime = Field(description="Window start (inclusive).")
    evaluation_end: datetime = Field(description="Window end (exclusive).")
    n_samples: int | None
    r_squared: float | None
    rmse: float | None
    mae: float | None
    mape: float | None
    cv_rmse: float | None
    nmbe: float | None
    precision: float | None
    recall: float | None
    f1: float | None
    skill: float | None
    details: dict[str, Any] = Field(description="Method details (e.g. n_origins) and extras.")
    source: str

    @computed_field  # type: ignore[prop-decorator]
    @property
    def metrics(self) -> dict[str, float | int | None]:
        """The metrics that apply to this model type, lower snake case, plus ``n``."""
        keys = METRICS_BY_TYPE.get(self.model_type, ())
        values: dict[str, float | int | None] = {k: getattr(self, k) for k in keys}
        return values | {"n": self.n_samples}

    @computed_field  # type: ignore[prop-decorator]
    @property
    def undefined(self) -> dict[str, str]:
        """Metrics without a value, and why (e.g. ``{"mape": "actuals all near zero"}``)."""
        found = self.details.get("undefined") or {}
        return {str(k): str(v) for k, v in found.items()}
