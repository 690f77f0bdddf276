"""The migration history: one head, reversible with data, and matching the ORM models."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect, text
from tests.conftest import (
    POSTGRES_URL,
    create_scratch_postgres,
    drop_scratch_postgres,
    require_postgres,
)

from enms.bootstrap import full_metadata
from enms.core import schema
from enms.core.db import create_db_engine
from enms.core.errors import SchemaOutOfDate

TABLES = {
    "machines",
    "energy_readings",
    "model_versions",
    "model_performance_metrics",
    "model_training_history",
    "model_ab_tests",
    "model_alerts",
    "model_aliases",
    "audit_log",
    "instance_info",
}
VIEWS = {"v_latest_model_performance", "v_active_ab_tests", "v_unresolved_model_alerts"}


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def empty_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An engine on an empty database of each dialect."""
    if request.param == "sqlite":
        engine = create_db_engine(f"sqlite:///{tmp_path / 'm.db'}")
        yield engine
        engine.dispose()
        return
    require_postgres()
    url = create_scratch_postgres(POSTGRES_URL)
    engine = create_db_engine(url)
    yield engine
    engine.dispose()
    drop_scratch_postgres(POSTGRES_URL, url)


def test_history_has_a_single_head(empty_engine: Engine) -> None:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(schema.alembic_config(empty_engine))
    assert len(script.get_heads()) == 1
    revisions = list(script.walk_revisions())
    assert all(r.down_revision is None or isinstance(r.down_revision, str) for r in revisions)


def test_upgrade_creates_every_table_and_view(empty_engine: Engine) -> None:
    schema.upgrade(empty_engine)
    inspector = inspect(empty_engine)
    assert set(inspector.get_table_names()) >= TABLES
    assert set(inspector.get_view_names()) >= VIEWS


def test_upgrade_downgrade_upgrade_with_data(empty_engine: Engine) -> None:
    schema.upgrade(empty_engine)
    with empty_engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO machines (name, machine_type, timezone, metadata, created_at) "
                "VALUES ('m1', 'compressor', 'UTC', '{}', '2025-01-01 00:00:00')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO energy_readings (machine_id, ts, energy_kwh) "
                "VALUES (1, '2025-01-01 00:00:00', 3.5)"
            )
        )
    schema.downgrade(empty_engine, "base")
    assert schema.current_revision(empty_engine) is None
    assert "machines" not in inspect(empty_engine).get_table_names()
    schema.upgrade(empty_engine)
    assert schema.current_revision(empty_engine) == schema.head_revision(empty_engine)
    with empty_engine.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM machines")) == 0


def test_models_match_migrations(empty_engine: Engine) -> None:
    schema.upgrade(empty_engine)
    with empty_engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, full_metadata())
    assert diff == []


def test_stale_schema_is_refused_with_the_fix(empty_engine: Engine) -> None:
    with pytest.raises(SchemaOutOfDate, match="enms db upgrade"):
        schema.require_current(empty_engine)
    schema.upgrade(empty_engine)
    schema.require_current(empty_engine)
