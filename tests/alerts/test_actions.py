"""Automatic retraining of a raised drift / degradation alert, and the training_failed alert.

Real jobs through the training service on a real database (both dialects); the queue is a
list the test reads (``enqueue`` is called after the commit, as the service promises).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from enms.alerts import actions
from enms.alerts.conditions import Raised, raise_condition
from enms.alerts.models import ModelAlert
from enms.core.clock import FrozenClock
from enms.core.config import Settings, TrainingSettings
from enms.core.db import SessionFactory, session_scope
from enms.core.timewindow import Window
from enms.jobs.tasks import train_and_alert
from enms.readings import service as readings
from enms.registry.models import AuditLog
from enms.training.models import TrainingJob
from enms.training.runner import RunContext
from tests.factories import import_demo_machine, trigger_job

NOW = datetime(2025, 4, 20, tzinfo=UTC)  # the machine has readings from 2025-01-01 to 04-30


@pytest.fixture
def machine_id(session_factory: SessionFactory, clock: FrozenClock) -> int:
    with session_scope(session_factory, write=True) as session:
        return import_demo_machine(session, clock, index=0, days=120).id


def _raise(factory: SessionFactory, machine_id: int, now: datetime, alert_type: str = "drift",
           model_type: str = "baseline") -> Raised:  # fmt: skip
    with session_scope(factory, write=True) as session:
        return raise_condition(
            session,
            machine_id=machine_id,
            model_type=model_type,
            alert_type=alert_type,
            severity="warning",
            message=f"Compressor C1 {model_type} v1: {alert_type}",
            details={},
            now=now,
        )


def _audits(factory: SessionFactory, alert_id: int) -> list[str]:
    with session_scope(factory) as session:
        return list(
            session.scalars(
                select(AuditLog.action)
                .where(AuditLog.entity_type == "model_alert", AuditLog.entity_id == str(alert_id))
                .order_by(AuditLog.id)
            )
        )


def _alert(factory: SessionFactory, alert_id: int) -> dict[str, Any]:
    with session_scope(factory) as session:
        row = session.get(ModelAlert, alert_id)
        assert row is not None
        return {
            "auto_action": row.auto_action,
            "result": row.auto_action_result,
            "job": row.action_job_id,
        }


def test_the_retrain_waits_for_data_after_the_change_point_then_runs_on_it_once(
    session_factory: SessionFactory, settings: Settings, machine_id: int
) -> None:
    queued: list[int] = []
    clock = FrozenClock(NOW)
    raised = _raise(session_factory, machine_id, NOW)
    kw: dict[str, Any] = {
        "factory": session_factory,
        "settings": settings,
        "machine_id": machine_id,
        "model_type": "baseline",
        "alert_type": "drift",
        "enqueue": queued.append,
    }
    change = NOW - timedelta(days=5)
    out = actions.on_raised(clock=clock, raised=raised, change_point=change, **kw)
    assert out["auto_retrain"] == (
        "waiting: 5.0 of 14 days after the change point 2025-04-15 00:00 UTC"
    )
    clock.advance(timedelta(days=1))
    actions.on_raised(clock=clock, raised=raised, change_point=change, **kw)
    state = _alert(session_factory, raised.alert_id)
    assert state["result"].startswith("waiting: 6.0 of 14 days")
    assert state["job"] is None
    assert queued == []
    # the waiting is one audit row, not one per day
    assert _audits(session_factory, raised.alert_id) == ["alert_opened", "auto_retrain_skipped"]

    # 20 days of readings after the change point: a drift retrain on exactly them
    change = NOW - timedelta(days=20)
    out = actions.on_raised(clock=clock, raised=raised, change_point=change, **kw)
    (job_id,) = queued
    assert out["job_id"] == job_id
    with session_scope(session_factory) as session:
        job = session.get(TrainingJob, job_id)
        assert job is not None
        assert (job.trigger_type, job.requested_by, job.training_status) == (
            "drift",
            "enms-auto",
            "pending",
        )
        assert (job.data_start, job.data_end) == (change, clock.now())
        assert job.trigger_reason is not None
        assert job.trigger_reason.startswith(f"alert {raised.alert_id}: Compressor C1")
    state = _alert(session_factory, raised.alert_id)
    assert state["auto_action"] == "retrain"
    assert state["job"] == job_id
    assert state["result"] == (
        f"retrain enqueued: job {job_id} (drift) on readings from the change point "
        "2025-03-31 00:00 UTC until 2025-04-21 00:00 UTC"
    )
    assert _audits(session_factory, raised.alert_id)[-1] == "auto_retrain_enqueued"
    # a later raise while the job is pending changes nothing
    out = actions.on_raised(clock=clock, raised=raised, change_point=change, **kw)
    assert out["auto_retrain"] == f"job {job_id} is pending"
    assert queued == [job_id]
    # a degradation alert raised meanwhile follows the same job (cool-down)
    other = _raise(session_factory, machine_id, clock.now(), alert_type="degradation")
    out = actions.on_raised(
        clock=clock, raised=other, change_point=None, **{**kw, "alert_type": "degradation"}
    )
    assert out["job_id"] == job_id
    assert _alert(session_factory, other.alert_id)["result"].startswith(f"covered by job {job_id}")
    assert queued == [job_id]


def test_cool_down_dedupe_and_policy(
    session_factory: SessionFactory, settings: Settings, machine_id: int
) -> None:
    queued: list[int] = []
    clock = FrozenClock(NOW)
    kw: dict[str, Any] = {
        "factory": session_factory,
        "settings": settings,
        "machine_id": machine_id,
        "alert_type": "degradation",
        "change_point": None,
        "enqueue": queued.append,
    }
    # off by default for anomaly detectors: nothing is written
    detector = _raise(session_factory, machine_id, NOW, "degradation", "anomaly")
    out = actions.on_raised(clock=clock, raised=detector, model_type="anomaly", **kw)
    assert out["auto_retrain"] == "off for anomaly"
    assert _alert(session_factory, detector.alert_id)["auto_action"] is None

    raised = _raise(session_factory, machine_id, NOW, "degradation")
    out = actions.on_raised(clock=clock, raised=raised, model_type="baseline", **kw)
    (first,) = queued
    with session_scope(session_factory, write=True) as session:
        job = session.get(TrainingJob, first)
        assert job is not None
        assert (job.data_start, job.data_end) == (None, NOW)  # the default window
        session.execute(
            update(TrainingJob)
            .where(TrainingJob.id == first)
            .values(training_status="failed", error_message="worker lost")
        )
    # the job failed: a retry is allowed, but not within the cool-down
    clock.advance(timedelta(hours=settings.alerts.retrain_cooldown_hours - 1))
    out = actions.on_raised(clock=clock, raised=raised, model_type="baseline", **kw)
    assert out["auto_retrain"] == (
        f"skipped: cool-down, job {first} was enqueued at 2025-04-20 00:00 UTC; no automatic "
        "retrain before 2025-04-23 00:00 UTC"
    )
    assert queued == [first]
    # after it, a manual job in progress is what the alert follows (dedupe)
    clock.advance(timedelta(hours=2))
    with session_scope(session_factory, write=True) as session:
        manual = trigger_job(
            session,
            machine_id=machine_id,
            model_type="baseline",
            clock=clock,
            window=Window(None, clock.now()),
        ).training_job_id
    out = actions.on_raised(clock=clock, raised=raised, model_type="baseline", **kw)
    assert out["job_id"] == manual
    assert _alert(session_factory, raised.alert_id)["result"] == (
        f"retrain already in progress: job {manual} (pending)"
    )
    assert queued == [first]  # nothing new was enqueued
    assert _audits(session_factory, raised.alert_id) == [
        "alert_opened",
        "auto_retrain_enqueued",
        "auto_retrain_skipped",
        "auto_retrain_enqueued",
    ]


def test_a_failed_job_opens_training_failed_and_a_completed_one_clears_it(
    session_factory: SessionFactory, machine_id: int
) -> None:
    clock = FrozenClock(NOW)
    ctx = RunContext(factory=session_factory, settings=TrainingSettings(), clock=clock)
    with session_scope(session_factory, write=True) as session:
        doomed = trigger_job(
            session,
            machine_id=machine_id,
            model_type="baseline",
            clock=clock,
            trigger_type="drift",
            window=Window.parse("2025-02-01", "2025-04-01"),
        ).training_job_id
        assert doomed is not None
    with session_scope(session_factory, write=True) as session:  # its readings are gone
        readings.delete_readings(
            session=session, machine_id=machine_id, window=Window.parse("2025-02-01", "2025-04-01")
        )
    assert train_and_alert(doomed, ctx=ctx, factory=session_factory, clock=clock) == "failed"
    with session_scope(session_factory) as session:
        (alert,) = session.scalars(select(ModelAlert)).all()
        assert (alert.alert_type, alert.model_type, alert.state) == (
            "training_failed",
            "baseline",
            "open",
        )
        assert alert.details["job_id"] == doomed
        assert "readings in the training window" in alert.details["error"]
        assert alert.message.startswith(f"Compressor C1 baseline: training job {doomed} failed")
        assert alert.clear_since is None
    clock.advance(timedelta(hours=1))
    with session_scope(session_factory, write=True) as session:
        good = trigger_job(
            session,
            machine_id=machine_id,
            model_type="baseline",
            clock=clock,
            window=Window.parse("2025-04-01", "2025-04-30"),
        ).training_job_id
        assert good is not None
    assert train_and_alert(good, ctx=ctx, factory=session_factory, clock=clock) == "completed"
    with session_scope(session_factory) as session:
        (alert,) = session.scalars(select(ModelAlert)).all()
        assert alert.clear_since == clock.now()  # hysteresis started; auto-resolve later
