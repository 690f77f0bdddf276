"""Queries on ``machines`` and ``energy_readings``. Flushes, never commits."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pandas as pd
from sqlalchemy import String, delete, func, inspect, select, text, type_coerce
from sqlalchemy.orm import Session

from enms.readings.models import EnergyReading, Machine

READING_COLUMNS = ("energy_kwh", "outdoor_temp_c", "production_units", "operating_hours")


def add_machine(session: Session, machine: Machine) -> Machine:
    """Stage a new machine and flush so it gets its id."""
    session.add(machine)
    session.flush()
    return machine


def machine_by_name(session: Session, name: str) -> Machine | None:
    """The machine called ``name``, if any."""
    return session.scalar(select(Machine).where(Machine.name == name))


def list_machines(session: Session) -> list[Machine]:
    """All machines by name."""
    return list(session.scalars(select(Machine).order_by(Machine.name)))


def reading_stats(session: Session) -> dict[int, tuple[int, datetime | None, datetime | None]]:
    """Per machine: number of readings, first and last timestamp."""
    rows = session.execute(
        select(
            EnergyReading.machine_id,
            func.count(),
            func.min(EnergyReading.ts),
            func.max(EnergyReading.ts),
        ).group_by(EnergyReading.machine_id)
    )
    return {mid: (n, first, last) for mid, n, first, last in rows}


def count_readings(session: Session, machine_id: int) -> int:
    """How many readings ``machine_id`` has."""
    return (
        session.scalar(
            select(func.count())
            .select_from(EnergyReading)
            .where(EnergyReading.machine_id == machine_id)
        )
        or 0
    )


def readings_frame(
    session: Session,
    machine_id: int,
    start: datetime | None,
    end: datetime | None,
    limit: int | None = None,
    *,
    after: datetime | None = None,
) -> pd.DataFrame:
    """Readings in ``[start, end)`` (and strictly after ``after``, a paging cursor) as a
    UTC-indexed frame (drivers JSON kept as a column)."""
    # Timestamps come back as the stored text on SQLite (parsed below in one vectorised
    # call) instead of through the per-row UTC type: a year of 15-minute readings is read
    # several times a day by scoring and drift checks, and per-row parsing dominated.
    raw_ts = session.get_bind().dialect.name == "sqlite"
    ts_column = type_coerce(EnergyReading.ts, String) if raw_ts else EnergyReading.ts
    query = select(
        ts_column,
        *(getattr(EnergyReading, c) for c in READING_COLUMNS),
        EnergyReading.drivers,
        EnergyReading.is_anomaly,
    ).where(EnergyReading.machine_id == machine_id)
    if start is not None:
        query = query.where(EnergyReading.ts >= start)
    if end is not None:
        query = query.where(EnergyReading.ts < end)
    if after is not None:
        query = query.where(EnergyReading.ts > after)
    query = query.order_by(EnergyReading.ts)
    if limit is not None:
        query = query.limit(limit)
    rows: list[Any] = list(session.execute(query))
    columns = ["ts", *READING_COLUMNS, "drivers", "is_anomaly"]
    values: list[tuple[Any, ...]] = list(zip(*rows, strict=True)) if rows else [()] * len(columns)
    data = dict(zip(columns, values, strict=True))
    stamps = pd.to_datetime(pd.Series(data.pop("ts"), dtype=object), utc=True, format="ISO8601")
    frame = pd.DataFrame(
        {c: pd.Series(data[c], dtype=float) for c in READING_COLUMNS}
        | {
            "drivers": pd.Series(data["drivers"], dtype=object),
            "is_anomaly": pd.Series(list(data["is_anomaly"])),
        }
    )
    frame.index = pd.DatetimeIndex(stamps, name="ts")
    return frame


def window_stats(
    session: Session, machine_id: int, start: datetime | None, end: datetime | None
) -> tuple[int, datetime | None, datetime | None]:
    """Number of readings of a machine in ``[start, end)``, and their first and last time."""
    query = select(func.count(), func.min(EnergyReading.ts), func.max(EnergyReading.ts)).where(
        EnergyReading.machine_id == machine_id
    )
    if start is not None:
        query = query.where(EnergyReading.ts >= start)
    if end is not None:
        query = query.where(EnergyReading.ts < end)
    n, first, last = session.execute(query).one()
    return int(n), first, last


def delete_readings(
    session: Session, machine_id: int, start: datetime | None, end: datetime | None
) -> int:
    """Delete a machine's readings in ``[start, end)``; return how many there were."""
    query = delete(EnergyReading).where(EnergyReading.machine_id == machine_id)
    if start is not None:
        query = query.where(EnergyReading.ts >= start)
    if end is not None:
        query = query.where(EnergyReading.ts < end)
    result = session.execute(query.execution_options(synchronize_session=False))
    return int(getattr(result, "rowcount", 0) or 0)


def dependent_rows(session: Session, machine_id: int) -> dict[str, int]:
    """Rows that deleting the machine removes with it (``ON DELETE CASCADE``), by table.

    Read from the database's own foreign keys, so later stages' tables (models, training
    history, metrics, alerts, A/B tests) are counted without this stage importing them.
    """
    conn = session.connection()
    inspector = inspect(conn)
    counts: dict[str, int] = {}
    for table in sorted(inspector.get_table_names()):
        for fk in inspector.get_foreign_keys(table):
            cascades = str((fk.get("options") or {}).get("ondelete", "")).upper() == "CASCADE"
            if fk["referred_table"] != Machine.__tablename__ or not cascades:
                continue
            column = fk["constrained_columns"][0]
            quote = conn.dialect.identifier_preparer.quote
            n = conn.execute(
                text(f"SELECT count(*) FROM {quote(table)} WHERE {quote(column)} = :id"),
                {"id": machine_id},
            ).scalar_one()
            counts[table] = int(n)
    return counts


def delete_machine(session: Session, machine_id: int) -> None:
    """Delete the machine row; the database cascades to everything that hangs off it."""
    session.execute(
        delete(Machine).where(Machine.id == machine_id).execution_options(synchronize_session=False)
    )
