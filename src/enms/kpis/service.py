"""Computing and storing a machine's daily energy KPIs (``energy_kpis``), for ``kpi_calculate``.

Which days: the last ``settings.kpi.recompute_days`` complete local days (late readings and
corrections land there), plus every earlier complete day since the machine's first reading
that has readings but no row yet — or a row computed against another baseline than today's
baseline of record (a machine that got its first baseline, or whose baseline of record was
deleted) — at most ``ENMS_KPI__MAX_BACKFILL_DAYS`` of those per run (the next run goes on). Every
write is an upsert on ``(machine_id, day)``, so a run repeated gives the same rows.

The expectation comes from the **energy baseline of record** (ISO 50006: the EnB stays fixed
over the reporting period and is adjusted only for static-factor changes) — the earliest
``baseline`` version that was ever champion (:func:`enms.kpis.repository.baseline_of_record`),
never today's champion: a baseline retrained after a compressed-air leak has learnt the leak,
and would report it as EnPI 1.0. (Pinning another version per machine, e.g. after a real
static-factor change, is a later step.)

Work is split as everywhere in enms: one short read (plan, baseline artifact), verifying,
loading and predicting outside any transaction (a baseline predicts a month of readings in
milliseconds), one short write per chunk of :data:`CHUNK_DAYS` days.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pandas as pd
from sqlalchemy.orm import Session

from enms.core.clock import Clock
from enms.core.config import Settings
from enms.core.db import SessionFactory, session_scope
from enms.core.errors import DomainError
from enms.core.secrets import InstanceSecret
from enms.kpis import repository
from enms.kpis.daily import daily_kpis, day_bounds, expected_energy, local_days
from enms.ml.base import EnergyModel, ModelError
from enms.readings import service as readings
from enms.registry import artifacts

"""Most earlier days (without a row, or against another baseline) one run fills per machine."""
CHUNK_DAYS = 31
"""Days read, predicted and written together."""


@dataclass(frozen=True)
class Plan:
    """One machine's run: the days to compute and the baseline of record to compute them with."""

    machine_id: int
    machine: str
    timezone: str
    days: list[date]
    backfilled: int
    baseline_id: int | None
    baseline_version: int | None
    artifact: artifacts.StoredArtifact | None
    secret: InstanceSecret | None


def calculate_machine(
    *, factory: SessionFactory, settings: Settings, clock: Clock, machine_id: int
) -> dict[str, Any]:
    """Compute and upsert the days of one machine's run; a JSON-able summary."""
    with session_scope(factory) as session:
        plan = plan_days(session=session, settings=settings, clock=clock, machine_id=machine_id)
    if isinstance(plan, dict):
        return plan
    label: dict[str, Any] = {"machine_id": plan.machine_id, "machine": plan.machine}
    label["baseline_version"] = plan.baseline_version
    model: EnergyModel | None = None
    if plan.artifact is not None and plan.secret is not None:
        try:
            model = artifacts.load(plan.artifact, plan.secret)
        except (ModelError, DomainError) as exc:
            # Nothing is written: the backfill fills these days once the baseline loads.
            return label | {"error": f"{type(exc).__name__}: {exc}"}
    written = missing = 0
    for chunk in _chunks(plan.days):
        start, end = day_bounds(chunk[0], plan.timezone)[0], day_bounds(chunk[-1], plan.timezone)[1]
        with session_scope(factory) as session:
            frame = readings.training_frame(
                session=session, machine_id=plan.machine_id, start=start, end=end
            )
        expected = expected_energy(model, frame) if model is not None else None
        days = daily_kpis(frame=frame, expected=expected, days=chunk, timezone=plan.timezone)
        missing += sum(d.n_missing for d in days) if model is not None else 0
        with session_scope(factory, write=True) as session:
            written += repository.upsert(
                session,
                machine_id=plan.machine_id,
                days=days,
                baseline_model_id=plan.baseline_id if model is not None else None,
                now=clock.now(),
            )
    return label | {
        "rows": written,
        "backfilled": plan.backfilled,
        "first_day": plan.days[0].isoformat() if plan.days else None,
        "last_day": plan.days[-1].isoformat() if plan.days else None,
        "missing_drivers": missing,
    }


def plan_days(
    *, session: Session, settings: Settings, clock: Clock, machine_id: int
) -> Plan | dict[str, Any]:
    """The days a run computes for ``machine_id``, or a summary saying why there are none."""
    machine = readings.get_machine(session=session, machine_id=machine_id)
    label: dict[str, Any] = {"machine_id": machine.id, "machine": machine.name}
    first_ts, last_ts = repository.reading_span(session, machine_id)
    if first_ts is None or last_ts is None:
        return label | {"skipped": "no readings"}
    tz = machine.timezone
    today = _local_day(pd.Timestamp(clock.now()), tz)
    first_day = _local_day(pd.Timestamp(first_ts), tz)
    last_day = min(today - timedelta(days=1), _local_day(pd.Timestamp(last_ts), tz))
    if last_day < first_day:
        return label | {"skipped": "no complete local day with readings yet"}
    recent_from = max(first_day, today - timedelta(days=settings.kpi.recompute_days))
    baseline = repository.baseline_of_record(session, machine_id)
    # An external baseline (registered without an artifact) cannot predict: energy and SEC only.
    usable = baseline is not None and baseline.origin == "enms" and baseline.artifact is not None
    baseline_id = baseline.id if usable and baseline is not None else None
    stored = repository.stored_days(session, machine_id, first_day)
    candidates = [
        d for d in _days(first_day, recent_from - timedelta(days=1))
        if d not in stored or stored[d] != baseline_id
    ]  # fmt: skip
    backfill: list[date] = []
    if candidates:
        start = day_bounds(candidates[0], tz)[0]
        end = day_bounds(candidates[-1], tz)[1]
        times = repository.reading_times(session, machine_id, start, end)
        with_data = set(local_days(pd.DatetimeIndex(pd.to_datetime(times, utc=True)), tz))
        backfill = [d for d in candidates if d in with_data][: settings.kpi.max_backfill_days]
    return Plan(
        machine_id=machine.id,
        machine=machine.name,
        timezone=tz,
        days=sorted(set(backfill) | set(_days(recent_from, last_day))),
        backfilled=len(backfill),
        baseline_id=baseline_id,
        baseline_version=baseline.version if baseline is not None else None,
        artifact=artifacts.StoredArtifact.of(session, baseline) if usable and baseline else None,
        secret=artifacts.secret_of(session) if usable else None,
    )


def _local_day(moment: pd.Timestamp, timezone: str) -> date:
    stamp = moment.tz_localize("UTC") if moment.tzinfo is None else moment
    day: date = stamp.tz_convert(timezone).date()
    return day


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def _chunks(days: list[date]) -> list[list[date]]:
    """Runs of consecutive days, at most :data:`CHUNK_DAYS` long."""
    out: list[list[date]] = []
    for day in days:
        if out and len(out[-1]) < CHUNK_DAYS and (day - out[-1][-1]).days == 1:
            out[-1].append(day)
        else:
            out.append([day])
    return out
