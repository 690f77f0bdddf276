"""Scenario ``import_readings``: a readings CSV into SQLite and PostgreSQL, through enms.

Measures the whole user path (read file → validate → upsert → commit) in rows per second,
next to the floor measured in the same run on an identical table: plain ``executemany`` of
``csv.reader`` rows into SQLite in one transaction, and ``COPY … FROM STDIN`` of the same file
into PostgreSQL. Target: at least 50 % of the floor on each. PostgreSQL rows are skipped
(with a note) when no server answers at ``ENMS_TEST_POSTGRES_URL``.
"""

from __future__ import annotations

import csv
import sqlite3
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import text

from benchmarks.harness import Row
from benchmarks.scratch_db import POSTGRES_URL, drop_postgres, scratch_postgres
from enms.core import schema
from enms.core.db import create_db_engine, create_session_factory, session_scope
from enms.readings import parsing, service
from enms.readings.schemas import MachineCreate

NAME = "import_readings"
COLUMNS = ("timestamp", "energy_kwh", "outdoor_temp_c", "production_units", "operating_hours")


class _Clock:
    def now(self) -> datetime:
        return datetime.now(UTC)


def write_csv(path: Path, rows: int) -> None:
    """A readings file of ``rows`` 15-minute readings with three drivers."""
    rng = np.random.default_rng(1)
    ts = pd.date_range("2000-01-01", periods=rows, freq="15min")
    frame = pd.DataFrame(
        {
            "timestamp": ts.strftime("%Y-%m-%dT%H:%M:%S"),
            "energy_kwh": np.round(rng.uniform(5, 50, rows), 3),
            "outdoor_temp_c": np.round(rng.normal(10, 8, rows), 2),
            "production_units": rng.integers(0, 400, rows),
            "operating_hours": np.round(rng.uniform(0, 0.25, rows), 3),
        }
    )
    frame.to_csv(path, index=False)


def _enms_import(url: str, path: Path) -> float:
    engine = create_db_engine(url)
    schema.upgrade(engine)
    factory = create_session_factory(engine)
    with session_scope(factory) as session:
        machine = service.create_machine(
            session=session, data=MachineCreate(name="bench"), clock=_Clock()
        )
    started = time.perf_counter()
    parsed = parsing.parse_csv(path.read_bytes())
    with session_scope(factory) as session:
        target = service.get_machine(session=session, machine_id=machine.id)
        service.import_readings(session=session, machine=target, parsed=parsed, batch_size=50_000)
    elapsed = time.perf_counter() - started
    engine.dispose()
    return elapsed


def _sqlite_floor(path: Path, csv_path: Path) -> float:
    engine = create_db_engine(f"sqlite:///{path}")
    schema.upgrade(engine)
    engine.dispose()
    conn = sqlite3.connect(path)
    conn.execute(
        "INSERT INTO machines (id, name, machine_type, timezone, metadata, created_at) "
        "VALUES (1, 'floor', 'g', 'UTC', '{}', '2000-01-01 00:00:00')"
    )
    conn.commit()
    started = time.perf_counter()
    with csv_path.open(newline="") as handle:
        reader = csv.reader(handle)
        next(reader)
        conn.execute("BEGIN")
        conn.executemany(
            "INSERT INTO energy_readings (machine_id, ts, energy_kwh, outdoor_temp_c, "
            "production_units, operating_hours) VALUES (1, ?, ?, ?, ?, ?)",
            reader,
        )
        conn.commit()
    elapsed = time.perf_counter() - started
    conn.close()
    return elapsed


def _postgres_floor(url: str, csv_path: Path) -> float:
    engine = create_db_engine(url)
    schema.upgrade(engine)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO machines (id, name, machine_type, timezone, metadata, "
                "created_at) VALUES (1, 'floor', 'g', 'UTC', '{}', now())"
            )
        )
        conn.execute(text("ALTER TABLE energy_readings ALTER machine_id SET DEFAULT 1"))
    raw = engine.raw_connection()
    started = time.perf_counter()
    copy_sql = (
        f"COPY energy_readings (ts, {', '.join(COLUMNS[1:])}) "
        "FROM STDIN WITH (FORMAT csv, HEADER true)"
    )
    with (
        raw.cursor() as cur,  # type: ignore[attr-defined]
        csv_path.open("rb") as handle,
        cur.copy(copy_sql) as copy,
    ):
        while chunk := handle.read(1 << 20):
            copy.write(chunk)
    raw.commit()
    elapsed = time.perf_counter() - started
    raw.close()
    engine.dispose()
    return elapsed


def run(*, quick: bool) -> list[Row]:
    """Import ``1,000,000`` (quick: 50,000) readings into each database."""
    rows = 50_000 if quick else 1_000_000
    out: list[Row] = []
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        csv_path = workdir / "readings.csv"
        write_csv(csv_path, rows)
        floor = _sqlite_floor(workdir / "floor.db", csv_path)
        ours = _enms_import(f"sqlite:///{workdir / 'enms.db'}", csv_path)
        out.append(
            Row(
                NAME,
                f"sqlite {rows:,} rows",
                rows / ours,
                "rows/s",
                "executemany",
                rows / floor,
                target=0.5,
            )
        )
        floor_url, ours_url = scratch_postgres(), scratch_postgres()
        if floor_url is None or ours_url is None:
            out.append(
                Row(
                    NAME,
                    "postgresql",
                    float("nan"),
                    "rows/s",
                    note=f"skipped: no PostgreSQL at {POSTGRES_URL}",
                )
            )
            return out
        try:
            floor = _postgres_floor(floor_url, csv_path)
            ours = _enms_import(ours_url, csv_path)
        finally:
            drop_postgres(floor_url)
            drop_postgres(ours_url)
        out.append(
            Row(
                NAME,
                f"postgresql {rows:,} rows",
                rows / ours,
                "rows/s",
                "COPY",
                rows / floor,
                target=0.5,
            )
        )
    return out
