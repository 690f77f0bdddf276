"""What the alert lifecycle's front doors (HTTP, CLI ``--json``) accept and answer."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, Field, model_validator

from enms.core.ids import Id
from enms.core.timewindow import as_utc


class AlertEvent(BaseModel):
    """One transition of an alert (an ``audit_log`` row), named after its rule."""

    at: datetime
    rule: str
    actor: str
    reason: str | None
    details: dict[str, Any]


class AlertRead(BaseModel):
    """An alert: the condition, its lifecycle and what was done about it."""

    id: int
    machine_id: int
    machine_name: str
    model_type: str | None
    model_id: int | None
    model_version: int | None
    alert_type: str
    severity: str
    state: str
    message: str
    details: dict[str, Any]
    created_at: datetime
    first_seen: datetime
    last_seen: datetime
    occurrences: int
    clear_since: datetime | None
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    acknowledged_note: str | None
    resolved_at: datetime | None
    resolved_by: str | None
    resolution_note: str | None
    auto_action: str | None
    auto_action_result: str | None
    action_job_id: int | None
    #: Whether an active silence matches the alert now (its notifications are muted).
    silenced: bool


class AlertDetail(AlertRead):
    """An alert with its transitions, oldest first."""

    history: list[AlertEvent]


class AcknowledgeRequest(BaseModel):
    """``POST /alerts/{id}/acknowledge``."""

    by: str = Field(min_length=1, max_length=200, description="Who acknowledges.")
    note: str | None = Field(None, description="Optional: what is being done.")


class ResolveRequest(BaseModel):
    """``POST /alerts/{id}/resolve``."""

    by: str = Field(min_length=1, max_length=200, description="Who resolves.")
    note: str = Field(min_length=1, description="Why it is resolved (required).")


#: The longest silence ``duration_hours`` sets (ten years); a later end is an ``expires_at``.
MAX_SILENCE_HOURS = 24 * 366 * 10


class SilenceCreate(BaseModel):
    """``POST /alert-silences``: mute notifications of matching alerts until an expiry.

    ``machine_id``, ``model_type`` and ``alert_type`` left out match anything; give either
    ``expires_at`` or ``duration_hours``.
    """

    machine_id: Id | None = None
    model_type: str | None = None
    alert_type: str | None = None
    author: str = Field(min_length=1, max_length=200)
    reason: str = Field(min_length=1)
    expires_at: datetime | None = Field(None, description="ISO 8601; naive means UTC.")
    duration_hours: float | None = Field(
        None, gt=0, le=MAX_SILENCE_HOURS, description="At most ten years (87840 hours)."
    )

    @model_validator(mode="after")
    def _one_expiry(self) -> SilenceCreate:
        if (self.expires_at is None) == (self.duration_hours is None):
            raise ValueError("give exactly one of expires_at and duration_hours")
        return self

    def expiry(self, now: datetime) -> datetime:
        """When the silence ends (UTC)."""
        if self.expires_at is not None:
            return as_utc(self.expires_at)
        assert self.duration_hours is not None
        return now + timedelta(hours=self.duration_hours)


class SilenceRead(BaseModel):
    """A silence and whether it is in force now."""

    id: int
    machine_id: int | None
    machine_name: str | None
    model_type: str | None
    alert_type: str | None
    author: str
    reason: str
    created_at: datetime
    expires_at: datetime
    ended_at: datetime | None
    active: bool
