"""Schema version management: Alembic upgrade/downgrade and the stale-schema check.

``enms db upgrade`` calls :func:`upgrade`; ``enms serve`` calls :func:`require_current`
and refuses to start (printing the command that fixes it) when the database is behind.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from enms.core.errors import SchemaOutOfDate

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(engine: Engine) -> Config:
    """An Alembic config bound to ``engine`` (no alembic.ini needed)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("file_template", "%%(year)d_%%(month).2d_%%(day).2d_%%(rev)s_%%(slug)s")
    config.attributes["engine"] = engine
    return config


def head_revision(engine: Engine) -> str:
    """The newest revision this code knows."""
    heads = ScriptDirectory.from_config(alembic_config(engine)).get_heads()
    if len(heads) != 1:
        raise RuntimeError(f"migration history must have exactly one head, found {heads}")
    return heads[0]


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (None for an empty database)."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply migrations up to ``revision``."""
    _run(engine, lambda cfg: command.upgrade(cfg, revision))


def downgrade(engine: Engine, revision: str) -> None:
    """Revert migrations down to ``revision`` (``base`` empties the schema)."""
    _run(engine, lambda cfg: command.downgrade(cfg, revision))


def _run(engine: Engine, action: object) -> None:
    config = alembic_config(engine)
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        action(config)  # type: ignore[operator]


def require_current(engine: Engine) -> None:
    """Raise :class:`SchemaOutOfDate` naming the fix unless the schema is at head."""
    current, head = current_revision(engine), head_revision(engine)
    if current == head:
        return
    url = engine.url.render_as_string(hide_password=True)
    if current is None:
        problem = f"the database {url} has no enms schema yet"
    else:
        problem = f"the database {url} is at schema revision {current}, this enms needs {head}"
    raise SchemaOutOfDate(
        f"{problem}; run `enms db upgrade` (with the same ENMS_DATABASE_URL) "
        "to bring it up to date",
        details={"current": current, "head": head},
    )
