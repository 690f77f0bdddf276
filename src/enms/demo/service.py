"""Build the demo database: a fresh SQLite file holding the synthetic plant.

The readings go through the same parse-and-import path as ``enms import readings`` (CSV
text → :func:`enms.readings.parsing.parse_csv` → :func:`enms.readings.service.import_readings`),
so the demo exercises what users run.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine

from enms.core import schema
from enms.core.clock import Clock
from enms.core.db import create_db_engine, create_session_factory, session_scope
from enms.core.errors import Conflict
from enms.core.meta import InstanceInfo
from enms.readings import parsing
from enms.readings import service as readings
from enms.readings.schemas import MachineCreate

DEMO_KIND = "demo"


@dataclass(frozen=True)
class DemoSummary:
    """What the demo built."""

    database_url: str
    machines: int
    readings: int
    seed: int


def is_demo_database(path: Path) -> bool:
    """True when ``path`` is an enms database marked as a demo (opened read-only: a file
    that turns out not to be ours is left exactly as it was)."""
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error:
        return False
    try:
        row = conn.execute("SELECT value FROM instance_info WHERE key = 'kind'").fetchone()
    except sqlite3.Error:
        return False
    finally:
        conn.close()
    return row is not None and row[0] == DEMO_KIND


def prepare_file(path: Path) -> bool:
    """Remove an earlier demo database at ``path`` (True if there was one); refuse to touch
    anything else."""
    if not path.exists():
        return False
    if not is_demo_database(path):
        raise Conflict(
            f"{path} exists and is not an enms demo database; refusing to overwrite it. "
            "Pass another file with --db, or move it away."
        )
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return True


def build(
    path: Path,
    *,
    seed: int,
    days: int,
    clock: Clock,
    batch_size: int,
    report: Callable[[str], None],
) -> tuple[Engine, DemoSummary]:
    """Create the demo database at ``path`` and fill it with the synthetic plant."""
    from enms.demo.generator import generate_plant

    if prepare_file(path):
        report(
            f"replacing the earlier demo database {path} (its versions, evaluations and "
            f"anything added to it); to reopen a demo instead, run "
            f"ENMS_DATABASE_URL=sqlite:///{path} enms serve"
        )
    url = f"sqlite:///{path}"
    engine = create_db_engine(url)
    schema.upgrade(engine)
    factory = create_session_factory(engine)
    with session_scope(factory) as session:
        session.add_all(
            [
                InstanceInfo(key="kind", value=DEMO_KIND),
                InstanceInfo(key="demo_seed", value=str(seed)),
            ]
        )
    report(f"generating the demo plant (seed {seed}, {days} days of 15-minute readings)…")
    plant = generate_plant(seed=seed, days=days)
    total = 0
    for machine in plant:
        csv_text = machine.readings.rename_axis("timestamp").to_csv(
            date_format="%Y-%m-%dT%H:%M:%SZ"
        )
        parsed = parsing.parse_csv(csv_text)
        with session_scope(factory) as session:
            created = readings.create_machine(
                session=session,
                data=MachineCreate(
                    name=machine.name,
                    machine_type=machine.machine_type,
                    timezone=machine.timezone,
                    country=machine.country,
                    planned_drivers=list(machine.planned_drivers),
                    metadata={**machine.metadata, "demo": True},
                ),
                clock=clock,
            )
            target = readings.get_machine(session=session, machine_id=created.id)
            summary = readings.import_readings(
                session=session, machine=target, parsed=parsed, batch_size=batch_size
            )
        total += summary.rows_written
        report(
            f"  {machine.name:<28} {machine.machine_type:<18} {summary.rows_written:>7,} readings"
        )
    return engine, DemoSummary(url, len(plant), total, seed)
