"""Periodic jobs: once per tick across workers, next-run computation, baseline_retrain."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from tests.factories import import_demo_machine, trigger_job

from enms.core.clock import FrozenClock
from enms.core.config import Settings, TrainingSettings
from enms.core.db import SessionFactory, session_scope
from enms.core.errors import InvalidInput
from enms.core.timewindow import Window
from enms.jobs import schedule
from enms.jobs.models import SchedulerRun
from enms.training import service
from enms.training import tasks as training_tasks
from enms.training.runner import RunContext, run_job


def test_a_tick_runs_once_however_many_workers_fire(
    session_factory: SessionFactory, clock: FrozenClock
) -> None:
    calls: list[int] = []
    results: list[Any] = []
    tick = datetime(2026, 1, 15, 12, 15, tzinfo=UTC)
    barrier = threading.Barrier(4)

    def body(n: int) -> dict[str, Any]:
        calls.append(n)
        return {"worker": n}

    def worker(n: int) -> None:
        barrier.wait()
        results.append(
            schedule.run_once(
                factory=session_factory,
                clock=clock,
                name="training_cleanup",
                tick=tick,
                trigger="schedule",
                body=lambda: body(n),
            )
        )

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1
    ran = [r for r in results if r is not None]
    assert len(ran) == 1
    assert ran[0].status == "completed"
    assert ran[0].result == {"worker": calls[0]}
    with session_scope(session_factory) as session:
        latest = schedule.last_runs(session)["training_cleanup"]
    assert latest.tick == tick


def test_failures_are_recorded_not_raised(
    session_factory: SessionFactory, clock: FrozenClock
) -> None:
    def broken() -> dict[str, Any]:
        raise RuntimeError("disk full")

    run = schedule.run_once(
        factory=session_factory,
        clock=clock,
        name="baseline_retrain",
        tick=clock.now(),
        trigger="manual",
        body=broken,
    )
    assert run is not None
    assert (run.status, run.error) == ("failed", "RuntimeError: disk full")


def test_next_run_and_bad_cron() -> None:
    job = schedule.PeriodicJob("baseline_retrain", "0 2 * * 0", "")
    # 2026-01-15 is a Thursday; the next Sunday 02:00 UTC is the 18th.
    assert schedule.next_run(job, datetime(2026, 1, 15, 12, 0, tzinfo=UTC)) == datetime(
        2026, 1, 18, 2, 0, tzinfo=UTC
    )
    with pytest.raises(InvalidInput, match="five fields"):
        schedule.cron_matcher("every sunday")
    with pytest.raises(InvalidInput, match="cron expression '99 \\* \\* \\* \\*'"):
        schedule.cron_matcher("99 * * * *")


def test_baseline_retrain_retrains_only_old_champions(
    session_factory: SessionFactory, clock: FrozenClock
) -> None:
    with session_scope(session_factory, write=True) as session:
        machine_id = import_demo_machine(session, clock).id
        first = trigger_job(session, machine_id=machine_id, model_type="baseline", clock=clock)
    assert first.training_job_id is not None
    run_job(
        first.training_job_id,
        RunContext(factory=session_factory, settings=TrainingSettings(), clock=clock),
    )
    settings = Settings()
    queued: list[int] = []
    young = training_tasks.baseline_retrain(
        factory=session_factory, settings=settings, clock=clock, enqueue=queued.append
    )
    assert young == {"triggered_jobs": [], "already_running": [], "refused": []}
    clock.advance(timedelta(days=8))
    old = training_tasks.baseline_retrain(
        factory=session_factory, settings=settings, clock=clock, enqueue=queued.append
    )
    assert len(old["triggered_jobs"]) == 1
    assert queued == old["triggered_jobs"]
    with session_scope(session_factory) as session:
        job = service.get_job(session=session, job_id=queued[0])
        assert (job.trigger_type, job.requested_by) == ("scheduled", "scheduler")
        assert job.trigger_reason == "champion v1 is 8 days old"


def test_baseline_retrain_goes_on_past_a_machine_it_cannot_retrain(
    session_factory: SessionFactory, clock: FrozenClock
) -> None:
    from enms.readings import service as readings

    machine_ids = []
    for index in (1, 2):
        with session_scope(session_factory, write=True) as session:
            machine_id = import_demo_machine(session, clock, index=index).id
            job = trigger_job(session, machine_id=machine_id, model_type="baseline", clock=clock)
        assert job.training_job_id is not None
        run_job(
            job.training_job_id,
            RunContext(factory=session_factory, settings=TrainingSettings(), clock=clock),
        )
        machine_ids.append(machine_id)
    with session_scope(session_factory, write=True) as session:  # the first lost its readings
        readings.delete_readings(
            session=session, machine_id=machine_ids[0], window=Window(None, clock.now())
        )
    clock.advance(timedelta(days=8))
    queued: list[int] = []
    result = training_tasks.baseline_retrain(
        factory=session_factory, settings=Settings(), clock=clock, enqueue=queued.append
    )
    assert [r["machine_id"] for r in result["refused"]] == [machine_ids[0]]
    assert "readings" in result["refused"][0]["reason"]
    assert len(result["triggered_jobs"]) == 1
    assert queued == result["triggered_jobs"]


def test_copies_of_a_tick_run_late_share_its_slot() -> None:
    matches = "15 * * * *"
    # Two workers each enqueued the 12:15 tick; one ran it at 12:15:30, the other at 12:17.
    early = schedule.latest_slot(matches, datetime(2026, 1, 15, 12, 15, 30, tzinfo=UTC))
    late = schedule.latest_slot(matches, datetime(2026, 1, 15, 12, 17, 2, tzinfo=UTC))
    assert early == late == datetime(2026, 1, 15, 12, 15, tzinfo=UTC)
    weekly = "0 2 * * 0"
    assert schedule.latest_slot(weekly, datetime(2026, 1, 15, 12, 0, tzinfo=UTC)) == datetime(
        2026, 1, 11, 2, 0, tzinfo=UTC
    )


def test_next_run_is_computed_not_scanned() -> None:
    # A yearly schedule: minute scanning would walk ~500k minutes; croniter jumps there.
    job = schedule.PeriodicJob("yearly", "0 0 29 2 *", "")  # only on 29 February
    started = time.perf_counter()
    found = schedule.next_run(job, datetime(2026, 3, 1, tzinfo=UTC))
    assert found == datetime(2028, 2, 29, 0, 0, tzinfo=UTC)
    assert time.perf_counter() - started < 0.05


def test_a_crashed_run_is_closed_as_failed_at_the_next_tick(
    session_factory: SessionFactory, clock: FrozenClock
) -> None:
    first = datetime(2026, 1, 15, 11, 15, tzinfo=UTC)
    with session_scope(session_factory, write=True) as session:
        # The worker running the 11:15 tick died: its row says "running" for ever.
        session.add(
            SchedulerRun(
                job_name="training_cleanup",
                tick=first,
                trigger="schedule",
                status="running",
                started_at=first,
            )
        )
    run = schedule.run_once(
        factory=session_factory,
        clock=clock,
        name="training_cleanup",
        tick=first + timedelta(hours=1),
        trigger="schedule",
        body=lambda: {"ok": True},
    )
    assert run is not None
    assert run.status == "completed"
    with session_scope(session_factory) as session:
        rows = session.scalars(select(SchedulerRun).order_by(SchedulerRun.tick)).all()
        assert [(r.status, r.tick) for r in rows] == [
            ("failed", first),
            ("completed", first + timedelta(hours=1)),
        ]
        assert "did not finish" in (rows[0].error or "")
        assert rows[0].finished_at == clock.now()


def test_a_paused_job_skips_its_ticks_and_says_so(
    settings: Settings, engine: Any, clock: FrozenClock
) -> None:
    """ENMS_SCHEDULE__PAUSED: the tick of a paused job runs nothing; the others run; the
    scheduler API shows it paused with no next run (what `enms demo` relies on)."""
    from fastapi.testclient import TestClient

    from enms.api.app import create_app
    from enms.bootstrap import build_runtime
    from enms.jobs.tasks import _periodic_body

    paused = settings.model_copy(
        update={"schedule": settings.schedule.model_copy(update={"paused": ["alert_maintenance"]})}
    )
    runtime = build_runtime(paused, engine=engine, clock=clock)
    jobs = {job.name: job for job in schedule.periodic_jobs(paused)}
    _periodic_body(runtime, jobs["alert_maintenance"])()
    _periodic_body(runtime, jobs["kpi_calculate"])()
    with session_scope(runtime.factory) as session:
        ran = set(session.scalars(select(SchedulerRun.job_name)))
    assert ran == {"kpi_calculate"}
    with TestClient(create_app(paused, engine=engine, clock=clock)) as client:
        listed = {j["name"]: j for j in client.get("/api/v1/scheduler/jobs").json()}
    assert listed["alert_maintenance"]["paused"] is True
    assert listed["alert_maintenance"]["next_run"] is None
    assert listed["kpi_calculate"]["paused"] is False
    assert listed["kpi_calculate"]["next_run"] is not None
