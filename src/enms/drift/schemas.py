"""Pydantic shapes of a drift check: the request and :class:`DriftCheckRead`, its one answer.

``POST /api/v1/model-performance/drift/check``, ``enms drift check --json`` and each entry
of the periodic task print the same document.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from enms.core.ids import Id


class DriftCheckRequest(BaseModel):
    """Which version to check, and optionally the windows (ISO 8601, naive means UTC)."""

    machine_id: Id
    model_type: str
    version: Id | None = Field(None, description="Default: the champion.")
    reference_from: str | None = Field(None, description="Default: the version's training start.")
    reference_to: str | None = Field(None, description="Default: the version's training end.")
    current_from: str | None = Field(
        None, description="Default: current_to minus ENMS_DRIFT__CURRENT_DAYS days."
    )
    current_to: str | None = Field(None, description="Default: now (exclusive).")


class DriftCheckRead(BaseModel):
    """One drift check of a model version on the current window ``[current_start, current_end)``.

    ``drift_detected`` is concept drift OR dataset-level data drift (None when neither could
    be decided: ``reason`` says why); ``drift_details`` names every test, statistic,
    threshold, sample size, verdict, the reference used and the change point, and holds the
    degradation verdicts (``drift_details["degradation"]``) kept apart from the verdict.
    """

    model_config = ConfigDict(protected_namespaces=())

    id: int | None = Field(
        description="The row written to model_performance_metrics (None: not recorded)."
    )
    model_id: int = Field(description="The checked version's id in model_versions.")
    machine_id: int
    model_type: str
    model_version: int
    evaluation_date: datetime = Field(description="When the check ran.")
    current_start: datetime = Field(description="Current window start (inclusive).")
    current_end: datetime = Field(description="Current window end (exclusive).")
    reference_start: datetime | None
    reference_end: datetime | None
    drift_detected: bool | None
    drift_score: float | None = Field(
        description="In [0, 1]; >= 0.5 exactly when drift_detected (see drift_details.definitions)."
    )
    reason: str | None = Field(description="Why drift_detected is None (nothing decided).")
    change_point: datetime | None = Field(description="Estimated start of a concept drift.")
    statement: str | None = Field(description="Energy-grade degradation in one sentence.")
    n_samples: int | None
    metrics: dict[str, float | None] = Field(
        description="The current window's metrics from the prediction log."
    )
    drift_details: dict[str, Any]
    source: str = "drift_check"
