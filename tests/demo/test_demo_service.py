"""`enms demo`'s database builder: real import path, determinism, never clobbering user data."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from enms.core.clock import FrozenClock
from enms.core.db import create_session_factory, session_scope
from enms.core.errors import Conflict
from enms.demo import service
from enms.readings import service as readings
from enms.readings.models import EnergyReading


def _build(path: Path, clock: FrozenClock, seed: int = 7) -> service.DemoSummary:
    engine, summary = service.build(
        path, seed=seed, days=28, clock=clock, batch_size=5000, report=lambda _m: None
    )
    engine.dispose()
    return summary


def test_demo_builds_a_plant_of_varied_machines(tmp_path: Path, clock: FrozenClock) -> None:
    path = tmp_path / "demo.db"
    summary = _build(path, clock)
    assert summary.machines >= 8
    assert summary.readings == summary.machines * 28 * 96
    assert service.is_demo_database(path)
    from enms.core.db import create_db_engine

    engine = create_db_engine(f"sqlite:///{path}")
    with session_scope(create_session_factory(engine)) as session:
        machines = readings.list_machines(session=session)
        anomalies = session.scalar(
            select(func.count())
            .select_from(EnergyReading)
            .where(EnergyReading.is_anomaly.is_(True))
        )
    engine.dispose()
    assert len({m.machine_type for m in machines}) >= 8
    assert all(m.readings_count == 28 * 96 for m in machines)
    assert anomalies is not None
    assert anomalies > 0


def test_demo_rebuilds_its_own_file_but_refuses_others(tmp_path: Path, clock: FrozenClock) -> None:
    path = tmp_path / "demo.db"
    first = _build(path, clock)
    second = _build(path, clock)
    assert first == second
    precious = tmp_path / "plant.db"
    precious.write_bytes(b"SQLite format 3\x00 not really, but not ours either")
    with pytest.raises(Conflict, match="not an enms demo database"):
        _build(precious, clock)
    assert precious.read_bytes().startswith(b"SQLite format 3")
