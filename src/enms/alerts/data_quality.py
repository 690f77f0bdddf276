"""Data-quality conditions per machine (stopped meter, stale values, gaps): the periodic check.

Owns :func:`data_quality_check` (periodic ``data_quality_check``, hourly at :10). For every
machine it reads, in one short read transaction, the newest reading's time and then only the
readings of the ``LOOKBACK`` (48 h) before it (bounded, on the ``(machine_id, ts)`` unique
index), and whether the machine has an unresolved ``data_quality`` alert. The rules of
:mod:`enms.alerts.quality_rules` run outside any transaction. Then, in a short write
transaction and only when there is something to write:

- conditions found → :func:`enms.alerts.conditions.raise_condition` with ``model_type=None``:
  one ``data_quality`` alert per machine whose ``details["conditions"]`` lists every current
  condition, its message one readable sentence ("Compressor C1: no reading since
  2025-06-03 14:00 UTC (7.0 h)"), severity ``warning``, ``critical`` when the meter has been
  silent ``CRITICAL_STOPPED_FACTOR × stopped_hours`` or longer;
- none found and an alert unresolved → :func:`enms.alerts.conditions.report_clear` (the
  alert resolves after ``ENMS_ALERTS__CLEAR_HOURS`` of staying clear, by the maintenance
  task's rule ``condition_cleared``).

Machines whose newest reading is older than ``ENMS_DATA_QUALITY__LIVE_DAYS`` are historical
(``not_live``): no alert opens and none is cleared. While a ``data_quality`` alert is
unresolved the drift and degradation alerts of the machine are inhibited
(:func:`enms.alerts.conditions.data_quality_open`). Settings:
``ENMS_DATA_QUALITY__STOPPED_HOURS``, ``__STALE_HOURS``, ``__GAP_SHARE``, ``__LIVE_DAYS``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from enms.alerts.conditions import data_quality_open, raise_condition, report_clear
from enms.alerts.quality_rules import (
    CRITICAL_STOPPED_FACTOR,
    KINDS,
    LOOKBACK,
    Verdict,
    evaluate,
)
from enms.core.clock import Clock
from enms.core.config import Settings
from enms.core.db import SessionFactory, session_scope
from enms.readings.models import EnergyReading, Machine

log = logging.getLogger(__name__)
ALERT_TYPE = "data_quality"
#: Longest lists in the summary (it is kept in the scheduler's run log).
MAX_LISTED = 50
#: At most this many readings are read per machine (48 h at one-minute resolution).
MAX_READINGS = 2880


@dataclass(frozen=True)
class _Recent:
    ts: list[datetime]
    energy: list[float]
    alert_unresolved: bool


def _machines(session: Session) -> list[tuple[int, str]]:
    rows = session.execute(select(Machine.id, Machine.name).order_by(Machine.id)).all()
    return [(row.id, row.name) for row in rows]


def _recent(session: Session, machine_id: int) -> _Recent:
    """The readings of the LOOKBACK before the machine's newest one (oldest first)."""
    unresolved = data_quality_open(session, machine_id)
    newest = session.scalar(
        select(func.max(EnergyReading.ts)).where(EnergyReading.machine_id == machine_id)
    )
    if newest is None:
        return _Recent([], [], unresolved)
    rows = session.execute(
        select(EnergyReading.ts, EnergyReading.energy_kwh)
        .where(EnergyReading.machine_id == machine_id, EnergyReading.ts > newest - LOOKBACK)
        .order_by(EnergyReading.ts.desc())
        .limit(MAX_READINGS)
    ).all()[::-1]
    return _Recent([r.ts for r in rows], [r.energy_kwh for r in rows], unresolved)


def message(machine: str, verdict: Verdict) -> str:
    """One sentence naming the machine and every condition.

    >>> from datetime import UTC, timedelta
    >>> from enms.core.config import DataQualitySettings
    >>> t = datetime(2025, 6, 3, 14, tzinfo=UTC)
    >>> v = evaluate([t - timedelta(hours=1), t], [1.0, 2.0], now=t + timedelta(hours=7),
    ...              settings=DataQualitySettings())
    >>> message("Compressor C1", v)
    'Compressor C1: no reading since 2025-06-03 14:00 UTC (7.0 h)'
    """
    return f"{machine}: " + "; ".join(c.text for c in verdict.conditions)


def _details(verdict: Verdict) -> dict[str, Any]:
    return {
        "conditions": [c.details for c in verdict.conditions],
        "kinds": [c.kind for c in verdict.conditions],
        "newest_reading": verdict.newest.isoformat() if verdict.newest else None,
        "interval_seconds": verdict.interval.total_seconds() if verdict.interval else None,
    }


def data_quality_check(
    *, factory: SessionFactory, settings: Settings, clock: Clock
) -> dict[str, Any]:
    """Check every machine's recent readings; raise or clear its data_quality alert."""
    now = clock.now()
    with session_scope(factory) as session:
        machines = _machines(session)
    kinds = dict.fromkeys(KINDS, 0)
    alerts: list[dict[str, Any]] = []
    not_live: list[dict[str, Any]] = []
    failures: list[dict[str, Any]] = []
    checked = no_readings = opened = cleared = 0
    for machine_id, name in machines:
        try:
            with session_scope(factory) as session:
                recent = _recent(session, machine_id)
            verdict = evaluate(recent.ts, recent.energy, now=now, settings=settings.data_quality)
            if verdict.status == "no_readings":
                no_readings += 1
                continue
            if verdict.status == "not_live":
                assert verdict.newest is not None
                not_live.append({"machine": name, "newest_reading": verdict.newest.isoformat()})
                continue
            checked += 1
            if verdict.conditions:
                with session_scope(factory, write=True) as session:
                    raised = raise_condition(
                        session,
                        machine_id=machine_id,
                        model_type=None,
                        alert_type=ALERT_TYPE,
                        severity=verdict.severity,
                        message=message(name, verdict),
                        details=_details(verdict),
                        now=now,
                    )
                opened += raised.opened
                for condition in verdict.conditions:
                    kinds[condition.kind] += 1
                alerts.append(
                    {
                        "machine": name,
                        "alert_id": raised.alert_id,
                        "opened": raised.opened,
                        "severity": verdict.severity,
                        "conditions": [c.kind for c in verdict.conditions],
                    }
                )
            elif recent.alert_unresolved:
                with session_scope(factory, write=True) as session:
                    alert_id = report_clear(
                        session,
                        machine_id=machine_id,
                        model_type=None,
                        alert_type=ALERT_TYPE,
                        now=now,
                    )
                cleared += alert_id is not None
        except Exception as exc:  # one machine failing must not stop the others: reported
            log.exception("data-quality check of %s failed", name)
            failures.append({"machine": name, "error": f"{type(exc).__name__}: {exc}"})
    return {
        "now": now.isoformat(),
        "machines": len(machines),
        "checked": checked,
        "no_readings": no_readings,
        "not_live": len(not_live),
        "not_live_machines": not_live[:MAX_LISTED],
        "conditions": kinds,
        "alerts_raised": len(alerts),
        "alerts_opened": opened,
        "reported_clear": cleared,
        "alerts": alerts[:MAX_LISTED],
        "failed": len(failures),
        "failures": failures[:MAX_LISTED],
        "rules": {
            "stopped_hours": settings.data_quality.stopped_hours,
            "critical_stopped_hours": CRITICAL_STOPPED_FACTOR * settings.data_quality.stopped_hours,
            "stale_hours": settings.data_quality.stale_hours,
            "gap_share": settings.data_quality.gap_share,
            "live_days": settings.data_quality.live_days,
        },
    }
