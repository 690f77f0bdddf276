"""Pydantic shapes for model versions, aliases and their history."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, computed_field


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
    origin: str = Field("enms", description="enms (trained here) or external (no artifact).")
    name: str | None = Field(None, description="The name an external model was registered as.")
    external_metadata: dict[str, Any] = Field(
        default_factory=dict, description="An external model's metadata."
    )
    gate: list[dict[str, Any]] | None = Field(
        None,
        description="The promotion gate's verdicts at registration, in rule order: {rule, "
        "passed (true/false/null: not applicable), detail}; null: never gated.",
    )
    gate_passed: bool | None = Field(
        None, description="Every applicable rule passed; false: the version is flagged."
    )

    @computed_field  # type: ignore[prop-decorator]
    @property
    def failed_rules(self) -> list[str]:
        """Names of the gate's rules this version failed at registration."""
        return [str(v.get("rule")) for v in self.gate or [] if v.get("passed") is False]


class AliasChange(BaseModel):
    """Why and by whom an alias moved (promotion, rollback, registration)."""

    actor: str = Field("api", max_length=200, description="Who asks for the move.")
    reason: str | None = Field(None, max_length=2000, description="Why.")


class AliasEvent(BaseModel):
    """One move of an alias, from the audit log."""

    at: datetime
    actor: str
    action: str
    alias: str
    from_version: int | None
    to_version: int | None
    reason: str | None
    details: dict[str, Any] = Field(
        default_factory=dict,
        description="What else was recorded with the move (a promotion's gate verdicts, "
        "override, A/B test, a guarded rollback's figures).",
    )


class ExternalVersionCreate(AliasChange):
    """A model trained elsewhere, registered by name with its metadata and no artifact."""

    name: str = Field(min_length=1, max_length=200)
    metadata: dict[str, Any] = Field(default_factory=dict)
    training_start: datetime | None = None
    training_end: datetime | None = None
    metrics_holdout: dict[str, float] = Field(
        default_factory=dict,
        description="Its held-out metrics, if known (the reference for degradation).",
    )
    make_champion: bool = Field(
        False, description="Make it champion even if the pair already has one."
    )
