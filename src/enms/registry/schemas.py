"""Pydantic shapes for model versions, aliases and their history."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class VersionRead(BaseModel):
    """A registered model version (the artifact itself is not included)."""

    model_config = ConfigDict(from_attributes=True, protected_namespaces=())

    id: int
    machine_id: int
    model_type: str
    version: int
    status: str
    aliases: list[str] = Field(default_factory=list)
    artifact_sha256: str | None
    artifact_size: int | None
    hyperparameters: dict[str, Any]
    training_start: datetime | None
    training_end: datetime | None
    training_rows: int | None
    training_data_sha256: str | None
    metrics_in_sample: dict[str, Any]
    metrics_holdout: dict[str, Any]
    ashrae14: dict[str, Any] | None
    training_job_id: int | None
    fit_seconds: float | None
    created_at: datetime
    created_by: str


class AliasChange(BaseModel):
    """Why and by whom an alias moved (promotion, rollback, registration)."""

    actor: str = Field("api", max_length=200, description="Who asks for the move.")
    reason: str | None = Field(None, max_length=2000, description="Why.")


class PromoteRequest(AliasChange):
    """Make ``version`` the champion."""

    version: int = Field(ge=1)


class AliasEvent(BaseModel):
    """One move of an alias, from the audit log."""

    at: datetime
    actor: str
    action: str
    alias: str
    from_version: int | None
    to_version: int | None
    reason: str | None
