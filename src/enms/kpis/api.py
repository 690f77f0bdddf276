"""``GET /api/v1/machines/{machine_id}/kpis``: a machine's stored energy KPIs, aggregated."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from enms.api.deps import ClockDep, SessionDep
from enms.core.ids import Id
from enms.kpis import report
from enms.kpis.schemas import KpiReport, Resolution

router = APIRouter(prefix="/machines/{machine_id}", tags=["kpis"])


@router.get("/kpis")
def machine_kpis(
    machine_id: Id,
    session: SessionDep,
    clock: ClockDep,
    start: Annotated[
        str | None, Query(alias="from", description="Local day (ISO date) or instant, inclusive")
    ] = None,
    end: Annotated[
        str | None, Query(alias="to", description="Local day (ISO date) or instant, exclusive")
    ] = None,
    resolution: Annotated[Resolution, Query(description="day, week or month")] = "day",
) -> KpiReport:
    """Energy, SEC, EnPI and savings per local day / ISO week / month (default: the last 30
    complete days), cumulative savings with their ASHRAE 14 uncertainty, and the baseline
    of record they are measured against."""
    return report.kpi_report(
        session=session,
        clock=clock,
        machine_id=machine_id,
        start=start,
        end=end,
        resolution=resolution,
    )
