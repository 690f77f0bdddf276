"""Build the demo database: the synthetic plant in a SQLite file or a configured database.

A SQLite file is (re)created; any other database (PostgreSQL) is built into when it holds
no enms schema yet, or rebuilt when it is an earlier demo (marked ``kind = demo`` in
``instance_info``). A database holding anything else is never touched.

The readings go through the same parse-and-import path as ``enms import readings`` (CSV
text → :func:`enms.readings.parsing.parse_csv` → :func:`enms.readings.service.import_readings`),
so the demo exercises what users run. With ``replay=True`` only the first two months go in
(the first training window, :func:`enms.demo.training.first_window_end`); the rest of the
year arrives later through :mod:`enms.demo.replay`, day by day, along the same path
(:func:`import_frame`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pandas as pd
from sqlalchemy import Engine, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from enms.core import schema
from enms.core.clock import Clock
from enms.core.db import (
    SessionFactory,
    create_db_engine,
    create_session_factory,
    session_scope,
)
from enms.core.errors import Conflict
from enms.core.meta import InstanceInfo
from enms.readings import parsing
from enms.readings import service as readings
from enms.readings.models import Machine
from enms.readings.schemas import ImportSummary, MachineCreate

DEMO_KIND = "demo"


@dataclass(frozen=True)
class DemoSummary:
    """What the demo built."""

    database_url: str
    machines: int
    readings: int
    seed: int
    #: End of the first training window (the first two months); None for a shorter plant.
    training_end: datetime | None = None
    #: Readings left out of the database for the replay to import (0 without replay).
    pending: int = 0


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
            "Pass another file with --db (or set ENMS_DATABASE_URL to another), or move it away."
        )
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return True


def prepare_database(engine: Engine) -> bool:
    """Empty an earlier demo in ``engine``'s database (True if there was one); refuse to
    touch one that holds anything of enms's that is not a demo."""
    where = engine.url.render_as_string(hide_password=True)
    revision = schema.current_revision(engine)
    if revision is None:
        if inspect(engine).has_table("machines"):
            raise Conflict(
                f"{where} has enms tables but no schema revision; refusing to build the "
                "demo into it. Point ENMS_DATABASE_URL at an empty database."
            )
        return False
    if _kind(engine) != DEMO_KIND:
        raise Conflict(
            f"{where} holds an enms database that is not a demo; refusing to overwrite it. "
            "Point ENMS_DATABASE_URL at an empty database (or an earlier demo), or pass "
            "--db FILE for a SQLite demo."
        )
    schema.downgrade(engine, "base")
    return True


def _kind(engine: Engine) -> str | None:
    try:
        with engine.connect() as conn:
            kind: str | None = conn.execute(
                text("SELECT value FROM instance_info WHERE key = 'kind'")
            ).scalar_one_or_none()
    except SQLAlchemyError:
        kind = None
    return kind


def open_demo(destination: Path | str) -> tuple[Engine, str]:
    """The engine and URL of an existing demo database (``enms demo --resume``);
    :class:`Conflict` when ``destination`` holds no demo."""
    url, path = _resolve(destination)
    if path is not None:
        if not is_demo_database(path):
            raise Conflict(
                f"{path} is not an enms demo database (or does not exist); build one with "
                "`enms demo` (without --resume)"
            )
        return create_db_engine(url), url
    engine = create_db_engine(url)
    if _kind(engine) != DEMO_KIND:
        where = engine.url.render_as_string(hide_password=True)
        engine.dispose()
        raise Conflict(f"{where} holds no enms demo; build one with `enms demo` (without --resume)")
    return engine, url


