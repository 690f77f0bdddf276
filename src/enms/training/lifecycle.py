"""The training job's state machine as seen by workers: claim, lease, progress, end, recovery.

``pending → running`` (:func:`claim`, by one worker, with a lease) → ``completed | failed |
cancelled | timed_out`` (:func:`finish`), or back to ``pending`` (:func:`hand_back` when a
draining worker gives a job up; :func:`recover` when a lease expired). Every transition is one
conditional ``UPDATE`` (see :mod:`enms.training.repository`), so two workers, a cancel request
and any number of watchdogs can race without two of them winning.

A running job holds a lease until ``lease_expires_at`` (``ENMS_TRAINING__LEASE_SECONDS``),
renewed by every heartbeat; an expired lease is the only evidence that its worker is gone.
Each attempt is appended to ``attempt_history`` (worker, start, end, outcome, error), so a
recovered job keeps the reason its earlier attempt ended.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from enms.core.clock import Clock
from enms.core.config import TrainingSettings
from enms.core.db import after_commit
from enms.core.errors import NotFound
from enms.training import repository
from enms.training.models import TrainingJob

Enqueue = Callable[[int], None]


def _job(session: Session, job_id: int) -> TrainingJob:
    job = session.get(TrainingJob, job_id)
    if job is None:
        raise NotFound(f"no training job with id {job_id}")
    return job


def _open_attempt(job: TrainingJob, worker: str, now: datetime) -> list[dict[str, Any]]:
    entry = {
        "attempt": len(job.attempt_history or []) + 1,
        "worker": worker,
        "started_at": now.isoformat(),
        "ended_at": None,
        "outcome": None,
        "error": None,
    }
    return [*(job.attempt_history or []), entry]


def _close_attempt(
    job: TrainingJob, outcome: str, error: str | None, now: datetime
) -> list[dict[str, Any]]:
    history = [dict(entry) for entry in job.attempt_history or []]
    if history and history[-1].get("ended_at") is None:
        history[-1] |= {"ended_at": now.isoformat(), "outcome": outcome, "error": error}
    return history


@dataclass(frozen=True)
class JobState:
    """What a worker needs to know while it runs a job."""

    status: str
    cancel_requested: bool
    worker: str | None

    def held_by(self, worker: str) -> bool:
        """True while the job runs on ``worker`` (recovery may have handed it to another)."""
        return self.status == "running" and self.worker == worker


def claim(
    *, session: Session, job_id: int, worker: str, clock: Clock, lease_seconds: float = 30
) -> bool:
    """``pending → running`` for this worker, with a lease; False when someone else got it
    (or it ended)."""
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
        lease_expires_at=now + timedelta(seconds=lease_seconds),
        attempts=job.attempts + 1,
        worker=worker,
        progress_stage="loading data",
        progress_percent=5.0,
        error_message=None,
        attempt_history=_open_attempt(job, worker, now),
    )


def heartbeat(
    *,
    session: Session,
    job_id: int,
    worker: str,
    clock: Clock,
    lease_seconds: float = 30,
    stage: str | None = None,
    percent: float | None = None,
) -> JobState:
    """Renew the worker's lease (and record progress); return the job's state to act on."""
    now = clock.now()
    values: dict[str, Any] = {
        "heartbeat_at": now,
        "lease_expires_at": now + timedelta(seconds=lease_seconds),
    }
    if stage is not None:
        values |= {"progress_stage": stage, "progress_percent": percent}
    repository.transition(session, job_id, ("running",), owner=worker, **values)
    return state(session=session, job_id=job_id)


def state(*, session: Session, job_id: int) -> JobState:
    """Current status, cancel flag and the worker holding the job."""
    job = _job(session, job_id)
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
    job = _job(session, job_id)
    now = clock.now()
    started = job.training_start or now
    values: dict[str, object] = {
        "training_status": status,
        "training_end": now,
        "training_duration_seconds": (now - started).total_seconds(),
        "error_message": error,
        "heartbeat_at": now,
        "lease_expires_at": None,
        "attempt_history": _close_attempt(job, status, error, now),
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


def hand_back(
    *, session: Session, job_id: int, worker: str, clock: Clock, reason: str, enqueue: Enqueue
) -> bool:
    """``running → pending``: a draining worker gives the job up (the attempt does not count
    against ``max_attempts``) and it is enqueued again after the commit."""
    job = _job(session, job_id)
    now = clock.now()
    done = repository.transition(
        session,
        job_id,
        ("running",),
        owner=worker,
        training_status="pending",
        worker=None,
        lease_expires_at=None,
        attempts=max(job.attempts - 1, 0),
        progress_stage="handed back",
        progress_percent=0.0,
        error_message=reason,
        attempt_history=_close_attempt(job, "handed_back", reason, now),
    )
    if done:
        after_commit(session, lambda: enqueue(job_id))
    return done


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
    lost_pending: Callable[[list[TrainingJob]], list[int]] = lambda _jobs: [],
    lost_after_seconds: float = 60,
) -> Recovery:
    """Time out overdue jobs whose worker is gone, requeue (once) or fail jobs whose lease
    expired, and re-enqueue pending jobs whose queue message was lost.

    A live worker times its own jobs out (it must stop the fit first, so the slot frees only
    when the fitting process is gone); here a job is only timed out once its lease expired
    too. ``lost_pending`` gets the pending jobs older than ``lost_after_seconds`` and returns
    those no queue message names (the caller can look in the queue; a job still queued would
    only get a second, harmless, message).
    """
    now = clock.now()
    old = repository.waiting(session, now - timedelta(seconds=lost_after_seconds))
    pending = lost_pending(old) if old else []
    timed_out: list[int] = []
    requeued: list[int] = []
    failed: list[int] = []
    cancelled: list[int] = []
    deadline = now - timedelta(minutes=settings.timeout_minutes)
    for job in repository.expired_leases(session, now):
        held = job.lease_expires_at or job.heartbeat_at or job.training_start
        lost = f"worker {job.worker} lost its lease (expired {held:%Y-%m-%d %H:%M:%S} UTC)"
        if job.training_start is not None and job.training_start < deadline:
            if finish(
                session=session,
                job_id=job.id,
                status="timed_out",
                clock=clock,
                error=f"ran longer than the {settings.timeout_minutes:g}-minute timeout "
                f"(ENMS_TRAINING__TIMEOUT_MINUTES) and {lost}",
                worker=job.worker,
            ):
                timed_out.append(job.id)
        elif job.cancel_requested:
            if finish(
                session=session,
                job_id=job.id,
                status="cancelled",
                clock=clock,
                error=f"{lost} after a cancel was requested; nothing was registered",
                worker=job.worker,
            ):
                cancelled.append(job.id)
        elif job.attempts < settings.max_attempts:
            error = f"{lost}; requeued"
            if repository.transition(
                session,
                job.id,
                ("running",),
                owner=job.worker,
                training_status="pending",
                worker=None,
                lease_expires_at=None,
                progress_stage="requeued",
                progress_percent=0.0,
                error_message=error,
                attempt_history=_close_attempt(job, "lease_expired", error, now),
            ):
                requeued.append(job.id)
        elif finish(
            session=session,
            job_id=job.id,
            status="failed",
            clock=clock,
            error=f"{lost} on attempt {job.attempts} of {settings.max_attempts}; giving up",
            worker=job.worker,
        ):
            failed.append(job.id)
    for job_id in [*requeued, *pending]:
        after_commit(session, lambda job_id=job_id: enqueue(job_id))  # type: ignore[misc]
    return Recovery(requeued, failed, timed_out, pending, cancelled)
