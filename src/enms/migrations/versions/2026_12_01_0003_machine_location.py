"""Machines say where they are: ``country`` and ``planned_drivers`` columns.

Why: holiday calendars must come from the machine's own country (no machine gets another
country's holidays by default), and a day-ahead forecast may use only drivers known a day
ahead, which only the user can name. Until now a country could only live in the free-form
``metadata``; the upgrade moves a valid ``metadata["country"]`` into the column (an
unrecognised value stays in metadata, untouched), the downgrade puts it back.

Plain ``ADD/DROP COLUMN`` rather than ``batch_alter_table``: rebuilding ``machines`` on
SQLite would have to drop the views that read it and, with foreign keys on, could cascade
the delete into ``energy_readings``. ``DROP COLUMN`` needs SQLite 3.35 or newer.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# A fixed code list, not a model: safe for a migration to depend on.
from enms.readings.countries import normalise_country

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

# The table as this migration knows it (migrations never import the live models).
machines = sa.table(
    "machines",
    sa.column("id", sa.Integer()),
    sa.column("metadata", JSON),
    sa.column("country", sa.String(2)),
)


def _iso_alpha2(value: Any) -> str | None:
    """The ISO 3166-1 alpha-2 code in old metadata, else None (the value is left alone)."""
    if not isinstance(value, str):
        return None
    try:
        return normalise_country(value)
    except ValueError:
        return None


def upgrade() -> None:
    op.add_column("machines", sa.Column("country", sa.String(2), nullable=True))
    op.add_column(
        "machines",
        sa.Column("planned_drivers", JSON, nullable=False, server_default=sa.text("'[]'")),
    )
    conn = op.get_bind()
    for row in conn.execute(sa.select(machines.c.id, machines.c.metadata)).all():
        meta = dict(row.metadata or {})
        code = _iso_alpha2(meta.get("country"))
        if code is None:
            continue
        del meta["country"]
        conn.execute(
            machines.update().where(machines.c.id == row.id).values(country=code, metadata=meta)
        )


def downgrade() -> None:
    conn = op.get_bind()
    query = sa.select(machines.c.id, machines.c.metadata, machines.c.country).where(
        machines.c.country.is_not(None)
    )
    for row in conn.execute(query).all():
        meta = {**(row.metadata or {}), "country": row.country}
        conn.execute(machines.update().where(machines.c.id == row.id).values(metadata=meta))
    op.drop_column("machines", "planned_drivers")
    op.drop_column("machines", "country")
