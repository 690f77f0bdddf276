"""Use cases of training jobs: trigger, cancel, list, read (the worker's transitions are in
:mod:`enms.training.lifecycle`).

``model_training_history`` is the source of truth, not the queue: a job is enqueued only
after its row is committed (:func:`enms.core.db.after_commit`), a worker runs it only if it
wins the ``pending → running`` transition, and a job whose enqueue was lost (the queue was
unreachable) is enqueued again by the watchdog.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, object_session

from enms.core.clock import Clock
from enms.core.db import after_commit
from enms.core.errors import Conflict, InvalidInput, NotFound
from enms.core.model_types import check_model_type
from enms.core.timewindow import Window
from enms.ml.registry import get_model_class
from enms.readings import service as readings
from enms.readings.models import Machine
from enms.training import repository
from enms.training.models import ACTIVE_STATUSES, TrainingJob
from enms.training.params import build_params
from enms.training.schemas import FINAL_STATUSES, JobRead, TriggerResult

Enqueue = Callable[[int], None]
TRIGGER_TYPES = ("manual", "scheduled", "drift", "degradation")
#: Queue priority by trigger type (higher runs first): a person waiting beats a drift or
#: degradation alarm, which beats the weekly schedule.
PRIORITIES = {"manual": 30, "drift": 20, "degradation": 20, "scheduled": 10}


def priority_of(trigger_type: str) -> int:
    """The queue priority of a job triggered by ``trigger_type``."""
    return PRIORITIES.get(trigger_type, 0)


def trigger(
    *,
    session: Session,
    machine_id: int,
    model_type: str,
    trigger_type: str,
    reason: str | None,
    requested_by: str,
    window: Window,
    hyperparameters: dict[str, object],
    clock: Clock,
    enqueue: Enqueue,
    queue_ready: Callable[[], bool] | None = None,
    workers: int = 1,
) -> TriggerResult:
    """Create a pending job unless one is already pending or running for the same model.

    The database's unique partial index decides races: of many concurrent triggers exactly
    one inserts; the others are told which job is in progress. The job is enqueued after the
    commit; when ``queue_ready`` says the queue is unreachable the job is still recorded and
    the answer says it waits for the queue (the watchdog enqueues it once the queue is back).
    ``workers`` (worker threads sharing the queue) scales the estimated completion.
    """
    check_model_type(model_type)
    if trigger_type not in TRIGGER_TYPES:
        raise InvalidInput(
            f"unknown trigger type {trigger_type!r}; choose one of {', '.join(TRIGGER_TYPES)}"
        )
    machine = readings.get_machine(session=session, machine_id=machine_id)
    readings.require_readings(session=session, machine=machine, window=window)
    readings.require_sufficient_readings(
        session=session,
        machine=machine,
        model_type=model_type,
        window=window,
        hyperparameters=dict(hyperparameters),
    )
    # Refuse unknown hyperparameters now (422), not later in a worker.
    build_params(
        get_model_class(model_type),
        timezone=machine.timezone,
        metadata=dict(machine.metadata_),
        overrides=dict(hyperparameters),
    )
    job = TrainingJob(
        machine_id=machine_id,
        model_type=model_type,
        training_status="pending",
        trigger_type=trigger_type,
        trigger_reason=reason,
        requested_by=requested_by,
        data_start=window.start,
        data_end=window.end,
        created_at=clock.now(),
        attempts=0,
        cancel_requested=False,
        hyperparameters=dict(hyperparameters),
    )
    try:
        with session.begin_nested():
            session.add(job)
            session.flush()
    except IntegrityError as exc:
        if not _is_duplicate(exc):
            raise  # e.g. a foreign key: a bug or a deleted machine, not "in progress"
        active = repository.active_job(session, machine_id, model_type)
        return TriggerResult(
            triggered=False,
            trigger_type=trigger_type,
            reason="training already in progress"
            + (f": job {active.id} is {active.training_status}" if active else ""),
            training_job_id=active.id if active else None,
            status=active.training_status if active else None,
        )
    job_id = job.id
    ready = queue_ready() if queue_ready is not None else True
    if ready:
        after_commit(session, lambda: enqueue(job_id))
    return TriggerResult(
        triggered=True,
        trigger_type=trigger_type,
        reason=reason,
        training_job_id=job_id,
        estimated_completion=estimate_completion(
            session=session, job=job, clock=clock, workers=workers
        ),
        status="pending",
        queue="queued" if ready else "waiting_for_queue",
    )


def _is_duplicate(exc: IntegrityError) -> bool:
    """True when ``exc`` is the one-active-job index refusing a second pending job."""
    text = str(exc.orig)
    return "uq_model_training_history_one_active" in text or (
        "UNIQUE constraint failed" in text and "model_training_history" in text
    )


def estimate_completion(
    *, session: Session, job: TrainingJob, clock: Clock, workers: int
) -> datetime | None:
    """When ``job`` should end: the work ahead of it in the queue (running jobs' remaining
    time, pending jobs of at least its priority created before it, each at the median
    duration of its model type) shared by ``workers``, plus its own median duration. None
    before any job of its model type has completed."""
    medians = repository.median_durations(session)
    own = medians.get(job.model_type)
    if own is None:
        return None
    now = clock.now()
    mine = priority_of(job.trigger_type)
    ahead = 0.0
    for other in repository.open_jobs(session, job.id):
        typical = medians.get(other.model_type, own)
        if other.training_status == "running":
            elapsed = (now - (other.training_start or now)).total_seconds()
            ahead += max(typical - elapsed, 0.0)
        elif priority_of(other.trigger_type) >= mine:
            ahead += typical
    return now + timedelta(seconds=ahead / max(workers, 1) + own)


def get_job(*, session: Session, job_id: int) -> TrainingJob:
    """The job or :class:`NotFound`."""
    job = session.get(TrainingJob, job_id)
    if job is None:
        raise NotFound(f"no training job with id {job_id}")
    return job


def read(job: TrainingJob) -> JobRead:
    """Schema view of a job (with its machine's name)."""
    out = JobRead.model_validate(job, from_attributes=True)
    session = object_session(job)
    machine = session.get(Machine, job.machine_id) if session is not None else None
    return out.model_copy(update={"machine_name": machine.name if machine else None})


def list_jobs(
    *,
    session: Session,
    machine_id: int | None = None,
    model_type: str | None = None,
    status: str | None = None,
    limit: int = 100,
) -> list[JobRead]:
    """Jobs, newest first."""
    if model_type is not None:
        check_model_type(model_type)
    if status is not None and status not in (*ACTIVE_STATUSES, *FINAL_STATUSES):
        raise InvalidInput(
            f"unknown status {status!r}; choose one of "
            f"{', '.join((*ACTIVE_STATUSES, *FINAL_STATUSES))}"
        )
    rows = repository.list_jobs(
        session, machine_id=machine_id, model_type=model_type, status=status, limit=limit
    )
    return [read(j) for j in rows]


def cancel(*, session: Session, job_id: int, clock: Clock) -> JobRead:
    """Cancel a pending job now, or ask a running one to stop: its worker terminates the
    fitting process within a heartbeat and then ends the job ``cancelled``."""
    job = get_job(session=session, job_id=job_id)
    now = clock.now()
    if repository.transition(
        session,
        job_id,
        ("pending",),
        training_status="cancelled",
        training_end=now,
        error_message="cancelled before it started",
    ):
        return read(get_job(session=session, job_id=job_id))
    if repository.transition(session, job_id, ("running",), cancel_requested=True):
        return read(get_job(session=session, job_id=job_id))
    raise Conflict(
        f"training job {job_id} already ended ({job.training_status}); nothing to cancel"
    )
