"""Queries on ``machines`` and ``energy_readings``. Flushes, never commits."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pandas as pd
from sqlalchemy import func, select
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
) -> pd.DataFrame:
    """Readings in ``[start, end)`` as a UTC-indexed frame (drivers JSON kept as a column)."""
    query = select(
        EnergyReading.ts,
        *(getattr(EnergyReading, c) for c in READING_COLUMNS),
        EnergyReading.drivers,
        EnergyReading.is_anomaly,
    ).where(EnergyReading.machine_id == machine_id)
    if start is not None:
        query = query.where(EnergyReading.ts >= start)
    if end is not None:
        query = query.where(EnergyReading.ts < end)
    query = query.order_by(EnergyReading.ts)
    if limit is not None:
        query = query.limit(limit)
    rows: list[Any] = list(session.execute(query))
    columns = ["ts", *READING_COLUMNS, "drivers", "is_anomaly"]
    frame = pd.DataFrame.from_records(rows, columns=columns)
    index = pd.DatetimeIndex(pd.to_datetime(frame.pop("ts"), utc=True), name="ts")
    frame.index = index
    for col in READING_COLUMNS:
        frame[col] = frame[col].astype(float)
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
