"""The prediction log, its daily rollup, external models, and drift verdicts that can be unknown.

Why: monitoring reads scored points instead of re-running models inside requests, so every
champion's and challenger's predictions are kept (``prediction_log``, with the per-run facts in
``prediction_batches`` and per-day error sums in ``prediction_daily`` that outlive the raw
points). ``model_versions`` gains ``origin``/``name``/``external_metadata`` so a model trained
elsewhere can be registered without an artifact and tracked. ``drift_detected`` used to be
written ``False`` where no check ran; it becomes nullable and those rows become NULL (no row
before this revision came from a drift check). ``v_latest_model_performance`` shows the newest
row per (machine, model type), not per version.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
TS = sa.DateTime(timezone=True)
BIGID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

LATEST_BY = {
    "new": "PARTITION BY m.machine_id, m.model_type",
    "old": "PARTITION BY m.model_id",
}


def _latest_view(partition: str) -> str:
    return f"""
        CREATE VIEW v_latest_model_performance AS
        SELECT ranked.* FROM (
            SELECT m.id, m.model_id, m.machine_id, mc.name AS machine_name, m.model_type,
                   m.model_version, m.evaluation_date, m.evaluation_start, m.evaluation_end,
                   m.n_samples, m.r_squared, m.rmse, m.mae, m.mape, m.cv_rmse, m.nmbe,
                   m.precision, m.recall, m.f1, m.skill, m.drift_detected, m.drift_score,
                   m.source,
                   ROW_NUMBER() OVER (
                       {partition} ORDER BY m.evaluation_end DESC, m.evaluation_date DESC,
                       m.id DESC
                   ) AS rn
            FROM model_performance_metrics m JOIN machines mc ON mc.id = m.machine_id
        ) ranked WHERE ranked.rn = 1
    """


def _fk(column: str, table: str) -> sa.Column[int]:
    return sa.Column(
        column, sa.Integer(), sa.ForeignKey(f"{table}.id", ondelete="CASCADE"), nullable=False
    )


def upgrade() -> None:
    op.create_table(
        "prediction_batches",
        sa.Column("id", BIGID, primary_key=True),
        _fk("model_id", "model_versions"),
        _fk("machine_id", "machines"),
        sa.Column("model_type", sa.String(32), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("drivers_used", JSON, nullable=False),
        sa.Column("window_start", TS, nullable=False),
        sa.Column("window_end", TS, nullable=False),
        sa.Column("n_points", sa.Integer(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_table(
        "prediction_log",
        sa.Column("id", BIGID, primary_key=True),
        _fk("model_id", "model_versions"),
        _fk("machine_id", "machines"),
        sa.Column(
            "batch_id",
            BIGID,
            sa.ForeignKey("prediction_batches.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("ts", TS, nullable=False),
        sa.Column("origin", TS, nullable=False),
        sa.Column("predicted", sa.Float()),
        sa.Column("lower", sa.Float()),
        sa.Column("upper", sa.Float()),
        sa.Column("actual", sa.Float()),
        sa.Column("score", sa.Float()),
        sa.Column("flagged", sa.Boolean()),
        sa.Column("arm", sa.String(1)),
        sa.UniqueConstraint("model_id", "ts", "origin"),
    )
    op.create_index("ix_prediction_log_machine_id_ts", "prediction_log", ["machine_id", "ts"])
    op.create_index("ix_prediction_log_batch_id", "prediction_log", ["batch_id"])
    op.create_table(
        "prediction_daily",
        sa.Column("id", BIGID, primary_key=True),
        _fk("model_id", "model_versions"),
        _fk("machine_id", "machines"),
        sa.Column("day", TS, nullable=False),
        sa.Column("lead_hours", sa.Integer(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("sum_actual", sa.Float(), nullable=False),
        sa.Column("sum_actual_sq", sa.Float(), nullable=False),
        sa.Column("sum_error", sa.Float(), nullable=False),
        sa.Column("sum_abs_error", sa.Float(), nullable=False),
        sa.Column("sum_sq_error", sa.Float(), nullable=False),
        sa.Column("n_pct", sa.Integer(), nullable=False),
        sa.Column("sum_abs_pct_error", sa.Float(), nullable=False),
        sa.Column("n_interval", sa.Integer(), nullable=False),
        sa.Column("n_in_interval", sa.Integer(), nullable=False),
        sa.Column("n_flagged", sa.Integer(), nullable=False),
        sa.Column("extra", JSON, nullable=False),
        sa.UniqueConstraint("model_id", "day", "lead_hours"),
    )
    # Views read these tables: drop and recreate around the column changes (SQLite's batch
    # mode rebuilds tables, which a view on them would block).
    op.execute("DROP VIEW v_latest_model_performance")
    op.execute("DROP VIEW v_active_ab_tests")
    op.add_column(
        "model_versions",
        sa.Column("origin", sa.String(16), nullable=False, server_default="enms"),
    )
    op.add_column("model_versions", sa.Column("name", sa.String(200)))
    op.add_column(
        "model_versions",
        sa.Column("external_metadata", JSON, nullable=False, server_default=sa.text("'{}'")),
    )
    with op.batch_alter_table("model_performance_metrics") as batch:
        batch.alter_column("drift_detected", existing_type=sa.Boolean(), nullable=True)
    op.execute(
        "UPDATE model_performance_metrics SET drift_detected = NULL WHERE drift_score IS NULL"
    )
    op.create_index(
        "ix_model_performance_metrics_machine_type_end",
        "model_performance_metrics",
        ["machine_id", "model_type", "evaluation_end"],
    )
    op.execute(_latest_view(LATEST_BY["new"]))
    op.execute(_active_ab_view())


def _active_ab_view() -> str:
    return """
        CREATE VIEW v_active_ab_tests AS
        SELECT t.*, mc.name AS machine_name,
               va.version AS model_a_version, vb.version AS model_b_version
        FROM model_ab_tests t
        JOIN machines mc ON mc.id = t.machine_id
        JOIN model_versions va ON va.id = t.model_a_id
        JOIN model_versions vb ON vb.id = t.model_b_id
        WHERE t.status = 'running'
    """


def downgrade() -> None:
    op.execute("DROP VIEW v_latest_model_performance")
    op.execute("DROP VIEW v_active_ab_tests")
    op.drop_index("ix_model_performance_metrics_machine_type_end", "model_performance_metrics")
    op.execute(
        "UPDATE model_performance_metrics SET drift_detected = FALSE WHERE drift_detected IS NULL"
    )
    with op.batch_alter_table("model_performance_metrics") as batch:
        batch.alter_column("drift_detected", existing_type=sa.Boolean(), nullable=False)
    for column in ("external_metadata", "name", "origin"):
        op.execute(f"ALTER TABLE model_versions DROP COLUMN {column}")
    op.drop_table("prediction_daily")
    op.drop_index("ix_prediction_log_batch_id", "prediction_log")
    op.drop_index("ix_prediction_log_machine_id_ts", "prediction_log")
    op.drop_table("prediction_log")
    op.drop_table("prediction_batches")
    op.execute(_latest_view(LATEST_BY["old"]))
    op.execute(_active_ab_view())
