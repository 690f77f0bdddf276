"""Queries on ``model_training_history``. Flushes, never commits.

State changes are conditional ``UPDATE … WHERE training_status = …`` statements so two
workers (or a worker and a cancel request) can never both win a transition.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from enms.training.models import ACTIVE_STATUSES, TrainingJob


def active_job(session: Session, machine_id: int, model_type: str) -> TrainingJob | None:
    """The pending or running job of (machine, model type), if any."""
    return session.scalar(
        select(TrainingJob).where(
            TrainingJob.machine_id == machine_id,
            TrainingJob.model_type == model_type,
            TrainingJob.training_status.in_(ACTIVE_STATUSES),
        )
    )


def transition(
    session: Session,
    job_id: int,
    from_statuses: tuple[str, ...],
    *,
    owner: str | None = None,
    not_cancelled: bool = False,
    **values: Any,
) -> bool:
    """Apply ``values`` if the job is in one of ``from_statuses`` (and, when given, still held
    by worker ``owner``, and not asked to cancel); True when it was."""
    query = update(TrainingJob).where(
        TrainingJob.id == job_id, TrainingJob.training_status.in_(from_statuses)
    )
    if owner is not None:
        query = query.where(TrainingJob.worker == owner)
    if not_cancelled:
        query = query.where(TrainingJob.cancel_requested.is_(False))
    result = session.execute(query.values(**values).execution_options(synchronize_session=False))
    # Only this job's loaded row is stale now; everything else in the session stays valid.
    loaded = session.identity_map.get(identity_key(TrainingJob, job_id))
    if loaded is not None:
        session.expire(loaded)
    assert isinstance(result, CursorResult)
    return result.rowcount == 1


def list_jobs(
    session: Session,
    *,
    machine_id: int | None,
    model_type: str | None,
    status: str | None,
    limit: int,
) -> list[TrainingJob]:
    """Jobs, newest first, filtered."""
    query = select(TrainingJob).order_by(TrainingJob.id.desc()).limit(limit)
    if machine_id is not None:
        query = query.where(TrainingJob.machine_id == machine_id)
    if model_type is not None:
        query = query.where(TrainingJob.model_type == model_type)
    if status is not None:
        query = query.where(TrainingJob.training_status == status)
    return list(session.scalars(query))


def recent_durations(session: Session, model_type: str, limit: int = 20) -> list[float]:
    """Durations (s) of the latest completed jobs of a model type."""
    rows = session.scalars(
        select(TrainingJob.training_duration_seconds)
        .where(
            TrainingJob.model_type == model_type,
            TrainingJob.training_status == "completed",
            TrainingJob.training_duration_seconds.is_not(None),
        )
        .order_by(TrainingJob.id.desc())
        .limit(limit)
    )
    return [float(d) for d in rows if d is not None]


def running(session: Session) -> list[TrainingJob]:
    """Every running job."""
    return list(
        session.scalars(select(TrainingJob).where(TrainingJob.training_status == "running"))
    )


def expired_leases(session: Session, now: datetime) -> list[TrainingJob]:
    """Running jobs whose worker's lease ran out before ``now``."""
    return list(
        session.scalars(
            select(TrainingJob).where(
                TrainingJob.training_status == "running",
                func.coalesce(TrainingJob.lease_expires_at, TrainingJob.training_start) < now,
            )
        )
    )


def waiting(session: Session, created_before: datetime) -> list[TrainingJob]:
    """Pending jobs created before ``created_before`` (their queue message may be lost)."""
    return list(
        session.scalars(
            select(TrainingJob).where(
                TrainingJob.training_status == "pending",
                TrainingJob.created_at < created_before,
            )
        )
    )


def open_jobs(session: Session, before_id: int) -> list[TrainingJob]:
    """Running jobs, and pending jobs created before job ``before_id`` (the queue ahead)."""
    return list(
        session.scalars(
            select(TrainingJob).where(
                (TrainingJob.training_status == "running")
                | ((TrainingJob.training_status == "pending") & (TrainingJob.id < before_id))
            )
        )
    )


def median_durations(session: Session, limit: int = 20) -> dict[str, float]:
    """Median duration (s) of the latest ``limit`` completed jobs of each model type."""
    out: dict[str, float] = {}
    types = session.scalars(select(TrainingJob.model_type).distinct())
    for model_type in types:
        durations = sorted(recent_durations(session, model_type, limit))
        if durations:
            middle = len(durations) // 2
            out[model_type] = (
                durations[middle]
                if len(durations) % 2
                else (durations[middle - 1] + durations[middle]) / 2
            )
    return out
