"""The demo's machines say where they are: Germany, with a production plan and shifts."""

from __future__ import annotations

from pathlib import Path

from enms.core.clock import FrozenClock
from enms.core.db import create_db_engine, create_session_factory, session_scope
from enms.demo import service
from enms.readings import service as readings


def test_demo_machines_have_a_country_and_planned_drivers(
    tmp_path: Path, clock: FrozenClock
) -> None:
    path = tmp_path / "demo.db"
    engine, _ = service.build(
        path, seed=7, days=14, clock=clock, batch_size=5000, report=lambda _m: None
    )
    engine.dispose()
    engine = create_db_engine(f"sqlite:///{path}")
    with session_scope(create_session_factory(engine)) as session:
        machines = {m.machine_type: m for m in readings.list_machines(session=session)}
    engine.dispose()
    assert {m.country for m in machines.values()} == {"DE"}
    assert all("country" not in m.metadata for m in machines.values())
    assert machines["cnc_line"].planned_drivers == ["production_units", "operating_hours"]
    assert machines["lighting"].planned_drivers == ["operating_hours"]  # produces nothing
