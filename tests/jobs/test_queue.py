"""The queue around training jobs (both dialects): priorities, a trigger while the queue is
unreachable, the watchdog re-enqueueing a job whose message was lost, honest estimates."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from tests.factories import import_demo_machine, trigger_job

from enms.api.app import create_app
from enms.core.clock import FrozenClock
from enms.core.config import QueueSettings, Settings
from enms.core.db import SessionFactory, session_scope
from enms.core.timewindow import Window
from enms.jobs import tasks
from enms.jobs.runtime import Runtime, create_runtime
from enms.training import lifecycle, service
from enms.training.schemas import TriggerResult

API = "/api/v1"


def _trigger(
    factory: SessionFactory, rt: Runtime, machine_id: int, trigger_type: str = "manual"
) -> TriggerResult:
    with session_scope(factory, write=True) as session:
        return service.trigger(
            session=session,
            machine_id=machine_id,
            model_type="baseline",
            trigger_type=trigger_type,
            reason=None,
            requested_by="test",
            window=Window(None, None),
            hyperparameters={},
            clock=rt.clock,
            enqueue=rt.enqueue_training,
            queue_ready=rt.queue_ready,
            workers=rt.workers(),
        )


@pytest.fixture
def runtime(settings: Settings, engine: Engine, clock: FrozenClock) -> Runtime:
    return create_runtime(settings, engine, clock)


@pytest.fixture
def machines(session_factory: SessionFactory, clock: FrozenClock) -> list[int]:
    with session_scope(session_factory, write=True) as session:
        return [
            import_demo_machine(session, clock, index=i, days=30, name=f"M{i}").id for i in range(3)
        ]


def test_manual_jobs_leave_the_queue_before_drift_and_scheduled_ones(
    runtime: Runtime, session_factory: SessionFactory, machines: list[int]
) -> None:
    scheduled = _trigger(session_factory, runtime, machines[0], "scheduled").training_job_id
    drift = _trigger(session_factory, runtime, machines[1], "drift").training_job_id
    manual = _trigger(session_factory, runtime, machines[2], "manual").training_job_id
    order = []
    while (task := runtime.huey.dequeue()) is not None:
        order.append(task.args[0])
    assert order == [manual, drift, scheduled]


def test_a_trigger_while_the_queue_is_down_is_recorded_and_says_so(
    migrated_url: str,
    engine: Engine,
    clock: FrozenClock,
    session_factory: SessionFactory,
    machines: list[int],
    tmp_path: Path,
) -> None:
    # Nothing listens on port 1: the Redis queue is unreachable.
    down = Settings(
        database_url=migrated_url, data_dir=tmp_path / "d", queue_url="redis://127.0.0.1:1/0"
    )
    with TestClient(create_app(down, engine=engine, clock=clock)) as client:
        response = client.post(
            f"{API}/model-performance/retrain/trigger",
            json={"machine_id": machines[0], "model_type": "baseline"},
        )
        assert response.status_code == 202, response.text
        body = response.json()
        assert (body["triggered"], body["queue"], body["status"]) == (
            True,
            "waiting_for_queue",
            "pending",
        )
        job = client.get(f"{API}/training-jobs/{body['training_job_id']}").json()
        assert job["training_status"] == "pending"


def test_the_watchdog_enqueues_a_pending_job_no_message_names(
    runtime: Runtime, session_factory: SessionFactory, machines: list[int], clock: FrozenClock
) -> None:
    with session_scope(session_factory, write=True) as session:
        # No enqueue: the job's queue message is lost.
        lost = trigger_job(
            session, machine_id=machines[0], model_type="baseline", clock=clock
        ).training_job_id
    queued = _trigger(session_factory, runtime, machines[1]).training_job_id
    assert tasks.cleanup(runtime)["reenqueued_pending"] == []  # too young to be called lost
    clock.advance(timedelta(seconds=61))
    assert tasks.cleanup(runtime)["reenqueued_pending"] == [lost]  # the queued one stays
    assert runtime.queued_training_jobs() == {lost, queued}
    assert tasks.cleanup(runtime)["reenqueued_pending"] == []  # now in the queue: left alone


def test_estimated_completion_counts_the_jobs_ahead_and_the_workers(
    engine: Engine,
    settings: Settings,
    session_factory: SessionFactory,
    machines: list[int],
    clock: FrozenClock,
) -> None:
    rt = create_runtime(
        settings.model_copy(update={"queue": QueueSettings(workers=2)}), engine, clock
    )
    first = _trigger(session_factory, rt, machines[0])
    assert first.estimated_completion is None  # no baseline has completed yet: no estimate
    assert first.training_job_id is not None
    with session_scope(session_factory, write=True) as session:
        assert lifecycle.claim(
            session=session, job_id=first.training_job_id, worker="w", clock=clock
        )
    clock.advance(timedelta(seconds=100))
    with session_scope(session_factory, write=True) as session:
        assert lifecycle.finish(
            session=session, job_id=first.training_job_id, status="completed", clock=clock
        )
    # Median baseline: 100 s. Two jobs wait ahead of the third; two workers share them.
    _trigger(session_factory, rt, machines[0])
    _trigger(session_factory, rt, machines[1])
    third = _trigger(session_factory, rt, machines[2])
    assert third.estimated_completion == clock.now() + timedelta(seconds=200 / 2 + 100)
