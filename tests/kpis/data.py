"""Test data of the KPI tests: a machine with given readings, imported through the service."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd

from enms.core.clock import Clock
from enms.core.db import SessionFactory, session_scope
from enms.kpis.models import EnergyKpi
from enms.readings import parsing, service
from enms.readings.schemas import MachineCreate

BERLIN = "Europe/Berlin"


def import_frame(
    factory: SessionFactory, clock: Clock, frame: pd.DataFrame, *, name: str = "Compressor C1"
) -> int:
    """Create machine ``name`` (Europe/Berlin) and import ``frame`` (UTC-indexed readings)."""
    with session_scope(factory, write=True) as session:
        machine = service.create_machine(
            session=session,
            data=MachineCreate(name=name, machine_type="compressor", timezone=BERLIN),
            clock=clock,
        )
        csv = frame.rename_axis("timestamp").to_csv(date_format="%Y-%m-%dT%H:%M:%SZ")
        target = service.get_machine(session=session, machine_id=machine.id)
        service.import_readings(session=session, machine=target, parsed=parsing.parse_csv(csv))
        return machine.id


def local_day_bounds(day: date) -> tuple[pd.Timestamp, pd.Timestamp]:
    """[start, end) of a Berlin day, computed with zoneinfo (independently of the code)."""
    zone = ZoneInfo(BERLIN)
    start = datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(UTC)
    nxt = day + timedelta(days=1)
    end = datetime(nxt.year, nxt.month, nxt.day, tzinfo=zone).astimezone(UTC)
    return pd.Timestamp(start), pd.Timestamp(end)


def stored(factory: SessionFactory, machine_id: int) -> dict[date, dict[str, Any]]:
    """The machine's ``energy_kpis`` rows by day, as plain dicts."""
    from sqlalchemy import select

    with session_scope(factory) as session:
        rows = session.execute(
            select(EnergyKpi).where(EnergyKpi.machine_id == machine_id).order_by(EnergyKpi.day)
        ).scalars()
        return {
            r.day: {c.name: getattr(r, c.name) for c in EnergyKpi.__table__.columns} for r in rows
        }