def build(
    destination: Path | str,
    *,
    seed: int,
    days: int,
    clock: Clock,
    batch_size: int,
    report: Callable[[str], None],
    reopen_hint: str = "enms serve",
    freq: str = "15min",
    replay: bool = False,
) -> tuple[Engine, DemoSummary]:
    """Create the demo database and fill it with the synthetic plant.

    ``destination`` is a SQLite file to (re)create, or a database URL (``sqlite:///…`` is
    treated as its file). ``reopen_hint`` is the command that serves it again, for the
    message shown when an earlier demo is replaced. ``replay``: import only the readings of
    the first training window (all of them when the plant is not longer than that).
    """
    url, path = _resolve(destination)
    if path is not None:
        if prepare_file(path):
            report(
                f"replacing the earlier demo database {path} (its versions, evaluations and "
                f"anything added to it); to reopen a demo instead, run {reopen_hint}"
            )
        engine = create_db_engine(url)
    else:
        engine = create_db_engine(url)
        if prepare_database(engine):
            report(
                f"replacing the earlier demo in {engine.url.render_as_string(hide_password=True)}"
                f" (its versions, evaluations and anything added to it); to reopen a demo "
                f"instead, run {reopen_hint}"
            )
    schema.upgrade(engine)
    summary = populate(
        create_session_factory(engine),
        seed=seed,
        days=days,
        freq=freq,
        clock=clock,
        batch_size=batch_size,
        report=report,
        replay=replay,
    )
    return engine, DemoSummary(
        url, summary.machines, summary.readings, seed, summary.training_end, summary.pending
    )


def populate(
    factory: SessionFactory,
    *,
    seed: int,
    days: int,
    freq: str,
    clock: Clock,
    batch_size: int,
    report: Callable[[str], None],
    replay: bool,
) -> DemoSummary:
    """Fill an empty, migrated database with the demo plant (``build`` without the
    database handling); the summary's ``database_url`` is left empty."""
    from enms.demo.generator import generate_plant
    from enms.demo.training import first_window_end

    with session_scope(factory) as session:
        session.add_all(
            [
                InstanceInfo(key="kind", value=DEMO_KIND),
                InstanceInfo(key="demo_seed", value=str(seed)),
                # what the replay needs to regenerate the same plant
                InstanceInfo(key="demo_days", value=str(days)),
                InstanceInfo(key="demo_freq", value=freq),
            ]
        )
    report(f"generating the demo plant (seed {seed}, {days} days of {freq} readings)…")
    plant = generate_plant(seed=seed, days=days, freq=freq)
    index = plant[0].readings.index
    training_end = first_window_end(index[0].to_pydatetime(), index[-1].to_pydatetime())
    cut = training_end if replay else None
    total = pending = 0
    for machine in plant:
        rows = machine.readings if cut is None else machine.readings[index < cut]
        pending += len(machine.readings) - len(rows)
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
            summary = import_frame(session, target, rows, batch_size=batch_size)
        total += summary.rows_written
        report(
            f"  {machine.name:<28} {machine.machine_type:<18} {summary.rows_written:>7,} readings"
        )
    return DemoSummary("", len(plant), total, seed, training_end, pending)


def import_frame(
    session: Session, machine: Machine, frame: pd.DataFrame, *, batch_size: int
) -> ImportSummary:
    """Import generated readings (UTC index) as ``enms import readings`` would: CSV text,
    parsed and validated, then upserted (so importing the same rows twice writes nothing
    new)."""
    csv_text = frame.rename_axis("timestamp").to_csv(date_format="%Y-%m-%dT%H:%M:%SZ")
    parsed = parsing.parse_csv(csv_text)
    return readings.import_readings(
        session=session, machine=machine, parsed=parsed, batch_size=batch_size
    )


def _resolve(destination: Path | str) -> tuple[str, Path | None]:
    """The database URL, and the SQLite file behind it (None for a server database)."""
    if isinstance(destination, Path):
        return f"sqlite:///{destination}", destination
    parsed = make_url(destination)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database in (None, "", ":memory:"):
            raise Conflict("the demo needs a SQLite file, not an in-memory database")
        path = Path(parsed.database).resolve()
        return f"sqlite:///{path}", path
    return destination, None
