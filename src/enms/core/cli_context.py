"""What every CLI command shares: lazily built settings/engine, and one way to report.

Commands that report take ``--json`` and then print exactly one JSON document on stdout;
progress and logs go to stderr. Domain errors become ``error: …`` on stderr and exit 1.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click
from pydantic import BaseModel
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from enms.core import schema
from enms.core.clock import Clock, SystemClock
from enms.core.config import Settings, get_settings
from enms.core.db import SessionFactory, create_db_engine, create_session_factory
from enms.core.errors import SchemaOutOfDate
from enms.core.secrets import instance_secret_for


@dataclass
class AppContext:
    """Settings read once per invocation, and the engine built from them on first use."""

    overrides: dict[str, Any] = field(default_factory=dict)
    clock: Clock = field(default_factory=SystemClock)
    #: Commands that create or migrate the schema (`enms db …`) turn this off.
    require_schema: bool = True
    _settings: Settings | None = None
    _engine: Engine | None = None
    _factory: SessionFactory | None = None

    @property
    def settings(self) -> Settings:
        """The settings (environment, .env, then command-line overrides)."""
        if self._settings is None:
            self._settings = get_settings(**self.overrides)
        return self._settings

    @property
    def engine(self) -> Engine:
        """The database engine for ``settings.database_url``."""
        if self._engine is None:
            url = self.settings.database_url
            if self.require_schema:
                _refuse_missing_sqlite_file(url)
            self._engine = create_db_engine(url)
            if self.require_schema:
                schema.require_current(self._engine)
        return self._engine

    @property
    def session_factory(self) -> SessionFactory:
        """Sessions on :attr:`engine`."""
        if self._factory is None:
            self._factory = create_session_factory(
                self.engine, secret=instance_secret_for(self.settings)
            )
        return self._factory


def _refuse_missing_sqlite_file(url: str) -> None:
    """Say how to create the database instead of silently creating an empty file."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return
    if not Path(parsed.database).exists():
        raise SchemaOutOfDate(
            f"the database file {parsed.database} does not exist; create it with "
            "`enms db upgrade` (or set ENMS_DATABASE_URL to the one you meant)"
        )


pass_app = click.make_pass_decorator(AppContext, ensure=True)

json_option = click.option(
    "--json", "as_json", is_flag=True, help="Print one JSON document on stdout."
)


def to_jsonable(value: Any) -> Any:
    """Pydantic models and lists of them → plain JSON-compatible data."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, list):
        return [to_jsonable(v) for v in value]
    return value


def emit(result: Any, as_json: bool, human: Callable[[Any], str]) -> None:
    """Print ``result`` as one JSON document, or as ``human(result)`` text."""
    if as_json:
        click.echo(json.dumps(to_jsonable(result), indent=2, default=str))
    else:
        click.echo(human(result))


def progress(message: str) -> None:
    """A progress or log line, on stderr so ``--json`` output stays one document."""
    click.echo(message, err=True)
