"""Background work of the training stage, as plain functions the job queue wraps.

- :func:`train`: run one training job (see :mod:`enms.training.runner`).
- :func:`training_cleanup` (periodic, ``ENMS_SCHEDULE__TRAINING_CLEANUP``, hourly at :15, and
  at every start-up): recover jobs whose worker died and time out overdue ones.
- :func:`baseline_retrain` (periodic, ``ENMS_SCHEDULE__BASELINE_RETRAIN``, Sunday 02:00):
  retrain every baseline whose champion is older than ``ENMS_SCHEDULE__BASELINE_MAX_AGE_DAYS``.
"""

from __future__ import annotations

import os
import socket
from datetime import timedelta
from typing import Any

from enms.core.clock import Clock
from enms.core.config import Settings
from enms.core.db import SessionFactory, session_scope
from enms.core.timewindow import Window
from enms.registry import service as registry
from enms.training import service as jobs
from enms.training.runner import RunContext, run_job


def train(job_id: int, *, factory: SessionFactory, settings: Settings, clock: Clock) -> str:
    """Run training job ``job_id`` in this worker."""
    return run_job(job_id, RunContext(factory=factory, settings=settings.training, clock=clock))


def training_cleanup(
    *,
    factory: SessionFactory,
    settings: Settings,
    clock: Clock,
    enqueue: jobs.Enqueue,
    queue_is_empty: bool = False,
) -> dict[str, Any]:
    """Recover lost jobs and time out overdue ones; report what was done."""
    with session_scope(factory, write=True) as session:
        done = jobs.recover(
            session=session,
            settings=settings.training,
            clock=clock,
            enqueue=enqueue,
            worker_is_dead=local_worker_is_dead,
            queue_is_empty=queue_is_empty,
        )
    return {
        "requeued": done.requeued,
        "failed": done.failed,
        "cancelled": done.cancelled,
        "timed_out": done.timed_out,
        "reenqueued_pending": done.reenqueued_pending,
    }


def local_worker_is_dead(worker: str | None) -> bool:
    """True when ``worker`` ("host:pid:thread") names a process on this host that is gone.

    Workers on other hosts cannot be checked from here; their heartbeats tell instead.
    """
    if not worker:
        return False
    host, _, rest = worker.partition(":")
    pid_text = rest.split(":", 1)[0]
    if host != socket.gethostname() or not pid_text.isdigit() or int(pid_text) == os.getpid():
        return False
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, owned by someone else
        return False
    return False


def baseline_retrain(
    *, factory: SessionFactory, settings: Settings, clock: Clock, enqueue: jobs.Enqueue
) -> dict[str, Any]:
    """Trigger a scheduled retrain for every baseline champion older than the max age."""
    max_age = timedelta(days=settings.schedule.baseline_max_age_days)
    triggered: list[int | None] = []
    skipped: list[int | None] = []
    with session_scope(factory) as session:
        stale = [
            (c.machine_id, c.version, c.created_at)
            for c in registry.champions(session=session, model_type="baseline")
            if clock.now() - c.created_at > max_age
        ]
    for machine_id, version, created in stale:
        with session_scope(factory, write=True) as session:
            age = (clock.now() - created).days
            result = jobs.trigger(
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
        (triggered if result.triggered else skipped).append(result.training_job_id)
    return {"triggered_jobs": triggered, "already_running": skipped}
