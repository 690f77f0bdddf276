"""Pydantic shapes for training jobs and the seed's retrain trigger."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from enms.core.ids import Id
from enms.core.model_types import ModelTypeName

TriggerType = Literal["manual", "scheduled", "drift", "degradation"]
JobStatus = Literal["pending", "running", "completed", "failed", "cancelled", "timed_out"]
FINAL_STATUSES = ("completed", "failed", "cancelled", "timed_out")


class TriggerRequest(BaseModel):
    """The seed contract of ``POST /retrain/trigger``, plus an optional window."""

    model_config = ConfigDict(protected_namespaces=())

    machine_id: Id
    model_type: ModelTypeName
    trigger_type: TriggerType = "manual"
    reason: str | None = Field(None, max_length=2000)
    requested_by: str = Field("api", max_length=200)
    data_from: str | None = Field(None, description="Training window start (ISO 8601).")
    data_to: str | None = Field(None, description="Training window end, exclusive.")
    hyperparameters: dict[str, Any] = Field(default_factory=dict)


class TriggerResult(BaseModel):
    """What the trigger did: a new job, or why not (with the job in progress)."""

    triggered: bool
    trigger_type: str
    reason: str | None
    training_job_id: int | None
    estimated_completion: datetime | None = Field(
        None,
        description="From the jobs ahead in the queue, the median duration of each model type "
        "and the number of workers; null before any job of this model type completed.",
    )
    status: str | None = None
    queue: Literal["queued", "waiting_for_queue"] | None = Field(
        None,
        description="queued: the job is on the queue; waiting_for_queue: the queue was "
        "unreachable, the job is recorded and is enqueued as soon as the queue is back.",
    )


class AttemptRead(BaseModel):
    """One attempt at a job: which worker ran it, when, and how it ended."""

    attempt: int
    worker: str | None
    started_at: datetime
    ended_at: datetime | None = None
    outcome: str | None = Field(
        None, description="completed, failed, cancelled, timed_out, lease_expired, handed_back"
    )
    error: str | None = None


class JobRead(BaseModel):
    """A training job as recorded in ``model_training_history``."""

    model_config = ConfigDict(from_attributes=True, protected_namespaces=())

    id: int
    machine_id: int
    machine_name: str | None = None
    model_type: str
    training_status: str
    trigger_type: str
    trigger_reason: str | None
    requested_by: str
    data_start: datetime | None
    data_end: datetime | None
    created_at: datetime
    training_start: datetime | None
    training_end: datetime | None
    training_duration_seconds: float | None
    progress_stage: str | None
    progress_percent: float | None
    heartbeat_at: datetime | None
    attempts: int
    cancel_requested: bool
    worker: str | None
    lease_expires_at: datetime | None = None
    attempt_history: list[AttemptRead] = Field(default_factory=list)
    model_version: int | None
    error_message: str | None
    hyperparameters: dict[str, Any]
    performance_improvement: float | None
