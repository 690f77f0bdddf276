"""Periodic jobs: their cron schedules, once-per-tick execution and their last results.

Several consumers may each run Huey's scheduler; a tick is run by whichever first inserts
its ``(job_name, tick)`` row into ``scheduler_runs`` — the others see the unique-key
violation and skip, so a periodic job runs once per tick, not once per worker.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from croniter import croniter
from huey import crontab
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from enms.core.clock import Clock
from enms.core.config import Settings
from enms.core.db import SessionFactory, session_scope
from enms.core.errors import InvalidInput, NotFound
from enms.jobs.models import SchedulerRun

log = logging.getLogger(__name__)
JobBody = Callable[[], dict[str, Any]]


@dataclass(frozen=True)
class PeriodicJob:
    """A named job with a cron expression (UTC)."""

    name: str
    cron: str
    description: str

    def matcher(self) -> Callable[[datetime], bool]:
        """Huey's test function for this cron expression."""
        return cron_matcher(self.cron)


def cron_matcher(expression: str) -> Callable[[datetime], bool]:
    """Parse a five-field cron expression into a datetime predicate.

    >>> m = cron_matcher("15 * * * *")
    >>> m(datetime(2026, 1, 1, 3, 15)), m(datetime(2026, 1, 1, 3, 16))
    (True, False)
    """
    fields = expression.split()
    if len(fields) != 5:
        raise InvalidInput(
            f"cron expression {expression!r} must have five fields "
            "(minute hour day month day-of-week)"
        )
    minute, hour, day, month, dow = fields
    try:
        matcher: Callable[[datetime], bool] = crontab(minute, hour, day, month, dow, strict=True)
    except ValueError as exc:
        raise InvalidInput(f"cron expression {expression!r}: {exc}") from exc
    return matcher


def periodic_jobs(settings: Settings) -> list[PeriodicJob]:
    """Every periodic job with its configured schedule."""
    return [
        PeriodicJob(
            "training_cleanup",
            settings.schedule.training_cleanup,
            "time out overdue training jobs, requeue or fail jobs whose worker died",
        ),
        PeriodicJob(
            "baseline_retrain",
            settings.schedule.baseline_retrain,
            "retrain baselines whose champion is older than "
            f"{settings.schedule.baseline_max_age_days:g} days",
        ),
        PeriodicJob(
            "score_predictions",
            settings.schedule.score_predictions,
            "score new readings with every champion and challenger into the prediction log",
        ),
        PeriodicJob(
            "performance_evaluation",
            settings.schedule.performance_evaluation,
            "daily and weekly metrics rows of every champion and challenger",
        ),
        PeriodicJob(
            "drift_check",
            settings.schedule.drift_check,
            "drift checks of every champion and challenger",
        ),
        PeriodicJob(
            "anomaly_detect",
            settings.schedule.anomaly_detect,
            "champion anomaly detectors score the newest readings; flagged ones are stored",
        ),
        PeriodicJob(
            "kpi_calculate",
            settings.schedule.kpi_calculate,
            "energy KPIs (energy, SEC, EnPI, savings) per machine and day",
        ),
        PeriodicJob(
            "data_quality_check",
            settings.schedule.data_quality_check,
            "stopped meters, stale values and gaps open data_quality alerts",
        ),
        PeriodicJob(
            "alert_maintenance",
            settings.schedule.alert_maintenance,
            "auto-resolve alerts clear for long enough; send due notifications",
        ),
    ]


def find_job(settings: Settings, name: str) -> PeriodicJob:
    """The periodic job called ``name`` or :class:`NotFound`."""
    for job in periodic_jobs(settings):
        if job.name == name:
            return job
    known = ", ".join(j.name for j in periodic_jobs(settings))
    raise NotFound(f"no periodic job named {name!r}; known: {known}")


def next_run(job: PeriodicJob, after: datetime) -> datetime:
    """The first minute strictly after ``after`` that the schedule matches (O(1), croniter).

    >>> from datetime import UTC
    >>> job = PeriodicJob("x", "0 2 * * 0", "")
    >>> next_run(job, datetime(2026, 1, 1, 3, 20, tzinfo=UTC))  # a Thursday
    datetime.datetime(2026, 1, 4, 2, 0, tzinfo=datetime.timezone.utc)
    """
    start = after.astimezone(UTC).replace(second=0, microsecond=0)
    found: datetime = croniter(job.cron, start).get_next(datetime)
    return found.astimezone(UTC).replace(fold=0)


def latest_slot(cron: str, now: datetime) -> datetime:
    """The latest minute at or before ``now`` that the schedule matches.

    >>> from datetime import UTC
    >>> latest_slot("15 * * * *", datetime(2026, 1, 1, 3, 20, 5, tzinfo=UTC))
    datetime.datetime(2026, 1, 1, 3, 15, tzinfo=datetime.timezone.utc)
    >>> latest_slot("15 * * * *", datetime(2026, 1, 1, 3, 15, 0, tzinfo=UTC))
    datetime.datetime(2026, 1, 1, 3, 15, tzinfo=datetime.timezone.utc)
    """
    start = now.astimezone(UTC).replace(second=0, microsecond=0) + timedelta(minutes=1)
    found: datetime = croniter(cron, start).get_prev(datetime)
    return found.astimezone(UTC).replace(fold=0)


def close_crashed(session: Session, *, name: str, before: datetime, now: datetime) -> list[int]:
    """End as failed every run of ``name`` still ``running`` from a tick before ``before``:
    its worker died mid-run (a live one finishes well within one schedule period)."""
    rows = session.scalars(
        select(SchedulerRun).where(
            SchedulerRun.job_name == name,
            SchedulerRun.status == "running",
            SchedulerRun.tick < before,
        )
    ).all()
    for row in rows:
        row.status, row.finished_at = "failed", now
        row.error = "the run did not finish (its worker stopped); closed at the next tick"
    session.flush()
    return [row.id for row in rows]


def run_once(
    *,
    factory: SessionFactory,
    clock: Clock,
    name: str,
    tick: datetime,
    trigger: str,
    body: JobBody,
) -> SchedulerRun | None:
    """Run ``body`` for ``(name, tick)`` unless another worker already took that tick; first
    close any earlier run of the job that crashed."""
    try:
        with session_scope(factory, write=True) as session:
            # Scheduled ticks only: a manual run may legitimately overlap a scheduled one.
            closed = (
                close_crashed(session, name=name, before=tick, now=clock.now())
                if trigger == "schedule"
                else []
            )
            if closed:
                log.warning("periodic job %s: closed crashed runs %s as failed", name, closed)
            run = SchedulerRun(
                job_name=name, tick=tick, trigger=trigger, status="running", started_at=clock.now()
            )
            session.add(run)
            session.flush()
            run_id = run.id
    except IntegrityError:
        log.info("periodic job %s for %s already taken by another worker", name, tick)
        return None
    try:
        result, status, error = body(), "completed", None
    except Exception as exc:
        log.exception("periodic job %s failed", name)
        result, status, error = None, "failed", f"{type(exc).__name__}: {exc}"
    with session_scope(factory, write=True) as session:
        row = session.get(SchedulerRun, run_id)
        assert row is not None
        row.status, row.result, row.error, row.finished_at = status, result, error, clock.now()
        session.flush()
        session.expunge(row)
    return row


def last_runs(session: Session) -> dict[str, SchedulerRun]:
    """The latest run of every periodic job."""
    rows = session.scalars(select(SchedulerRun).order_by(SchedulerRun.id.desc()).limit(200))
    latest: dict[str, SchedulerRun] = {}
    for row in rows:
        latest.setdefault(row.job_name, row)
    return latest
