"""Shared fixtures: a real database per dialect (SQLite always, PostgreSQL when reachable).

PostgreSQL tests skip when no server answers, unless ``ENMS_TEST_REQUIRE_POSTGRES=1`` (set by
CI), which turns an unreachable server into a failure. Each test session gets its own
PostgreSQL database (created in the server named by ``ENMS_TEST_POSTGRES_URL``), migrated
once; tables are emptied after every test that used them.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from enms.api.app import create_app
from enms.bootstrap import full_metadata
from enms.core import schema
from enms.core.clock import FrozenClock
from enms.core.config import Settings
from enms.core.db import SessionFactory, create_db_engine, create_session_factory, session_scope
from enms.core.secrets import InstanceSecret

POSTGRES_URL = os.environ.get(
    "ENMS_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REQUIRE_POSTGRES = os.environ.get("ENMS_TEST_REQUIRE_POSTGRES") == "1"
FROZEN_AT = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)


def _postgres_available() -> str | None:
    """None when PostgreSQL answers, else why not."""
    try:
        engine = create_db_engine(POSTGRES_URL)
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


def require_postgres() -> None:
    """Skip (or, in CI, fail) when PostgreSQL is not reachable."""
    problem = _postgres_available()
    if problem is None:
        return
    if REQUIRE_POSTGRES:
        pytest.fail(f"PostgreSQL is required (ENMS_TEST_REQUIRE_POSTGRES=1) but: {problem}")
    pytest.skip(f"PostgreSQL not reachable at {POSTGRES_URL}: {problem}")


@pytest.fixture(scope="session")
def postgres_server_url() -> str:
    """URL of the PostgreSQL server used to create scratch databases."""
    require_postgres()
    return POSTGRES_URL


def create_scratch_postgres(server_url: str) -> str:
    """Create an empty database on the server and return its URL."""
    name = f"enms_test_{uuid.uuid4().hex[:12]}"
    admin = create_db_engine(server_url).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


def drop_scratch_postgres(server_url: str, url: str) -> None:
    """Drop a database made by :func:`create_scratch_postgres`."""
    name = make_url(url).database
    admin = create_db_engine(server_url).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(
    scope="session", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def migrated_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A migrated database URL, once per dialect per test session."""
    if request.param == "sqlite":
        path: Path = tmp_path_factory.mktemp("db") / "enms.db"
        url = f"sqlite:///{path}"
        engine = create_db_engine(url)
        schema.upgrade(engine)
        engine.dispose()
        yield url
        return
    require_postgres()
    url = create_scratch_postgres(POSTGRES_URL)
    engine = create_db_engine(url)
    schema.upgrade(engine)
    engine.dispose()
    yield url
    drop_scratch_postgres(POSTGRES_URL, url)


@pytest.fixture
def engine(migrated_url: str) -> Iterator[Engine]:
    """An engine on a migrated database; every table is emptied after the test."""
    eng = create_db_engine(migrated_url)
    yield eng
    tables = [t.name for t in reversed(full_metadata().sorted_tables)]
    with eng.begin() as conn:
        if eng.dialect.name == "postgresql":
            conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                conn.execute(text(f"DELETE FROM {table}"))
    eng.dispose()


@pytest.fixture
def session_factory(engine: Engine, tmp_path: Path) -> SessionFactory:
    """Sessions on the test database (with an instance secret generated for the test)."""
    return create_session_factory(engine, secret=InstanceSecret(data_dir=tmp_path / "data"))


@pytest.fixture
def session(session_factory: SessionFactory) -> Iterator[Session]:
    """One committed unit of work (like a request or command)."""
    with session_scope(session_factory) as s:
        yield s


@pytest.fixture
def clock() -> FrozenClock:
    """A frozen clock at a fixed instant."""
    return FrozenClock(FROZEN_AT)


@pytest.fixture
def settings(migrated_url: str, tmp_path: Path) -> Settings:
    """Settings pointing at the test database.

    The consumer enqueues no periodic jobs: Huey's schedule follows the wall clock, so a job
    firing at, say, hh:02 would run in the middle of a test; tests run periodic jobs themselves.
    """
    return Settings(
        database_url=migrated_url, data_dir=tmp_path / "data", queue={"periodic": False}
    )


@pytest.fixture
def client(settings: Settings, engine: Engine, clock: FrozenClock) -> Iterator[TestClient]:
    """An HTTP client on the real application and database."""
    with TestClient(create_app(settings, engine=engine, clock=clock)) as c:
        yield c
