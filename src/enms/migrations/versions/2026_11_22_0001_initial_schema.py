"""Initial schema: machines, readings, the model registry and the seed's tracking tables.

Why: the ground floor every later stage stands on. Keeps the seed's table and view names
(`model_performance_metrics`, `model_training_history`, `model_ab_tests`, `model_alerts`,
`v_latest_model_performance`, `v_active_ab_tests`, `v_unresolved_model_alerts`) because
users' SQL and dashboards rely on them.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
TS = sa.DateTime(timezone=True)
BIGID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
ACTIVE = "training_status IN ('pending', 'running')"

VIEWS = {
    "v_latest_model_performance": """
        SELECT ranked.* FROM (
            SELECT m.id, m.model_id, m.machine_id, mc.name AS machine_name, m.model_type,
                   m.model_version, m.evaluation_date, m.evaluation_start, m.evaluation_end,
                   m.n_samples, m.r_squared, m.rmse, m.mae, m.mape, m.cv_rmse, m.nmbe,
                   m.precision, m.recall, m.f1, m.skill, m.drift_detected, m.drift_score,
                   ROW_NUMBER() OVER (
                       PARTITION BY m.model_id ORDER BY m.evaluation_date DESC, m.id DESC
                   ) AS rn
            FROM model_performance_metrics m JOIN machines mc ON mc.id = m.machine_id
        ) ranked WHERE ranked.rn = 1
    """,
    "v_active_ab_tests": """
        SELECT t.*, mc.name AS machine_name,
               va.version AS model_a_version, vb.version AS model_b_version
        FROM model_ab_tests t
        JOIN machines mc ON mc.id = t.machine_id
        JOIN model_versions va ON va.id = t.model_a_id
        JOIN model_versions vb ON vb.id = t.model_b_id
        WHERE t.status = 'running'
    """,
    "v_unresolved_model_alerts": """
        SELECT a.*, mc.name AS machine_name
        FROM model_alerts a JOIN machines mc ON mc.id = a.machine_id
        WHERE a.status <> 'resolved'
    """,
}


def _id() -> sa.Column[int]:
    return sa.Column("id", sa.Integer(), primary_key=True)


def _machine_fk(nullable: bool = False) -> sa.Column[int]:
    return sa.Column(
        "machine_id",
        sa.Integer(),
        sa.ForeignKey("machines.id", ondelete="CASCADE"),
        nullable=nullable,
    )


def upgrade() -> None:
    op.create_table(
        "instance_info",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text(), nullable=False),
    )
    op.create_table(
        "machines",
        _id(),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("machine_type", sa.String(100), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("metadata", JSON, nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_table(
        "energy_readings",
        sa.Column("id", BIGID, primary_key=True),
        _machine_fk(),
        sa.Column("ts", TS, nullable=False),
        sa.Column("energy_kwh", sa.Float(), nullable=False),
        sa.Column("outdoor_temp_c", sa.Float()),
        sa.Column("production_units", sa.Float()),
        sa.Column("operating_hours", sa.Float()),
        sa.Column("drivers", JSON),
        sa.Column("is_anomaly", sa.Boolean()),
        sa.UniqueConstraint("machine_id", "ts"),
    )
    op.create_table(
        "model_training_history",
        _id(),
        _machine_fk(),
        sa.Column("model_type", sa.String(32), nullable=False),
        sa.Column("model_version", sa.Integer()),
        sa.Column("training_status", sa.String(16), nullable=False),
        sa.Column("trigger_type", sa.String(16), nullable=False),
        sa.Column("trigger_reason", sa.Text()),
        sa.Column("requested_by", sa.String(200), nullable=False),
        sa.Column("data_start", TS),
        sa.Column("data_end", TS),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("training_start", TS),
        sa.Column("training_end", TS),
        sa.Column("training_duration_seconds", sa.Float()),
        sa.Column("progress_stage", sa.String(32)),
        sa.Column("progress_percent", sa.Float()),
        sa.Column("heartbeat_at", TS),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error_message", sa.Text()),
        sa.Column("hyperparameters", JSON, nullable=False),
        sa.Column("performance_improvement", sa.Float()),
    )
    op.create_index(
        "uq_model_training_history_one_active",
        "model_training_history",
        ["machine_id", "model_type"],
        unique=True,
        sqlite_where=sa.text(ACTIVE),
        postgresql_where=sa.text(ACTIVE),
    )
    op.create_index(
        "ix_model_training_history_machine_id_model_type",
        "model_training_history",
        ["machine_id", "model_type"],
    )
    op.create_table(
        "model_versions",
        _id(),
        _machine_fk(),
        sa.Column("model_type", sa.String(32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("artifact", sa.LargeBinary()),
        sa.Column("artifact_sha256", sa.String(64)),
        sa.Column("artifact_size", sa.Integer()),
        sa.Column("hyperparameters", JSON, nullable=False),
        sa.Column("training_start", TS),
        sa.Column("training_end", TS),
        sa.Column("training_rows", sa.Integer()),
        sa.Column("training_data_sha256", sa.String(64)),
        sa.Column("metrics_in_sample", JSON, nullable=False),
        sa.Column("metrics_holdout", JSON, nullable=False),
        sa.Column("ashrae14", JSON),
        sa.Column(
            "training_job_id",
            sa.Integer(),
            sa.ForeignKey("model_training_history.id", ondelete="SET NULL"),
        ),
        sa.Column("fit_seconds", sa.Float()),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.UniqueConstraint("machine_id", "model_type", "version"),
    )
    op.create_table(
        "model_aliases",
        _id(),
        _machine_fk(),
        sa.Column("model_type", sa.String(32), nullable=False),
        sa.Column("alias", sa.String(32), nullable=False),
        sa.Column(
            "model_version_id",
            sa.Integer(),
            sa.ForeignKey("model_versions.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("updated_at", TS, nullable=False),
        sa.UniqueConstraint("machine_id", "model_type", "alias"),
    )
    op.create_table(
        "audit_log",
        _id(),
        sa.Column("at", TS, nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("entity_type", sa.String(64), nullable=False),
        sa.Column("entity_id", sa.String(64)),
        sa.Column("machine_id", sa.Integer(), sa.ForeignKey("machines.id", ondelete="SET NULL")),
        sa.Column("reason", sa.Text()),
        sa.Column("details", JSON, nullable=False),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    op.create_table(
        "model_performance_metrics",
        _id(),
        sa.Column(
            "model_id",
            sa.Integer(),
            sa.ForeignKey("model_versions.id", ondelete="CASCADE"),
            nullable=False,
        ),
        _machine_fk(),
        sa.Column("model_type", sa.String(32), nullable=False),
        sa.Column("model_version", sa.Integer(), nullable=False),
        sa.Column("evaluation_date", TS, nullable=False),
        sa.Column("evaluation_start", TS, nullable=False),
        sa.Column("evaluation_end", TS, nullable=False),
        sa.Column("n_samples", sa.Integer()),
        *(
            sa.Column(name, sa.Float())
            for name in (
                "r_squared",
                "rmse",
                "mae",
                "mape",
                "cv_rmse",
                "nmbe",
                "precision",
                "recall",
                "f1",
                "skill",
            )
        ),
        sa.Column("drift_detected", sa.Boolean(), nullable=False),
        sa.Column("drift_score", sa.Float()),
        sa.Column("drift_details", JSON),
        sa.Column("details", JSON, nullable=False),
        sa.Column("source", sa.String(32), nullable=False),
    )
    op.create_index(
        "ix_model_performance_metrics_machine_type_date",
        "model_performance_metrics",
        ["machine_id", "model_type", "evaluation_date"],
    )
    op.create_table(
        "model_ab_tests",
        _id(),
        sa.Column("test_name", sa.String(200), nullable=False),
        _machine_fk(),
        sa.Column("model_type", sa.String(32), nullable=False),
        sa.Column(
            "model_a_id",
            sa.Integer(),
            sa.ForeignKey("model_versions.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "model_b_id",
            sa.Integer(),
            sa.ForeignKey("model_versions.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("traffic_split", sa.Float(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("start_date", TS, nullable=False),
        sa.Column("end_date", TS),
        sa.Column("planned_end_date", TS),
        sa.Column("winner", sa.String(8)),
        sa.Column("confidence", sa.Float()),
        sa.Column("p_value", sa.Float()),
        sa.Column("results", JSON),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("notes", sa.Text()),
    )
    op.create_table(
        "model_alerts",
        _id(),
        _machine_fk(),
        sa.Column("model_type", sa.String(32), nullable=False),
        sa.Column(
            "model_id", sa.Integer(), sa.ForeignKey("model_versions.id", ondelete="SET NULL")
        ),
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
    for name, body in VIEWS.items():
        op.execute(f"CREATE VIEW {name} AS {body}")


def downgrade() -> None:
    for name in VIEWS:
        op.execute(f"DROP VIEW IF EXISTS {name}")
    for table in (
        "model_alerts",
        "model_ab_tests",
        "model_performance_metrics",
        "audit_log",
        "model_aliases",
        "model_versions",
        "model_training_history",
        "energy_readings",
        "machines",
        "instance_info",
    ):
        op.drop_table(table)
