"""Queries of the KPI stage: the baseline of record, reading days, and ``energy_kpis`` rows
(upserted on ``(machine_id, day)``; flush, never commit)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from enms.kpis.daily import DayKpi
from enms.kpis.models import EnergyKpi
from enms.readings.models import EnergyReading
from enms.registry import service as registry
from enms.registry.models import ModelVersion

BASELINE = "baseline"
CHAMPION = "champion"


def baseline_of_record(session: Session, machine_id: int) -> ModelVersion | None:
    """The earliest ``baseline`` version that was ever champion (and still exists).

    ISO 50006 keeps the energy baseline (EnB) fixed over the reporting period: a version
    retrained after a leak has learnt the leak, and measuring against it would make the leak
    vanish from the EnPI. The alias history (``audit_log``) is the record of which version
    became champion first; a deleted version is passed over for the next one."""
    events = registry.alias_history(session=session, machine_id=machine_id, model_type=BASELINE)
    seen: set[int] = set()
    for event in events:
        if event.alias != CHAMPION or not isinstance(event.to_version, int):
            continue
        if event.to_version in seen:
            continue
        seen.add(event.to_version)
        row = session.execute(
            select(ModelVersion).where(
                ModelVersion.machine_id == machine_id,
                ModelVersion.model_type == BASELINE,
                ModelVersion.version == event.to_version,
            )
        ).scalar_one_or_none()
        if row is not None:
            return row
    return None


def reading_span(session: Session, machine_id: int) -> tuple[datetime | None, datetime | None]:
    """The first and the newest reading's time."""
    first, last = session.execute(
        select(func.min(EnergyReading.ts), func.max(EnergyReading.ts)).where(
            EnergyReading.machine_id == machine_id
        )
    ).one()
    return first, last


def reading_times(
    session: Session, machine_id: int, start: datetime, end: datetime
) -> list[datetime]:
    """Timestamps of the readings in ``[start, end)``."""
    return list(
        session.execute(
            select(EnergyReading.ts).where(
                EnergyReading.machine_id == machine_id,
                EnergyReading.ts >= start,
                EnergyReading.ts < end,
            )
        ).scalars()
    )


def stored_days(session: Session, machine_id: int, since: date) -> dict[date, int | None]:
    """``{day: baseline_model_id}`` of the machine's rows from ``since`` on."""
    rows = session.execute(
        select(EnergyKpi.day, EnergyKpi.baseline_model_id).where(
            EnergyKpi.machine_id == machine_id, EnergyKpi.day >= since
        )
    )
    return {day: baseline for day, baseline in rows}


def upsert(
    session: Session,
    *,
    machine_id: int,
    days: Sequence[DayKpi],
    baseline_model_id: int | None,
    now: datetime,
) -> int:
    """Insert or replace the rows of ``days`` (one statement per row, ON CONFLICT on
    ``(machine_id, day)``: concurrent runs cannot duplicate a day)."""
    if not days:
        return 0
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    for kpi in days:
        values: dict[str, Any] = {
            "machine_id": machine_id,
            "day": kpi.day,
            "day_start": kpi.day_start,
            "day_end": kpi.day_end,
            "n_readings": kpi.n_readings,
            "energy_kwh": kpi.energy_kwh,
            "production_units": kpi.production_units,
            "sec_kwh_per_unit": kpi.sec_kwh_per_unit,
            "baseline_model_id": baseline_model_id,
            "expected_kwh": kpi.expected_kwh,
            "enpi": kpi.enpi,
            "savings_kwh": kpi.savings_kwh,
            "computed_at": now,
        }
        statement = insert(EnergyKpi).values(**values)
        changed = {k: statement.excluded[k] for k in values if k not in ("machine_id", "day")}
        session.execute(
            statement.on_conflict_do_update(index_elements=["machine_id", "day"], set_=changed)
        )
    session.flush()
    return len(days)


def rows_between(session: Session, machine_id: int, first: date, last: date) -> list[EnergyKpi]:
    """The machine's rows of the local days ``first`` .. ``last`` (inclusive), in day order."""
    return list(
        session.execute(
            select(EnergyKpi)
            .where(
                EnergyKpi.machine_id == machine_id,
                EnergyKpi.day >= first,
                EnergyKpi.day <= last,
            )
            .order_by(EnergyKpi.day)
        ).scalars()
    )
