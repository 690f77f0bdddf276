"""Training jobs: cancel requests, the worker holding a job, and once-per-tick scheduler runs.

Why: jobs must be cancellable at a stage boundary and recoverable when their worker dies;
periodic jobs must run once per tick even with several workers, which the unique
(job_name, tick) row guarantees.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("model_training_history") as batch:
        batch.add_column(
            sa.Column("cancel_requested", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("worker", sa.String(200)))
    with op.batch_alter_table("model_training_history") as batch:
        batch.alter_column("cancel_requested", server_default=None)
    op.create_table(
        "scheduler_runs",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("job_name", sa.String(64), nullable=False),
        sa.Column("tick", TS, nullable=False),
        sa.Column("trigger", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("started_at", TS, nullable=False),
        sa.Column("finished_at", TS),
        sa.Column("result", JSON),
        sa.Column("error", sa.Text()),
        sa.UniqueConstraint("job_name", "tick"),
    )


def downgrade() -> None:
    op.drop_table("scheduler_runs")
    with op.batch_alter_table("model_training_history") as batch:
        batch.drop_column("worker")
        batch.drop_column("cancel_requested")
