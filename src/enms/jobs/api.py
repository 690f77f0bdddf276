"""JSON routes for the periodic schedule: list jobs, run one now."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request, status
from pydantic import BaseModel

from enms.api.deps import ClockDep, SessionDep, SettingsDep
from enms.auth.deps import rate_limited, requires
from enms.auth.roles import Role
from enms.jobs import schedule

router = APIRouter(prefix="/scheduler", tags=["scheduler"])


class PeriodicJobRead(BaseModel):
    """A periodic job, its schedule, next run and last outcome."""

    name: str
    cron: str
    description: str
    next_run: datetime | None
    paused: bool = False
    last_run_at: datetime | None = None
    last_status: str | None = None
    last_result: dict[str, Any] | None = None
    last_error: str | None = None


@router.get("/jobs")
def list_periodic(
    session: SessionDep, settings: SettingsDep, clock: ClockDep
) -> list[PeriodicJobRead]:
    """Every periodic job with its cron schedule (UTC), next run and last result."""
    last = schedule.last_runs(session)
    out = []
    for job in schedule.periodic_jobs(settings):
        run = last.get(job.name)
        out.append(
            PeriodicJobRead(
                name=job.name,
                cron=job.cron,
                description=job.description,
                next_run=None
                if job.name in settings.schedule.paused
                else schedule.next_run(job, clock.now()),
                paused=job.name in settings.schedule.paused,
                last_run_at=run.started_at if run else None,
                last_status=run.status if run else None,
                last_result=run.result if run else None,
                last_error=run.error if run else None,
            )
        )
    return out


@router.post(
    "/jobs/{name}/run",
    dependencies=[requires(Role.operator), rate_limited("training")],
    status_code=status.HTTP_202_ACCEPTED,
)
def run_now(name: str, request: Request, settings: SettingsDep) -> dict[str, str]:
    """Queue one run of a periodic job now (its outcome shows in ``GET /scheduler/jobs``)."""
    job = schedule.find_job(settings, name)
    request.app.state.runtime.enqueue_periodic(job.name)
    return {"queued": job.name}
