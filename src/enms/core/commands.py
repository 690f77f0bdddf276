"""``enms db …``: schema management commands."""

from __future__ import annotations

import click

from enms.core import schema
from enms.core.cli_context import AppContext, emit, json_option, pass_app


@click.group("db")
@pass_app
def db_group(app: AppContext) -> None:
    """Create or upgrade the database schema."""
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
