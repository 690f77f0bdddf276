"""Migration 0003: a machine's country moves from metadata into its column, and back."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, inspect, text
from tests.conftest import (
    POSTGRES_URL,
    create_scratch_postgres,
    drop_scratch_postgres,
    require_postgres,
)

from enms.core import schema
from enms.core.db import create_db_engine


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine_at_0002(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A database of each dialect migrated to the revision before machines had a country."""
    url = f"sqlite:///{tmp_path / 'm.db'}"
    if request.param == "postgresql":
        require_postgres()
        url = create_scratch_postgres(POSTGRES_URL)
    engine = create_db_engine(url)
    schema.upgrade(engine, "0002")
    yield engine
    engine.dispose()
    if request.param == "postgresql":
        drop_scratch_postgres(POSTGRES_URL, url)


def _metadata(value: Any) -> Any:
    """A JSON column's value: decoded on PostgreSQL, text on SQLite."""
    return json.loads(value) if isinstance(value, str) else value


def test_country_moves_into_the_column_and_back(engine_at_0002: Engine) -> None:
    machines = [
        ("with country", {"country": "de", "site": "Nord"}),
        ("unrecognised", {"country": "Germany"}),
        ("no country", {}),
    ]
    with engine_at_0002.begin() as conn:
        for name, meta in machines:
            conn.execute(
                text(
                    "INSERT INTO machines (name, machine_type, timezone, metadata, created_at) "
                    "VALUES (:name, 'press', 'UTC', :meta, '2025-01-01 00:00:00')"
                ),
                {"name": name, "meta": json.dumps(meta)},
            )
        conn.execute(
            text(
                "INSERT INTO energy_readings (machine_id, ts, energy_kwh) "
                "VALUES (1, '2025-01-01 00:00:00', 3.5)"
            )
        )
    query = text("SELECT name, country, planned_drivers, metadata FROM machines ORDER BY id")

    schema.upgrade(engine_at_0002, "0003")
    with engine_at_0002.connect() as conn:
        rows = {r.name: r for r in conn.execute(query)}
        assert conn.scalar(text("SELECT count(*) FROM energy_readings")) == 1  # untouched
    assert rows["with country"].country == "DE"
    assert _metadata(rows["with country"].metadata) == {"site": "Nord"}
    assert rows["unrecognised"].country is None  # left where it was, for a human to fix
    assert _metadata(rows["unrecognised"].metadata) == {"country": "Germany"}
    assert rows["no country"].country is None
    assert all(_metadata(r.planned_drivers) == [] for r in rows.values())

    schema.downgrade(engine_at_0002, "0002")
    columns = {c["name"] for c in inspect(engine_at_0002).get_columns("machines")}
    assert not {"country", "planned_drivers"} & columns
    with engine_at_0002.connect() as conn:
        metas = {
            r.name: _metadata(r.metadata)
            for r in conn.execute(text("SELECT name, metadata FROM machines"))
        }
        assert conn.scalar(text("SELECT count(*) FROM energy_readings")) == 1
    assert metas == {
        "with country": {"country": "DE", "site": "Nord"},
        "unrecognised": {"country": "Germany"},
        "no country": {},
    }
    schema.upgrade(engine_at_0002)
    with engine_at_0002.connect() as conn:
        again = {r.name: r.country for r in conn.execute(query)}
    assert again == {"with country": "DE", "unrecognised": None, "no country": None}
