"""Use cases of training jobs: trigger, cancel, list, and the transitions a worker makes.

``model_training_history`` is the source of truth, not the queue: a job is enqueued only
after its row is committed (:func:`enms.core.db.after_commit`), a worker runs it only if it
wins the ``pending → running`` transition, and :func:`recover` finds jobs whose worker
vanished (no heartbeat for ``ENMS_TRAINING__STALE_AFTER_SECONDS``) or that overran
``ENMS_TRAINING__TIMEOUT_MINUTES``.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, object_session

from enms.core.clock import Clock
from enms.core.config import TrainingSettings
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
) -> TriggerResult:
    """Create a pending job unless one is already pending or running for the same model.

    The database's unique partial index decides races: of many concurrent triggers exactly
    one inserts; the others are told which job is in progress.
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
    except IntegrityError:
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
    after_commit(session, lambda: enqueue(job_id))
    return TriggerResult(
        triggered=True,
        trigger_type=trigger_type,
        reason=reason,
        training_job_id=job_id,
        estimated_completion=_estimate(session, model_type, clock),
        status="pending",
    )


def _estimate(session: Session, model_type: str, clock: Clock):  # type: ignore[no-untyped-def]
    durations = repository.recent_durations(session, model_type)
    if not durations:
        return None
    return clock.now() + timedelta(seconds=statistics.median(durations))


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
    """Cancel a pending job now, or ask a running one to stop at its next stage boundary."""
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


@dataclass(frozen=True)
class JobState:
    """What a worker needs to know at a stage boundary."""

    status: str
    cancel_requested: bool
    worker: str | None

    def held_by(self, worker: str) -> bool:
        """True while the job runs on ``worker`` (recovery may have handed it to another)."""
        return self.status == "running" and self.worker == worker


def claim(*, session: Session, job_id: int, worker: str, clock: Clock) -> bool:
    """``pending → running`` for this worker; False when someone else got it (or it ended)."""
    job = session.get(TrainingJob, job_id)
    if job is None:
        return False
    now = clock.now()
    return repository.transition(
        session,
        job_id,
        ("pending",),
        training_status="running",
        training_start=now,
        heartbeat_at=now,
        attempts=job.attempts + 1,
        worker=worker,
        progress_stage="queued",
        progress_percent=0.0,
        error_message=None,
    )


def progress(
    *, session: Session, job_id: int, worker: str, stage: str, percent: float, clock: Clock
) -> JobState:
    """Record progress and a heartbeat; return the job's state for the caller to act on."""
    repository.transition(
        session,
        job_id,
        ("running",),
        owner=worker,
        progress_stage=stage,
        progress_percent=percent,
        heartbeat_at=clock.now(),
    )
    return state(session=session, job_id=job_id)


def heartbeat(*, session: Session, job_id: int, worker: str, clock: Clock) -> JobState:
    """Tell the database the job's worker is alive."""
    repository.transition(session, job_id, ("running",), owner=worker, heartbeat_at=clock.now())
    return state(session=session, job_id=job_id)


def state(*, session: Session, job_id: int) -> JobState:
    """Current status, cancel flag and the worker holding the job."""
    job = get_job(session=session, job_id=job_id)
    return JobState(job.training_status, job.cancel_requested, job.worker)


def finish(
    *,
    session: Session,
    job_id: int,
    status: str,
    clock: Clock,
    error: str | None = None,
    model_version: int | None = None,
    improvement: float | None = None,
    worker: str | None = None,
) -> bool:
    """``running → status`` with the end time and duration; False if the job already ended
    (or, when ``worker`` is given, is no longer held by it). Completing also requires that
    no cancel was requested, so a cancel that races the registration wins."""
    job = get_job(session=session, job_id=job_id)
    now = clock.now()
    started = job.training_start or now
    values: dict[str, object] = {
        "training_status": status,
        "training_end": now,
        "training_duration_seconds": (now - started).total_seconds(),
        "error_message": error,
        "heartbeat_at": now,
    }
    if status == "completed":
        values |= {
            "model_version": model_version,
            "performance_improvement": improvement,
            "progress_stage": "done",
            "progress_percent": 100.0,
        }
    return repository.transition(
        session,
        job_id,
        ("running",),
        owner=worker,
        not_cancelled=status == "completed",
        **values,
    )


@dataclass(frozen=True)
class Recovery:
    """What :func:`recover` did."""

    requeued: list[int]
    failed: list[int]
    timed_out: list[int]
    reenqueued_pending: list[int]
    cancelled: list[int]


def recover(
    *,
    session: Session,
    settings: TrainingSettings,
    clock: Clock,
    enqueue: Enqueue,
    worker_is_dead: Callable[[str | None], bool] = lambda _worker: False,
    queue_is_empty: bool = False,
) -> Recovery:
    """Time out overdue jobs, requeue (once) or fail jobs whose worker vanished, and
    re-enqueue pending jobs whose queue message was lost.

    A worker has vanished when its heartbeat is older than ``stale_after_seconds``, or at
    once when ``worker_is_dead`` says so (a process on this host that no longer exists). A
    vanished job that was asked to cancel ends ``cancelled`` instead of running again.
    Pending jobs are re-enqueued only when the caller saw the queue empty: then any job the
    database still calls pending has lost its message (a job still in the queue would only
    get a second, harmless, message).
    """
    now = clock.now()
    silent_since = now - timedelta(seconds=settings.stale_after_seconds)
    # Read before requeueing below, so a job requeued now is not also counted as waiting.
    pending = [j.id for j in repository.waiting(session, silent_since)] if queue_is_empty else []
    timed_out = []
    for job in repository.overdue_running(
        session, now - timedelta(minutes=settings.timeout_minutes)
    ):
        if finish(
            session=session,
            job_id=job.id,
            status="timed_out",
            clock=clock,
            error=f"ran longer than the {settings.timeout_minutes:g}-minute timeout "
            "(ENMS_TRAINING__TIMEOUT_MINUTES)",
        ):
            timed_out.append(job.id)
    requeued: list[int] = []
    failed: list[int] = []
    cancelled: list[int] = []
    silent = {j.id: j for j in repository.stale_running(session, silent_since)}
    dead = {j.id: j for j in repository.running(session) if worker_is_dead(j.worker)}
    for job in (silent | dead).values():
        last = job.heartbeat_at or job.training_start
        lost = (
            f"worker {job.worker} stopped responding (last heartbeat {last:%Y-%m-%d %H:%M:%S} UTC)"
        )
        if job.cancel_requested:
            if finish(
                session=session,
                job_id=job.id,
                status="cancelled",
                clock=clock,
                error=f"{lost} after a cancel was requested; nothing was registered",
            ):
                cancelled.append(job.id)
        elif job.attempts < settings.max_attempts:
            if repository.transition(
                session,
                job.id,
                ("running",),
                training_status="pending",
                worker=None,
                progress_stage="requeued",
                progress_percent=0.0,
                error_message=f"{lost}; requeued",
            ):
                requeued.append(job.id)
        elif finish(
            session=session,
            job_id=job.id,
            status="failed",
            clock=clock,
            error=f"{lost} on attempt {job.attempts} of {settings.max_attempts}; giving up",
        ):
            failed.append(job.id)
    for job_id in [*requeued, *pending]:
        after_commit(session, lambda job_id=job_id: enqueue(job_id))  # type: ignore[misc]
    return Recovery(requeued, failed, timed_out, pending, cancelled)
