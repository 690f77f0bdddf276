"""Training job leases and attempt history.

Why: a dead worker used to be guessed from host name + PID and a heartbeat age; now a running
job holds a lease (``lease_expires_at``) renewed by its heartbeat, and an expired lease is the
only evidence of a lost worker. Every attempt (which consumer, when, how it ended, its error)
is kept in ``attempt_history``, so a recovered job still shows why its first attempt ended.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("model_training_history") as batch:
        batch.add_column(sa.Column("lease_expires_at", TS))
        batch.add_column(
            sa.Column("attempt_history", JSON, nullable=False, server_default=sa.text("'[]'"))
        )
    with op.batch_alter_table("model_training_history") as batch:
        batch.alter_column("attempt_history", server_default=None)
    # Jobs running at upgrade time get a lease that expires at once: their worker (an older
    # enms) renews no lease, so the watchdog requeues them like any lost job.
    op.execute(
        "UPDATE model_training_history SET lease_expires_at = heartbeat_at "
        "WHERE training_status = 'running'"
    )


def downgrade() -> None:
    with op.batch_alter_table("model_training_history") as batch:
        batch.drop_column("attempt_history")
        batch.drop_column("lease_expires_at")
