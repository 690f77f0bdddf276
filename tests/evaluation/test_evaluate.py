"""Evaluating versions on held-out windows, recorded in model_performance_metrics."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from tests.factories import import_demo_machine

from enms.core.clock import FrozenClock
from enms.core.config import TrainingSettings
from enms.core.db import SessionFactory, session_scope
from enms.core.errors import InvalidInput
from enms.core.timewindow import Window
from enms.evaluation import service
from enms.evaluation.models import PerformanceMetric
from enms.training import service as training
from enms.training.runner import RunContext, run_job


def _train(
    factory: SessionFactory, clock: FrozenClock, machine_id: int, model_type: str, until: str
) -> None:
    with session_scope(factory, write=True) as session:
        job = training.trigger(
            session=session,
            machine_id=machine_id,
            model_type=model_type,
            trigger_type="manual",
            reason=None,
            requested_by="test",
            window=Window.parse(None, until),
            hyperparameters={},
            clock=clock,
            enqueue=lambda _i: None,
        )
    assert job.training_job_id is not None
    ctx = RunContext(factory=factory, settings=TrainingSettings(), clock=clock)
    assert run_job(job.training_job_id, ctx) == "completed"


@pytest.fixture
def machine_id(session_factory: SessionFactory, clock: FrozenClock) -> int:
    with session_scope(session_factory, write=True) as session:
        return import_demo_machine(session, clock, index=1, days=150).id


def test_baseline_evaluation_is_recorded_with_its_window(
    session_factory: SessionFactory, clock: FrozenClock, machine_id: int
) -> None:
    _train(session_factory, clock, machine_id, "baseline", "2025-04-01")
    window = Window.parse("2025-04-01", "2025-05-01")
    with session_scope(session_factory, write=True) as session:
        result = service.evaluate(
            session=session,
            machine_id=machine_id,
            model_type="baseline",
            window=window,
            version=None,
            clock=clock,
        )
    assert result.model_version == 1
    assert result.n_samples == 30 * 24  # half-open: [Apr 1, May 1) hourly
    metrics = result.metrics()
    assert set(metrics) == {"r_squared", "rmse", "mae", "mape", "cv_rmse", "nmbe", "n"}
    assert metrics["cv_rmse"] is not None
    assert 0 < metrics["cv_rmse"] < 30
    with session_scope(session_factory) as session:
        row = session.scalars(select(PerformanceMetric)).one()
        assert (row.evaluation_start, row.evaluation_end) == (window.start, window.end)
        assert row.evaluation_date == clock.now()
        assert row.f1 is None  # not a detector metric: no value, not a made-up 0.0


def test_windows_the_model_trained_on_or_without_readings_are_refused(
    session_factory: SessionFactory, clock: FrozenClock, machine_id: int
) -> None:
    _train(session_factory, clock, machine_id, "baseline", "2025-04-01")
    with session_scope(session_factory) as session:
        with pytest.raises(InvalidInput, match="overlaps the data baseline v1 was trained on"):
            service.evaluate(
                session=session,
                machine_id=machine_id,
                model_type="baseline",
                window=Window.parse("2025-03-01", "2025-04-15"),
                version=None,
                clock=clock,
            )
        with pytest.raises(InvalidInput, match="no readings between 2026-01-01"):
            service.evaluate(
                session=session,
                machine_id=machine_id,
                model_type="baseline",
                window=Window.parse("2026-01-01", "2026-02-01"),
                version=None,
                clock=clock,
            )
        with pytest.raises(InvalidInput, match="needs both from and to"):
            service.evaluate(
                session=session,
                machine_id=machine_id,
                model_type="baseline",
                window=Window.parse("2025-04-01", None),
                version=None,
                clock=clock,
            )


def test_forecaster_evaluation_uses_history_before_the_window(
    session_factory: SessionFactory, clock: FrozenClock, machine_id: int
) -> None:
    _train(session_factory, clock, machine_id, "forecast_arima", "2025-04-01")
    with session_scope(session_factory, write=True) as session:
        result = service.evaluate(
            session=session,
            machine_id=machine_id,
            model_type="forecast_arima",
            window=Window.parse("2025-04-01", "2025-04-22"),
            version=1,
            clock=clock,
        )
    metrics = result.metrics()
    assert set(metrics) == {"mape", "rmse", "mae", "skill", "n"}
    assert metrics["skill"] is not None
    assert metrics["skill"] > 0  # beats the weekly seasonal-naive forecast
    assert result.details["n_origins"] == 21 * 4  # day-ahead origins every 6 h of the window
