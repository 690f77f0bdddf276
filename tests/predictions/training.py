"""Trained versions for the prediction-log tests (real training runs, inline)."""

from __future__ import annotations

from tests.factories import trigger_job

from enms.core.clock import FrozenClock
from enms.core.config import TrainingSettings
from enms.core.db import SessionFactory, session_scope
from enms.core.timewindow import Window
from enms.training.runner import RunContext, run_job


def train(
    factory: SessionFactory,
    clock: FrozenClock,
    machine_id: int,
    model_type: str,
    until: str,
    start: str | None = None,
) -> None:
    """Train a version of ``model_type`` on the readings in ``[start, until)``."""
    with session_scope(factory, write=True) as session:
        job = trigger_job(
            session,
            machine_id=machine_id,
            model_type=model_type,
            clock=clock,
            window=Window.parse(start, until),
        )
    assert job.training_job_id is not None
    ctx = RunContext(factory=factory, settings=TrainingSettings(), clock=clock)
    assert run_job(job.training_job_id, ctx) == "completed"
