"""Table ``model_training_history``: every training job, the source of truth for its state."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from enms.core.orm import Base, JSONType, UTCDateTime

ACTIVE_STATUSES = ("pending", "running")
_ACTIVE = "training_status IN ('pending', 'running')"


class TrainingJob(Base):
    """A request to train one model type for one machine, and how it went."""

    __tablename__ = "model_training_history"
    __table_args__ = (
        # At most one pending or running job per (machine, model type), enforced by the
        # database so concurrent triggers cannot both win.
        Index(
            "uq_model_training_history_one_active",
            "machine_id",
            "model_type",
            unique=True,
            sqlite_where=text(_ACTIVE),
            postgresql_where=text(_ACTIVE),
        ),
        Index("ix_model_training_history_machine_id_model_type", "machine_id", "model_type"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    machine_id: Mapped[int] = mapped_column(ForeignKey("machines.id", ondelete="CASCADE"))
    model_type: Mapped[str] = mapped_column(String(32))
    model_version: Mapped[int | None] = mapped_column(Integer)
    training_status: Mapped[str] = mapped_column(String(16), default="pending")
    trigger_type: Mapped[str] = mapped_column(String(16), default="manual")
    trigger_reason: Mapped[str | None] = mapped_column(Text)
    requested_by: Mapped[str] = mapped_column(String(200), default="system")
    data_start: Mapped[datetime | None] = mapped_column(UTCDateTime)
    data_end: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    training_start: Mapped[datetime | None] = mapped_column(UTCDateTime)
    training_end: Mapped[datetime | None] = mapped_column(UTCDateTime)
    training_duration_seconds: Mapped[float | None] = mapped_column(Float)
    progress_stage: Mapped[str | None] = mapped_column(String(32))
    progress_percent: Mapped[float | None] = mapped_column(Float)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    #: Set by a cancel request; the job stops at its next stage boundary.
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Which consumer (host:pid:random id:thread) holds the job while it runs.
    worker: Mapped[str | None] = mapped_column(String(200))
    #: Until when the worker's lease on a running job holds; renewed by every heartbeat.
    #: An expired lease is the only evidence that the worker is gone.
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Every attempt: ``{"attempt", "worker", "started_at", "ended_at", "outcome", "error"}``.
    attempt_history: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    error_message: Mapped[str | None] = mapped_column(Text)
    hyperparameters: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    performance_improvement: Mapped[float | None] = mapped_column(Float)
