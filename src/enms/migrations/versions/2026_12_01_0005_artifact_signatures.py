"""Artifact signatures: an HMAC-SHA256 per model version under the instance secret.

Why: the stored SHA-256 proves integrity, not origin — whoever can write the database could
store any pickle and have enms load it. A version's artifact is now loaded only when its
signature (keyed with ``ENMS_SECRET_KEY`` or the generated ``data_dir/secret_key``) matches.

Existing versions are left unsigned on purpose: signing them here would vouch for whatever
bytes the database holds today, and the migration may not run where the secret lives. They
are refused with a message saying how to go on: retrain, or — for an operator who trusts the
database's contents — ``enms models sign-unsigned``.

(Chained to 0004 for the merge; tested on the tx branch chained to 0002.)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("model_versions", sa.Column("artifact_signature", sa.String(64)))


def downgrade() -> None:
    # A plain DROP COLUMN (SQLite >= 3.35), not batch mode: rebuilding model_versions would
    # trip over the views that read it.
    op.execute("ALTER TABLE model_versions DROP COLUMN artifact_signature")
