"""Tables ``model_alerts``, ``alert_silences`` and ``notification_deliveries``.

One *open* alert per condition: ``condition_key`` (``machine:model_type:alert_type``, with
``*`` for a machine-level condition such as data quality) is unique among alerts that are
``open`` or ``acknowledged`` — a partial unique index, so concurrent raisers cannot both
insert. Resolved alerts stay as history. Every transition also writes an ``audit_log`` row
(entity type ``model_alert``) naming the rule that made it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from enms.core.orm import Base, JSONType, UTCDateTime

ALERT_TYPES = (
    "drift",
    "degradation",
    "training_failed",
    "ab_test_completed",
    "data_quality",
    "anomaly",
)
SEVERITIES = ("warning", "critical")
UNRESOLVED_STATES = ("open", "acknowledged")
STATES = (*UNRESOLVED_STATES, "resolved")
UNRESOLVED_PREDICATE = "state IN ('open', 'acknowledged')"
"""The partial unique index's predicate (the upsert names it literally)."""


class ModelAlert(Base):
    """A condition about one machine's model type (or the whole machine), and its lifecycle."""

    __tablename__ = "model_alerts"
    __table_args__ = (
        Index("ix_model_alerts_state_created_at", "state", "created_at"),
        Index(
            "uq_model_alerts_one_unresolved",
            "condition_key",
            unique=True,
            sqlite_where=text(UNRESOLVED_PREDICATE),
            postgresql_where=text(UNRESOLVED_PREDICATE),
        ),
        Index("ix_model_alerts_machine_id_created_at", "machine_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    machine_id: Mapped[int] = mapped_column(ForeignKey("machines.id", ondelete="CASCADE"))
    #: None for a machine-level condition (data quality).
    model_type: Mapped[str | None] = mapped_column(String(32))
    model_id: Mapped[int | None] = mapped_column(
        ForeignKey("model_versions.id", ondelete="SET NULL")
    )
    alert_type: Mapped[str] = mapped_column(String(32))
    #: ``machine_id:model_type:alert_type`` (``*`` when model_type is None).
    condition_key: Mapped[str] = mapped_column(String(120))
    severity: Mapped[str] = mapped_column(String(16))
    message: Mapped[str] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    state: Mapped[str] = mapped_column(String(16), default="open")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime)
    #: How many times the condition was raised while this alert was unresolved.
    occurrences: Mapped[int] = mapped_column(Integer, default=1)
    #: Since when the condition has been reported clear (None: not clear); the alert
    #: auto-resolves once this is ENMS_ALERTS__CLEAR_HOURS old (hysteresis).
    clear_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_by: Mapped[str | None] = mapped_column(String(200))
    acknowledged_note: Mapped[str | None] = mapped_column(Text)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_by: Mapped[str | None] = mapped_column(String(200))
    resolution_note: Mapped[str | None] = mapped_column(Text)
    #: The automatic action taken (``retrain``) and its outcome (job id, skipped: why).
    auto_action: Mapped[str | None] = mapped_column(String(64))
    auto_action_result: Mapped[str | None] = mapped_column(Text)
    #: The training job an automatic retrain enqueued.
    action_job_id: Mapped[int | None] = mapped_column(
        ForeignKey("model_training_history.id", ondelete="SET NULL")
    )
    #: When a notification covering this alert was last handed to the dispatcher's
    #: channels (None: not yet); ``notified_severity`` the severity it announced.
    notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    notified_severity: Mapped[str | None] = mapped_column(String(16))


class AlertSilence(Base):
    """Notifications matching this (machine, model type, alert type; None = any) are muted
    until ``expires_at``; alerts are still recorded."""

    __tablename__ = "alert_silences"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    machine_id: Mapped[int | None] = mapped_column(ForeignKey("machines.id", ondelete="CASCADE"))
    model_type: Mapped[str | None] = mapped_column(String(32))
    alert_type: Mapped[str | None] = mapped_column(String(32))
    author: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    #: Set when someone ends the silence early.
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class NotificationDelivery(Base):
    """One notification to one channel target: what was sent, how it went (the delivery log)."""

    __tablename__ = "notification_deliveries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))  # webhook | email
    target: Mapped[str] = mapped_column(String(500))  # URL or address list (no secrets)
    group_key: Mapped[str] = mapped_column(String(200))
    alert_ids: Mapped[list[int]] = mapped_column(JSONType, default=list)
    severity: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending|sent|failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    response_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
