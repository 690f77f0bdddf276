"""The task registry: every background function, registered on one Huey instance at start-up.

Task bodies live with their stage (``enms.training.tasks`` …); this module only wires them to
a runtime's queue and the periodic schedule, with closures over that runtime (nothing is kept
at module level). Names are explicit so `enms serve` and any number of `enms worker`
processes agree on them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

from huey import Huey
from huey.api import TaskWrapper

from enms.alerts import actions as alert_actions
from enms.alerts import data_quality as data_quality_tasks
from enms.alerts import tasks as alert_tasks
from enms.anomalies import tasks as anomaly_tasks
from enms.core.clock import Clock
from enms.core.config import Settings
from enms.core.db import SessionFactory
from enms.drift import tasks as drift_tasks
from enms.evaluation import periodic as evaluation_tasks
from enms.experiments import tasks as ab_test_tasks
from enms.jobs import schedule
from enms.kpis import tasks as kpi_tasks
from enms.predictions import tasks as prediction_tasks
from enms.promotion import tasks as promotion_tasks
from enms.training import tasks as training_tasks
from enms.training.models import TrainingJob
from enms.training.runner import RunContext

log = logging.getLogger(__name__)
TRAIN = "enms.train"
#: The monitoring and alert jobs in the order one day runs them (data quality before the
#: drift check, so a meter problem inhibits that day's drift alerts).
MONITORING_JOBS = (
    "score_predictions",
    "performance_evaluation",
    "data_quality_check",
    "drift_check",
    "anomaly_detect",
    "kpi_calculate",
    "ab_test_evaluate",
    "promotion_watch",
    "alert_maintenance",
)
RUN_PERIODIC = "enms.run_periodic"


class Host(Protocol):
    """What task bodies need from the runtime that registered them."""

    settings: Settings
    huey: Huey
    clock: Clock
    factory: SessionFactory

    def enqueue_training(self, job_id: int) -> None: ...
    def queued_training_jobs(self, limit: int = ...) -> set[int] | None: ...
    def run_context(self) -> RunContext: ...


def lost_pending(host: Host) -> Callable[[list[TrainingJob]], list[int]]:
    """Which of some pending jobs no queue message names (their enqueue was lost)."""

    def pick(jobs: list[TrainingJob]) -> list[int]:
        queued = host.queued_training_jobs()
        if queued is None:
            return []
        return [j.id for j in jobs if j.id not in queued]

    return pick


def cleanup(host: Host) -> dict[str, Any]:
    """One recovery pass (the periodic ``training_cleanup`` and every watchdog sweep); the
    jobs it failed or timed out (a lost worker) raise their ``training_failed`` alerts."""
    done = training_tasks.training_cleanup(
        factory=host.factory,
        settings=host.settings,
        clock=host.clock,
        enqueue=host.enqueue_training,
        lost_pending=lost_pending(host),
    )
    ended = [*done.get("failed", []), *done.get("timed_out", [])]
    if ended:
        done["alerts"] = [job_alert(host.factory, host.clock, job_id) for job_id in ended]
    return done


def job_alert(factory: SessionFactory, clock: Clock, job_id: int) -> dict[str, Any]:
    """Raise ``training_failed`` for a job that ended failed / timed out (clear it for a
    completed one); a failure here is logged, never the job's."""
    try:
        return alert_actions.on_job_finished(factory=factory, clock=clock, job_id=job_id)
    except Exception as exc:
        log.exception("the training_failed alert of job %s could not be written", job_id)
        return {"job_id": job_id, "error": f"{type(exc).__name__}: {exc}"}


def train_and_alert(job_id: int, *, ctx: RunContext, factory: SessionFactory, clock: Clock) -> str:
    """Run a training job, then raise or clear its (machine, model type)'s
    ``training_failed`` alert from how the job ended."""
    outcome = training_tasks.train(job_id, ctx=ctx)
    job_alert(factory, clock, job_id)
    return outcome


def monitoring_bodies(
    *,
    factory: SessionFactory,
    settings: Settings,
    clock: Clock,
    enqueue: Callable[[int], None] | None,
) -> dict[str, Callable[[], dict[str, Any]]]:
    """The monitoring and alert job bodies by schedule name, in the order a day runs them
    (the demo replay runs them in this order too)."""
    kw: dict[str, Any] = {"factory": factory, "settings": settings, "clock": clock}
    bodies: dict[str, Callable[[], dict[str, Any]]] = {
        "score_predictions": lambda: prediction_tasks.score_predictions(**kw),
        "performance_evaluation": lambda: evaluation_tasks.performance_evaluation(**kw),
        "data_quality_check": lambda: data_quality_tasks.data_quality_check(**kw),
        "drift_check": lambda: drift_tasks.drift_checks(**kw, enqueue=enqueue),
        "anomaly_detect": lambda: anomaly_tasks.anomaly_detect(**kw),
        "kpi_calculate": lambda: kpi_tasks.kpi_calculate(**kw),
        "ab_test_evaluate": lambda: ab_test_tasks.ab_test_evaluate(**kw),
        "promotion_watch": lambda: promotion_tasks.promotion_watch(**kw),
        "alert_maintenance": lambda: alert_tasks.alert_maintenance(**kw),
    }
    return {name: bodies[name] for name in MONITORING_JOBS}


def _bodies(host: Host) -> dict[str, Callable[[], dict[str, Any]]]:
    return {
        "training_cleanup": lambda: cleanup(host),
        "baseline_retrain": lambda: training_tasks.baseline_retrain(
            factory=host.factory,
            settings=host.settings,
            clock=host.clock,
            enqueue=host.enqueue_training,
        ),
        **monitoring_bodies(
            factory=host.factory,
            settings=host.settings,
            clock=host.clock,
            enqueue=host.enqueue_training,
        ),
    }


def run_periodic_job(host: Host, name: str, tick: datetime | None) -> dict[str, Any] | None:
    """Run periodic job ``name`` for ``tick`` (None: a manual run, keyed by the current time)."""
    run = schedule.run_once(
        factory=host.factory,
        clock=host.clock,
        name=name,
        tick=tick or host.clock.now(),
        trigger="schedule" if tick else "manual",
        body=_bodies(host)[name],
    )
    return None if run is None else run.result


def register_tasks(host: Host) -> dict[str, TaskWrapper]:
    """Register every task (and periodic job) on ``host.huey``; return them by name."""
    huey = host.huey

    def train(job_id: int) -> str:
        return train_and_alert(
            job_id, ctx=host.run_context(), factory=host.factory, clock=host.clock
        )

    def run_periodic(name: str, tick: str | None) -> dict[str, Any] | None:
        return run_periodic_job(host, name, datetime.fromisoformat(tick) if tick else None)

    registered = {
        TRAIN: huey.task(name=TRAIN)(train),
        RUN_PERIODIC: huey.task(name=RUN_PERIODIC)(run_periodic),
    }
    for job in schedule.periodic_jobs(host.settings):
        huey.periodic_task(job.matcher(), name=f"enms.periodic.{job.name}")(
            _periodic_body(host, job)
        )
    return registered


def _periodic_body(host: Host, job: schedule.PeriodicJob) -> Callable[[], None]:
    def tick() -> None:
        if job.name in host.settings.schedule.paused:
            return
        # Key the run by the schedule slot it belongs to (the latest matching minute), not by
        # when a worker got round to it: every worker's copy of this tick shares the key.
        run_periodic_job(host, job.name, schedule.latest_slot(job.cron, host.clock.now()))

    tick.__name__ = f"periodic_{job.name}"
    return tick
