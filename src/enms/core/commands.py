"""``enms db …``: schema management, backup and restore commands (the logic is in
:mod:`enms.core.schema` and :mod:`enms.core.backup`)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import click

from enms.core import backup, schema
from enms.core.cli_context import AppContext, emit, json_option, pass_app


@click.group("db")
@pass_app
def db_group(app: AppContext) -> None:
    """Create or upgrade the database schema; back it up and restore it."""
    app.require_schema = False


@db_group.command("upgrade")
@click.option("--revision", default="head", show_default=True, help="Target revision.")
@json_option
@pass_app
def upgrade(app: AppContext, revision: str, as_json: bool) -> None:
    """Apply migrations (creates the database on first run)."""
    before = schema.current_revision(app.engine)
    schema.upgrade(app.engine, revision)
    after = schema.current_revision(app.engine)
    url = app.engine.url.render_as_string(hide_password=True)
    result = {"database": url, "from": before, "to": after}
    emit(
        result,
        as_json,
        lambda r: (
            f"{r['database']}: already at {r['to']}"
            if r["from"] == r["to"]
            else f"{r['database']}: upgraded {r['from'] or '(empty)'} -> {r['to']}"
        ),
    )


@db_group.command("current")
@json_option
@pass_app
def current(app: AppContext, as_json: bool) -> None:
    """Show the schema revision of the database and of this code."""
    current_rev, head = schema.current_revision(app.engine), schema.head_revision(app.engine)
    result = {
        "database": app.engine.url.render_as_string(hide_password=True),
        "current": current_rev,
        "head": head,
        "up_to_date": current_rev == head,
    }
    emit(
        result,
        as_json,
        lambda r: (
            f"{r['database']}: at {r['current'] or '(empty)'}, code needs {r['head']}"
            + ("" if r["up_to_date"] else " — run `enms db upgrade`")
        ),
    )


@db_group.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@json_option
@pass_app
def backup_command(app: AppContext, path: Path, as_json: bool) -> None:
    """Write a consistent backup of the database to PATH (safe while enms runs).

    SQLite: an online copy of the database file; PostgreSQL: pg_dump --format=custom.
    """
    result = dataclasses.asdict(backup.backup(database_url=app.settings.database_url, path=path))
    emit(
        result,
        as_json,
        lambda r: (
            f"{r['database']}: backed up to {r['path']} "
            f"({r['size_bytes']:,} bytes in {r['seconds']:g} s, {r['method']})"
        ),
    )


@db_group.command("restore")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace a database that is not empty.")
@json_option
@pass_app
def restore_command(app: AppContext, path: Path, force: bool, as_json: bool) -> None:
    """Restore the backup at PATH into the database (stop enms serve and workers first).

    SQLite: copied into the database file; PostgreSQL: pg_restore --clean --if-exists
    --no-owner, in one transaction. A database that is not empty needs --force.
    """
    done = backup.restore(database_url=app.settings.database_url, path=path, force=force)
    result: dict[str, Any] = dataclasses.asdict(done)
    current_rev, head = schema.current_revision(app.engine), schema.head_revision(app.engine)
    result |= {"current": current_rev, "head": head, "up_to_date": current_rev == head}
    emit(
        result,
        as_json,
        lambda r: (
            f"{r['database']}: restored from {r['path']} in {r['seconds']:g} s, "
            f"at {r['current'] or '(empty)'}"
            + ("" if r["up_to_date"] else f", code needs {r['head']} — run `enms db upgrade`")
        ),
    )
