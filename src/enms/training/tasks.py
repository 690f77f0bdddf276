"""Background work of the training stage, as plain functions the job queue wraps.

- :func:`train`: run one training job (see :mod:`enms.training.runner`).
- :func:`training_cleanup` (periodic, ``ENMS_SCHEDULE__TRAINING_CLEANUP``, hourly at :15; the
  same recovery every consumer's watchdog runs every ``ENMS_QUEUE__WATCHDOG_SECONDS``):
  requeue or fail jobs whose lease expired, re-enqueue pending jobs whose message was lost.
- :func:`baseline_retrain` (periodic, ``ENMS_SCHEDULE__BASELINE_RETRAIN``, Sunday 02:00):
  retrain every baseline whose champion is older than ``ENMS_SCHEDULE__BASELINE_MAX_AGE_DAYS``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from enms.core.clock import Clock
from enms.core.config import Settings
from enms.core.db import SessionFactory, session_scope
from enms.core.errors import InvalidInput
from enms.core.timewindow import Window
from enms.registry import service as registry
from enms.training import lifecycle
from enms.training import service as jobs
from enms.training.models import TrainingJob
from enms.training.runner import RunContext, run_job
from enms.training.schemas import TriggerResult


def train(job_id: int, *, ctx: RunContext) -> str:
    """Run training job ``job_id`` in this consumer (the fit runs in a child process)."""
    return run_job(job_id, ctx)


def training_cleanup(
    *,
    factory: SessionFactory,
    settings: Settings,
    clock: Clock,
    enqueue: lifecycle.Enqueue,
    lost_pending: Callable[[list[TrainingJob]], list[int]] = lambda _jobs: [],
) -> dict[str, Any]:
    """Recover jobs whose lease expired, re-enqueue lost pending ones; report what was done."""
    with session_scope(factory, write=True) as session:
        done = lifecycle.recover(
            session=session,
            settings=settings.training,
            clock=clock,
            enqueue=enqueue,
            lost_pending=lost_pending,
            lost_after_seconds=settings.queue.lost_enqueue_seconds,
        )
    return {
        "requeued": done.requeued,
        "failed": done.failed,
        "cancelled": done.cancelled,
        "timed_out": done.timed_out,
        "reenqueued_pending": done.reenqueued_pending,
    }


def baseline_retrain(
    *, factory: SessionFactory, settings: Settings, clock: Clock, enqueue: lifecycle.Enqueue
) -> dict[str, Any]:
    """Trigger a scheduled retrain for every baseline champion older than the max age."""
    max_age = timedelta(days=settings.schedule.baseline_max_age_days)
    triggered: list[int | None] = []
    skipped: list[int | None] = []
    refused: list[dict[str, Any]] = []
    with session_scope(factory) as session:
        stale = [
            (c.machine_id, c.version, c.created_at)
            for c in registry.champions(session=session, model_type="baseline")
            if clock.now() - c.created_at > max_age
        ]
    for machine_id, version, created in stale:
        try:
            result = _retrain(factory, clock, enqueue, machine_id, version, created)
        except InvalidInput as exc:  # e.g. its readings were deleted: the others still run
            refused.append({"machine_id": machine_id, "reason": str(exc)})
            continue
        (triggered if result.triggered else skipped).append(result.training_job_id)
    return {"triggered_jobs": triggered, "already_running": skipped, "refused": refused}


def _retrain(
    factory: SessionFactory,
    clock: Clock,
    enqueue: lifecycle.Enqueue,
    machine_id: int,
    version: int,
    created: datetime,
) -> TriggerResult:
    with session_scope(factory, write=True) as session:
        age = (clock.now() - created).days
        return jobs.trigger(
            session=session,
            machine_id=machine_id,
            model_type="baseline",
            trigger_type="scheduled",
            reason=f"champion v{version} is {age} days old",
            requested_by="scheduler",
            window=Window(None, None),
            hyperparameters={},
            clock=clock,
            enqueue=enqueue,
        )
