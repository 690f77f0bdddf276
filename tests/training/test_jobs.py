"""Training jobs on a real database (both dialects): duplicates, cancel, timeout, recovery."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from tests.factories import import_demo_machine, trigger_job

from enms.core.clock import FrozenClock
from enms.core.config import TrainingSettings
from enms.core.db import SessionFactory, session_scope
from enms.core.errors import InsufficientReadings
from enms.core.timewindow import Window
from enms.readings import service as readings
from enms.registry import service as registry
from enms.registry.models import ModelVersion
from enms.training import lifecycle, service
from enms.training.runner import RunContext, run_job
from enms.training.schemas import TriggerResult


def _trigger(
    factory: SessionFactory,
    clock: FrozenClock,
    machine_id: int,
    queued: list[int] | None = None,
    model_type: str = "baseline",
    window: Window | None = None,
) -> TriggerResult:
    with session_scope(factory, write=True) as session:
        return trigger_job(
            session,
            machine_id=machine_id,
            model_type=model_type,
            clock=clock,
            enqueue=queued.append if queued is not None else lambda _i: None,
            reason="test",
            window=window or Window(None, None),
        )


def _versions(factory: SessionFactory) -> int:
    with session_scope(factory) as session:
        return session.scalar(select(func.count()).select_from(ModelVersion)) or 0


def _status(factory: SessionFactory, job_id: int) -> tuple[str, str | None]:
    with session_scope(factory) as session:
        job = service.get_job(session=session, job_id=job_id)
        return job.training_status, job.error_message


@pytest.fixture
def machine_id(session_factory: SessionFactory, clock: FrozenClock) -> int:
    with session_scope(session_factory, write=True) as session:
        return import_demo_machine(session, clock).id


def test_fifty_concurrent_triggers_create_exactly_one_job(
    session_factory: SessionFactory, clock: FrozenClock, machine_id: int
) -> None:
    results: list[TriggerResult] = []
    errors: list[BaseException] = []
    queued: list[int] = []
    barrier = threading.Barrier(50)

    def fire() -> None:
        try:
            barrier.wait()
            results.append(_trigger(session_factory, clock, machine_id, queued))
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=fire) for _ in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    winners = [r for r in results if r.triggered]
    assert len(winners) == 1
    job_id = winners[0].training_job_id
    assert queued == [job_id]  # enqueued once, after its commit
    losers = [r for r in results if not r.triggered]
    assert len(losers) == 49
    assert {r.training_job_id for r in losers} == {job_id}
    assert all("already in progress" in (r.reason or "") for r in losers)
    with session_scope(session_factory) as session:
        assert len(service.list_jobs(session=session)) == 1


def test_fifty_triggers_while_the_same_model_is_fitting_all_answer_in_progress(
    session_factory: SessionFactory, clock: FrozenClock, machine_id: int
) -> None:
    with session_scope(session_factory, write=True) as session:
        running = trigger_job(
            session,
            machine_id=machine_id,
            model_type="anomaly",
            clock=clock,
            hyperparameters={"n_estimators": 1500},
            reason="long fit",
        ).training_job_id
    assert running is not None
    fitting = threading.Event()
    ctx = RunContext(
        factory=session_factory,
        settings=TrainingSettings(),
        clock=clock,
        on_stage=lambda _j, stage: fitting.set() if stage == "fitting" else None,
    )
    worker = threading.Thread(target=run_job, args=(running, ctx))
    worker.start()
    assert fitting.wait(60)
    results: list[TriggerResult] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(50)

    def fire() -> None:
        try:
            barrier.wait()
            results.append(_trigger(session_factory, clock, machine_id, model_type="anomaly"))
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=fire) for _ in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with session_scope(session_factory, write=True) as session:
        service.cancel(session=session, job_id=running, clock=clock)  # no need to finish it
    worker.join(30)
    assert errors == []
    assert len(results) == 50
    assert {(r.triggered, r.training_job_id, r.status) for r in results} == {
        (False, running, "running")
    }
    with session_scope(session_factory) as session:
        assert len(service.list_jobs(session=session)) == 1


def test_a_job_trains_registers_a_champion_then_a_challenger(
    session_factory: SessionFactory, clock: FrozenClock, machine_id: int
) -> None:
    ctx = RunContext(factory=session_factory, settings=TrainingSettings(), clock=clock)
    # The champion is trained until April; the challenger on all 120 days, so the two are
    # compared on the April readings the champion never saw.
    first = _trigger(session_factory, clock, machine_id, window=Window.parse(None, "2025-04-01"))
    assert first.training_job_id is not None
    assert run_job(first.training_job_id, ctx) == "completed"
    assert run_job(first.training_job_id, ctx) == "skipped"  # never runs twice
    with session_scope(session_factory) as session:
        history = service.get_job(session=session, job_id=first.training_job_id).attempt_history
    assert [(a["attempt"], a["outcome"], a["error"]) for a in history] == [(1, "completed", None)]
    second = _trigger(session_factory, clock, machine_id)
    assert second.estimated_completion is not None
    assert second.training_job_id is not None
    assert run_job(second.training_job_id, ctx) == "completed"
    with session_scope(session_factory, write=True) as session:
        registry.promote(
            session=session,
            machine_id=machine_id,
            model_type="baseline",
            version=2,
            actor="test",
            reason=None,
            clock=clock,
        )
    third = _trigger(session_factory, clock, machine_id)  # the same data again
    assert third.training_job_id is not None
    assert run_job(third.training_job_id, ctx) == "completed"
    with session_scope(session_factory) as session:
        job = service.get_job(session=session, job_id=second.training_job_id)
        assert (job.model_version, job.progress_percent, job.attempts) == (2, 100.0, 1)
        assert job.performance_improvement is not None
        assert abs(job.performance_improvement) < 50
        # The champion (v2) saw every reading v3 was validated on: no fair comparison.
        again = service.get_job(session=session, job_id=third.training_job_id)
        assert again.performance_improvement is None
        rows = session.scalars(select(ModelVersion).order_by(ModelVersion.version)).all()
        assert [r.version for r in rows] == [1, 2, 3]
        holdout = rows[0].metrics_holdout
        assert 0 < holdout["cv_rmse"] < 30
        assert rows[0].ashrae14 is not None


def test_cancel_mid_fit_ends_cancelled_and_registers_nothing(
    session_factory: SessionFactory, clock: FrozenClock, machine_id: int
) -> None:
    job_id = _trigger(session_factory, clock, machine_id).training_job_id
    assert job_id is not None

    def cancel_when_fitting(jid: int, stage: str) -> None:
        if stage == "validating":  # the fit has just run: the request arrives mid-job
            with session_scope(session_factory, write=True) as session:
                read = service.cancel(session=session, job_id=jid, clock=clock)
            assert read.cancel_requested

    ctx = RunContext(
        factory=session_factory,
        settings=TrainingSettings(),
        clock=clock,
        on_stage=cancel_when_fitting,
    )
    assert run_job(job_id, ctx) == "cancelled"
    status, error = _status(session_factory, job_id)
    assert status == "cancelled"
    assert error is not None
    assert "nothing was registered" in error
    assert _versions(session_factory) == 0


def test_cancelling_a_pending_job_and_an_ended_one(
    session_factory: SessionFactory, clock: FrozenClock, machine_id: int
) -> None:
    job_id = _trigger(session_factory, clock, machine_id).training_job_id
    assert job_id is not None
    with session_scope(session_factory, write=True) as session:
        assert service.cancel(session=session, job_id=job_id, clock=clock).training_status == (
            "cancelled"
        )
    ctx = RunContext(factory=session_factory, settings=TrainingSettings(), clock=clock)
    assert run_job(job_id, ctx) == "skipped"
    from enms.core.errors import Conflict

    with pytest.raises(Conflict, match="already ended"), session_scope(session_factory) as s:
        service.cancel(session=s, job_id=job_id, clock=clock)


def test_a_job_that_overruns_its_timeout_ends_timed_out(
    session_factory: SessionFactory, clock: FrozenClock, machine_id: int
) -> None:
    job_id = _trigger(session_factory, clock, machine_id).training_job_id
    assert job_id is not None

    def slow_fit(_jid: int, stage: str) -> None:
        if stage == "validating":
            clock.advance(timedelta(minutes=31))  # the fit "took" 31 minutes

    ctx = RunContext(
        factory=session_factory,
        settings=TrainingSettings(timeout_minutes=30),
        clock=clock,
        on_stage=slow_fit,
    )
    assert run_job(job_id, ctx) == "timed_out"
    status, error = _status(session_factory, job_id)
    assert status == "timed_out"
    assert error is not None
    assert "30-minute timeout" in error
    assert _versions(session_factory) == 0


def test_too_little_data_fails_with_the_models_reason(
    session_factory: SessionFactory, clock: FrozenClock, machine_id: int
) -> None:
    with pytest.raises(InsufficientReadings, match="baseline needs at least 38 readings"):
        _trigger(
            session_factory, clock, machine_id, window=Window.parse("2025-01-01", "2025-01-02")
        )
    result = _trigger(session_factory, clock, machine_id)
    assert result.training_job_id is not None
    with session_scope(session_factory, write=True) as session:  # readings deleted meanwhile
        first = readings.training_frame(
            session=session, machine_id=machine_id, start=None, end=None
        ).index[0]
        keep = Window(first + timedelta(hours=24), None)
        readings.delete_readings(session=session, machine_id=machine_id, window=keep)
    ctx = RunContext(factory=session_factory, settings=TrainingSettings(), clock=clock)
    assert run_job(result.training_job_id, ctx) == "failed"
    status, error = _status(session_factory, result.training_job_id)
    assert status == "failed"
    assert error is not None
    assert "complete readings; the baseline needs" in error


def test_recovery_requeues_a_silent_job_once_then_fails_it(
    session_factory: SessionFactory, clock: FrozenClock, machine_id: int
) -> None:
    settings = TrainingSettings(lease_seconds=60, max_attempts=2)
    job_id = _trigger(session_factory, clock, machine_id).training_job_id
    assert job_id is not None
    requeued: list[int] = []
    for attempt in (1, 2):
        with session_scope(session_factory, write=True) as session:
            assert lifecycle.claim(
                session=session, job_id=job_id, worker=f"w{attempt}", clock=clock, lease_seconds=60
            )
        clock.advance(timedelta(seconds=61))  # the worker died: no heartbeat for 61 s
        with session_scope(session_factory, write=True) as session:
            done = lifecycle.recover(
                session=session, settings=settings, clock=clock, enqueue=requeued.append
            )
        if attempt == 1:
            assert done.requeued == [job_id]
            assert requeued == [job_id]
            assert _status(session_factory, job_id)[0] == "pending"
        else:
            assert done.failed == [job_id]
    status, error = _status(session_factory, job_id)
    assert status == "failed"
    assert error is not None
    assert "lost its lease" in error
    assert "attempt 2 of 2" in error
    with session_scope(session_factory) as session:
        history = service.get_job(session=session, job_id=job_id).attempt_history
    # The first attempt's end is kept although the second attempt cleared error_message.
    assert [(a["worker"], a["outcome"]) for a in history] == [
        ("w1", "lease_expired"),
        ("w2", "failed"),
    ]
    assert "requeued" in history[0]["error"]


def test_a_worker_presumed_dead_cannot_register_after_another_took_over(
    session_factory: SessionFactory, clock: FrozenClock, machine_id: int
) -> None:
    settings = TrainingSettings(lease_seconds=60)
    job_id = _trigger(session_factory, clock, machine_id).training_job_id
    assert job_id is not None
    outcomes: dict[str, str] = {}

    def stall_then_get_replaced(jid: int, stage: str) -> None:
        if stage != "validating" or "second" in outcomes:
            return
        # Worker A stalls past the stale limit: recovery requeues its job, worker B runs it.
        clock.advance(timedelta(seconds=61))
        with session_scope(session_factory, write=True) as session:
            assert lifecycle.recover(
                session=session, settings=settings, clock=clock, enqueue=lambda _i: None
            ).requeued == [jid]
        second = RunContext(
            factory=session_factory, settings=settings, clock=clock, worker="host-b:2"
        )
        outcomes["second"] = run_job(jid, second)

    first = RunContext(
        factory=session_factory,
        settings=settings,
        clock=clock,
        worker="host-a:1",
        on_stage=stall_then_get_replaced,
    )
    outcomes["first"] = run_job(job_id, first)
    assert outcomes == {"second": "completed", "first": "stopped"}
    with session_scope(session_factory) as session:
        job = service.get_job(session=session, job_id=job_id)
        assert (job.training_status, job.attempts, job.model_version) == ("completed", 2, 1)
        assert job.worker is not None
        assert job.worker.startswith("host-b:2")
    assert _versions(session_factory) == 1


def test_a_lost_job_that_was_asked_to_cancel_ends_cancelled(
    session_factory: SessionFactory, clock: FrozenClock, machine_id: int
) -> None:
    job_id = _trigger(session_factory, clock, machine_id).training_job_id
    assert job_id is not None
    with session_scope(session_factory, write=True) as session:
        lifecycle.claim(session=session, job_id=job_id, worker="w1", clock=clock)
        service.cancel(session=session, job_id=job_id, clock=clock)
    clock.advance(timedelta(minutes=5))
    with session_scope(session_factory, write=True) as session:
        done = lifecycle.recover(
            session=session, settings=TrainingSettings(), clock=clock, enqueue=lambda _i: None
        )
    assert (done.cancelled, done.requeued) == ([job_id], [])
    assert _status(session_factory, job_id)[0] == "cancelled"


def test_unknown_hyperparameters_are_refused_at_trigger(
    session_factory: SessionFactory, clock: FrozenClock, machine_id: int
) -> None:
    from enms.core.errors import InvalidInput

    with (
        pytest.raises(InvalidInput, match=r"unknown hyperparameter\(s\) \['nonsense'\]"),
        session_scope(session_factory, write=True) as session,
    ):
        service.trigger(
            session=session,
            machine_id=machine_id,
            model_type="baseline",
            trigger_type="manual",
            reason=None,
            requested_by="t",
            window=Window(None, None),
            hyperparameters={"nonsense": 5},
            clock=clock,
            enqueue=lambda _i: None,
        )
    with session_scope(session_factory) as session:
        assert service.list_jobs(session=session) == []
