"""Alerts with a lifecycle, silences, a notification delivery log, anomaly events and KPIs.

Why: ``model_alerts`` was a table nothing wrote. It is rebuilt (no row can exist that enms
wrote) around one open alert per condition — ``condition_key`` unique among unresolved
alerts, a partial unique index, so concurrent raisers cannot duplicate — with first/last
seen, occurrences, hysteresis (``clear_since``), the automatic action's job and the
notification state; ``status`` becomes ``state``. New: ``alert_silences``,
``notification_deliveries``, ``anomaly_events`` (flagged readings of the scheduled anomaly
detection) and ``energy_kpis`` (per machine and day). ``v_unresolved_model_alerts`` follows.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
TS = sa.DateTime(timezone=True)
UNRESOLVED = "state IN ('open', 'acknowledged')"

UNRESOLVED_VIEW = """
    CREATE VIEW v_unresolved_model_alerts AS
    SELECT a.*, mc.name AS machine_name
    FROM model_alerts a JOIN machines mc ON mc.id = a.machine_id
    WHERE a.{column} <> 'resolved'
"""


def _machine_fk(nullable: bool = False) -> sa.Column[int]:
    return sa.Column(
        "machine_id",
        sa.Integer(),
        sa.ForeignKey("machines.id", ondelete="CASCADE"),
        nullable=nullable,
    )


def _version_fk(name: str, ondelete: str, nullable: bool = True) -> sa.Column[int]:
    return sa.Column(
        name, sa.Integer(), sa.ForeignKey("model_versions.id", ondelete=ondelete), nullable=nullable
    )


def upgrade() -> None:
    op.execute("DROP VIEW v_unresolved_model_alerts")
    op.drop_index("ix_model_alerts_status_created_at", "model_alerts")
    op.drop_table("model_alerts")
    op.create_table(
        "model_alerts",
        sa.Column("id", sa.Integer(), primary_key=True),
        _machine_fk(),
        sa.Column("model_type", sa.String(32)),
        _version_fk("model_id", "SET NULL"),
        sa.Column("alert_type", sa.String(32), nullable=False),
        sa.Column("condition_key", sa.String(120), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("details", JSON, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("first_seen", TS, nullable=False),
        sa.Column("last_seen", TS, nullable=False),
        sa.Column("occurrences", sa.Integer(), nullable=False),
        sa.Column("clear_since", TS),
        sa.Column("acknowledged_at", TS),
        sa.Column("acknowledged_by", sa.String(200)),
        sa.Column("acknowledged_note", sa.Text()),
        sa.Column("resolved_at", TS),
        sa.Column("resolved_by", sa.String(200)),
        sa.Column("resolution_note", sa.Text()),
        sa.Column("auto_action", sa.String(64)),
        sa.Column("auto_action_result", sa.Text()),
        sa.Column(
            "action_job_id",
            sa.Integer(),
            sa.ForeignKey("model_training_history.id", ondelete="SET NULL"),
        ),
        sa.Column("notified_at", TS),
        sa.Column("notified_severity", sa.String(16)),
    )
    op.create_index("ix_model_alerts_state_created_at", "model_alerts", ["state", "created_at"])
    op.create_index(
        "ix_model_alerts_machine_id_created_at", "model_alerts", ["machine_id", "created_at"]
    )
    op.create_index(
        "uq_model_alerts_one_unresolved",
        "model_alerts",
        ["condition_key"],
        unique=True,
        sqlite_where=sa.text(UNRESOLVED),
        postgresql_where=sa.text(UNRESOLVED),
    )
    op.execute(UNRESOLVED_VIEW.format(column="state"))
    op.create_table(
        "alert_silences",
        sa.Column("id", sa.Integer(), primary_key=True),
        _machine_fk(nullable=True),
        sa.Column("model_type", sa.String(32)),
        sa.Column("alert_type", sa.String(32)),
        sa.Column("author", sa.String(200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=False),
        sa.Column("ended_at", TS),
    )
    op.create_index("ix_alert_silences_expires_at", "alert_silences", ["expires_at"])
    op.create_table(
        "notification_deliveries",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("target", sa.String(500), nullable=False),
        sa.Column("group_key", sa.String(200), nullable=False),
        sa.Column("alert_ids", JSON, nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("response_code", sa.Integer()),
        sa.Column("last_error", sa.Text()),
        sa.Column("payload", JSON, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("sent_at", TS),
    )
    op.create_index(
        "ix_notification_deliveries_created_at", "notification_deliveries", ["created_at"]
    )
    op.create_table(
        "anomaly_events",
        sa.Column("id", sa.Integer(), primary_key=True),
        _machine_fk(),
        _version_fk("model_id", "CASCADE", nullable=False),
        sa.Column("model_version", sa.Integer(), nullable=False),
        sa.Column("ts", TS, nullable=False),
        sa.Column("energy_kwh", sa.Float(), nullable=False),
        sa.Column("expected_kwh", sa.Float()),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("threshold", sa.Float(), nullable=False),
        sa.Column("direction", sa.String(32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("detected_at", TS, nullable=False),
        sa.UniqueConstraint("machine_id", "model_id", "ts"),
    )
    op.create_index("ix_anomaly_events_machine_id_ts", "anomaly_events", ["machine_id", "ts"])
    op.create_table(
        "energy_kpis",
        sa.Column("id", sa.Integer(), primary_key=True),
        _machine_fk(),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("day_start", TS, nullable=False),
        sa.Column("day_end", TS, nullable=False),
        sa.Column("n_readings", sa.Integer(), nullable=False),
        sa.Column("energy_kwh", sa.Float(), nullable=False),
        sa.Column("production_units", sa.Float()),
        sa.Column("sec_kwh_per_unit", sa.Float()),
        _version_fk("baseline_model_id", "SET NULL"),
        sa.Column("expected_kwh", sa.Float()),
        sa.Column("enpi", sa.Float()),
        sa.Column("savings_kwh", sa.Float()),
        sa.Column("computed_at", TS, nullable=False),
        sa.UniqueConstraint("machine_id", "day"),
    )


def downgrade() -> None:
    op.drop_table("energy_kpis")
    op.drop_index("ix_anomaly_events_machine_id_ts", "anomaly_events")
    op.drop_table("anomaly_events")
    op.drop_index("ix_notification_deliveries_created_at", "notification_deliveries")
    op.drop_table("notification_deliveries")
    op.drop_index("ix_alert_silences_expires_at", "alert_silences")
    op.drop_table("alert_silences")
    op.execute("DROP VIEW v_unresolved_model_alerts")
    op.drop_table("model_alerts")
    op.create_table(
        "model_alerts",
        sa.Column("id", sa.Integer(), primary_key=True),
        _machine_fk(),
        sa.Column("model_type", sa.String(32), nullable=False),
        _version_fk("model_id", "SET NULL"),
        sa.Column("alert_type", sa.String(32), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("details", JSON, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("acknowledged_at", TS),
        sa.Column("acknowledged_by", sa.String(200)),
        sa.Column("resolved_at", TS),
        sa.Column("resolved_by", sa.String(200)),
        sa.Column("resolution_note", sa.Text()),
        sa.Column("auto_action", sa.String(64)),
        sa.Column("auto_action_result", sa.Text()),
    )
    op.create_index("ix_model_alerts_status_created_at", "model_alerts", ["status", "created_at"])
    op.execute(UNRESOLVED_VIEW.format(column="status"))
