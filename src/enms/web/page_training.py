"""The Training history page (``/ui/training``) and its JSON (``/ui/api/training/jobs``).

Every training job with filters (machine, model type, status, creation date), live progress
(the page script polls the JSON while a shown job is pending or running), cancel for
pending/running jobs (the public ``POST /api/v1/training-jobs/{id}/cancel``) and the error of
failed ones. The public job list has no date filter, so this module adds one: the same rows
as :func:`enms.training.service.list_jobs`, read-only, in one short session.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from enms.api.deps import SessionDep, ViewClockDep
from enms.core.errors import InvalidInput
from enms.core.model_types import MODEL_TYPE_NAMES, check_model_type
from enms.core.timewindow import parse_instant
from enms.readings import service as readings
from enms.training import service
from enms.training.models import ACTIVE_STATUSES, TrainingJob
from enms.training.schemas import FINAL_STATUSES, JobRead
from enms.web.templating import not_found, render

router = APIRouter(include_in_schema=False)
STATUSES: tuple[str, ...] = (*ACTIVE_STATUSES, *FINAL_STATUSES)
#: The most jobs one view lists (newest first).
MAX_JOBS = 500
DEFAULT_JOBS = 200


def _day(text: str | None, field: str) -> datetime | None:
    """A ``YYYY-MM-DD`` (or ISO instant) filter value as UTC, or None when empty."""
    return parse_instant(text, field=field) if text else None


@dataclass(frozen=True)
class JobFilters:
    """The Training page's filters: query parameters of the page and of its JSON alike
    (``from``/``to``: creation dates)."""

    machine_id: int | None = None
    model_type: str | None = None
    status: str | None = None
    created_from: Annotated[str | None, Query(alias="from")] = None
    created_to: Annotated[str | None, Query(alias="to")] = None

    def shown(self) -> dict[str, Any]:
        """The filters as the page's form shows them (empty for "any")."""
        return {
            "machine_id": self.machine_id,
            "model_type": self.model_type or "",
            "status": self.status or "",
            "from": self.created_from or "",
            "to": self.created_to or "",
        }


JobFiltersDep = Annotated[JobFilters, Depends()]


def find_jobs(session: Session, filters: JobFilters, *, limit: int = DEFAULT_JOBS) -> list[JobRead]:
    """Jobs newest first, filtered; ``created_to`` is inclusive of its whole day when it is a
    date. Raises InvalidInput (422) naming a bad filter, NotFound (404) for an unknown machine."""
    machine_id, model_type, status = filters.machine_id, filters.model_type, filters.status
    created_from, created_to = filters.created_from, filters.created_to
    if machine_id is not None:
        readings.get_machine(session=session, machine_id=machine_id)
    if model_type:
        check_model_type(model_type)
    if status and status not in STATUSES:
        raise InvalidInput(f"status: {status!r} is not one of {', '.join(STATUSES)}")
    start = _day(created_from, "from")
    end = _day(created_to, "to")
    if end is not None and created_to is not None and len(created_to.strip()) == 10:
        end += timedelta(days=1)
    if start is not None and end is not None and start >= end:
        raise InvalidInput(f"from: {created_from} is after to: {created_to}")
    query = select(TrainingJob).order_by(TrainingJob.id.desc()).limit(limit)
    if machine_id is not None:
        query = query.where(TrainingJob.machine_id == machine_id)
    if model_type:
        query = query.where(TrainingJob.model_type == model_type)
    if status:
        query = query.where(TrainingJob.training_status == status)
    if start is not None:
        query = query.where(TrainingJob.created_at >= start)
    if end is not None:
        query = query.where(TrainingJob.created_at < end)
    return [service.read(job) for job in session.scalars(query)]


def _jobs_json(jobs: list[JobRead]) -> list[dict[str, Any]]:
    return [job.model_dump(mode="json") for job in jobs]


@router.get("/ui/api/training/jobs")
def jobs_json(
    session: SessionDep,
    clock: ViewClockDep,
    filters: JobFiltersDep,
    limit: Annotated[int, Query(ge=1, le=MAX_JOBS)] = DEFAULT_JOBS,
) -> dict[str, Any]:
    """The filtered jobs and the server's clock (the page computes ages from it)."""
    jobs = find_jobs(session, filters, limit=limit)
    return {"now": clock.now().isoformat(), "jobs": _jobs_json(jobs)}


@router.get("/ui/training", response_class=HTMLResponse)
def page(
    request: Request, session: SessionDep, clock: ViewClockDep, filters: JobFiltersDep
) -> HTMLResponse:
    """All training jobs with filters; a filter value that is not valid is a 404/422 page."""
    machines = readings.list_machines(session=session)
    machine_id = filters.machine_id
    if machine_id is not None and all(m.id != machine_id for m in machines):
        return not_found(request, f"Machine {machine_id} does not exist.", active="training")
    jobs = find_jobs(session, filters)
    data = {
        "now": clock.now().isoformat(),
        "filters": filters.shown(),
        "jobs": _jobs_json(jobs),
        "limit": DEFAULT_JOBS,
    }
    return render(
        request,
        "training.html",
        title="Training history",
        active="training",
        machines=machines,
        model_types=MODEL_TYPE_NAMES,
        statuses=STATUSES,
        filters=filters.shown(),
        data=data,
    )
