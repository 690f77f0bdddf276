"""Pydantic shapes for evaluations (rows of ``model_performance_metrics``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict


class EvaluationRead(BaseModel):
    """One evaluation of a model version on a window of readings."""

    model_config = ConfigDict(from_attributes=True, protected_namespaces=())

    id: int
    model_id: int
    machine_id: int
    model_type: str
    model_version: int
    evaluation_date: datetime
    evaluation_start: datetime
    evaluation_end: datetime
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
    details: dict[str, Any]
    source: str

    def metrics(self) -> dict[str, float | None]:
        """The metric values that apply to this model type (lower snake case keys)."""
        keys = {
            "baseline": ("r_squared", "rmse", "mae", "mape", "cv_rmse", "nmbe"),
            "anomaly": ("precision", "recall", "f1"),
        }.get(self.model_type, ("mape", "rmse", "mae", "skill"))
        return {k: getattr(self, k) for k in keys} | {"n": self.n_samples}
