"""A/B tests with their design, promotion-gate verdicts on versions, and promotion watches.

Why: ``model_ab_tests`` held only a split and a winner; a test now records its design
(duration, minimum sample per arm, alpha, primary and guardrail metrics, sequential or fixed
horizon, the assignment slot) and who stopped it, and at most one test runs per (machine,
model type) — a partial unique index, so two concurrent starts cannot both succeed.
``model_versions`` gets the promotion gate's verdicts (``gate``, ``gate_passed``: None for
versions never gated). ``promotion_watches`` follows a new champion for the watch period
after its promotion (guarded rollback). ``v_active_ab_tests`` is recreated (PostgreSQL
expands ``t.*`` when a view is created). Plain ``ADD/DROP COLUMN`` rather than
``batch_alter_table``: rebuilding a table on SQLite breaks the views that name it.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
TS = sa.DateTime(timezone=True)
RUNNING = "status = 'running'"
AB_COLUMNS = (
    ("duration_days", sa.Float(), "14"),
    ("min_samples_per_arm", sa.Integer(), "300"),
    ("alpha", sa.Float(), "0.05"),
    ("primary_metric", sa.String(32), "'mae'"),
    ("guardrails", JSON, "'[]'"),
    ("guardrail_max_worse", sa.Float(), "0.05"),
    ("sequential", sa.Boolean(), "false"),
    ("slot_minutes", sa.Integer(), "60"),
)

ACTIVE_VIEW = """
    CREATE VIEW v_active_ab_tests AS
    SELECT t.*, mc.name AS machine_name,
           va.version AS model_a_version, vb.version AS model_b_version
    FROM model_ab_tests t
    JOIN machines mc ON mc.id = t.machine_id
    JOIN model_versions va ON va.id = t.model_a_id
    JOIN model_versions vb ON vb.id = t.model_b_id
    WHERE t.status = 'running'
"""


def upgrade() -> None:
    op.execute("DROP VIEW v_active_ab_tests")
    for name, type_, default in AB_COLUMNS:
        op.add_column(
            "model_ab_tests",
            sa.Column(name, type_, nullable=False, server_default=sa.text(default)),
        )
    op.add_column("model_ab_tests", sa.Column("stopped_by", sa.String(200)))
    op.add_column("model_ab_tests", sa.Column("stop_reason", sa.Text()))
    op.add_column("model_ab_tests", sa.Column("promotion", sa.Text()))
    op.add_column("model_ab_tests", sa.Column("analysed_at", TS))
    op.create_index(
        "uq_model_ab_tests_one_running",
        "model_ab_tests",
        ["machine_id", "model_type"],
        unique=True,
        sqlite_where=sa.text(RUNNING),
        postgresql_where=sa.text(RUNNING),
    )
    op.execute(ACTIVE_VIEW)
    op.add_column("model_versions", sa.Column("gate", JSON))
    op.add_column("model_versions", sa.Column("gate_passed", sa.Boolean()))
    op.create_table(
        "promotion_watches",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "machine_id",
            sa.Integer(),
            sa.ForeignKey("machines.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("model_type", sa.String(32), nullable=False),
        sa.Column(
            "champion_id",
            sa.Integer(),
            sa.ForeignKey("model_versions.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "previous_id",
            sa.Integer(),
            sa.ForeignKey("model_versions.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("promoted_at", TS, nullable=False),
        sa.Column("watch_until", TS, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("decided_at", TS),
        sa.Column("result", JSON, nullable=False),
    )
    op.create_index("ix_promotion_watches_state", "promotion_watches", ["state"])


def downgrade() -> None:
    op.drop_index("ix_promotion_watches_state", "promotion_watches")
    op.drop_table("promotion_watches")
    op.drop_column("model_versions", "gate_passed")
    op.drop_column("model_versions", "gate")
    op.execute("DROP VIEW v_active_ab_tests")
    op.drop_index("uq_model_ab_tests_one_running", "model_ab_tests")
    for name in ("analysed_at", "promotion", "stop_reason", "stopped_by"):
        op.drop_column("model_ab_tests", name)
    for name, _type, _default in reversed(AB_COLUMNS):
        op.drop_column("model_ab_tests", name)
    op.execute(ACTIVE_VIEW)
