"""The periodic ``kpi_calculate`` job (daily at 00:30): every machine's energy KPIs of its last
complete local days (``settings.kpi.recompute_days``) and the backfill of earlier days
(:mod:`enms.kpis.service`). Each machine runs in its own short units of work, so one that
fails (an artifact refused) does not stop the others."""

from __future__ import annotations

from typing import Any

from enms.core.clock import Clock
from enms.core.config import Settings
from enms.core.db import SessionFactory, session_scope
from enms.kpis import service
from enms.readings import service as readings

MAX_LISTED = 50
"""Most machines (and errors) listed in the job's result (kept in scheduler_runs)."""


def kpi_calculate(*, factory: SessionFactory, settings: Settings, clock: Clock) -> dict[str, Any]:
    """Compute and store the energy KPIs of the last complete local days of every machine."""
    with session_scope(factory) as session:
        machine_ids = [m.id for m in readings.list_machines(session=session)]
    runs = [
        service.calculate_machine(factory=factory, settings=settings, clock=clock, machine_id=m)
        for m in machine_ids
    ]
    return {
        "machines": len(machine_ids),
        "rows": sum(int(r.get("rows", 0)) for r in runs),
        "backfilled": sum(int(r.get("backfilled", 0)) for r in runs),
        "missing_drivers": sum(int(r.get("missing_drivers", 0)) for r in runs),
        "skipped": sum(1 for r in runs if "skipped" in r),
        "errors": [r for r in runs if "error" in r][:MAX_LISTED],
        "runs": [r for r in runs if r.get("rows") or "error" in r][:MAX_LISTED],
    }
