"""Alembic environment: runs migrations on the connection handed over by ``enms.core.schema``.

Migrations never import live models; they describe the schema as it was at their revision.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, MetaData

from enms.core.orm import NAMING_CONVENTION

connection: Connection | None = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - enms always passes its own connection
    raise RuntimeError("run migrations through `enms db upgrade`, which supplies the connection")

context.configure(
    connection=connection,
    render_as_batch=connection.dialect.name == "sqlite",
    # Only the naming convention (so constraints get stable names), never live tables.
    target_metadata=MetaData(naming_convention=NAMING_CONVENTION),
    transaction_per_migration=True,
)
with context.begin_transaction():
    context.run_migrations()
