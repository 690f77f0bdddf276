"""Registering a real fitted version without a training job (registry tests)."""

from __future__ import annotations

from functools import cache

from sqlalchemy.orm import Session

from enms.core.clock import Clock
from enms.registry import artifacts, service
from enms.registry.models import ModelVersion


@cache
def baseline_artifact() -> bytes:
    """A baseline fitted on a month of a demo machine's hourly readings (built once)."""
    from enms.demo.generator import generate_plant
    from enms.ml.baseline import BaselineModel

    readings = generate_plant(seed=1, days=30, freq="h")[0].readings
    return BaselineModel(timezone="UTC").fit(readings).to_bytes()


def register_baseline(session: Session, clock: Clock, machine_id: int) -> ModelVersion:
    """Register that baseline as the machine's next version."""
    artifact = baseline_artifact()
    return service.register_version(
        session=session,
        clock=clock,
        new=service.NewVersion(
            machine_id=machine_id,
            model_type="baseline",
            artifact=artifact,
            artifact_sha256=artifacts.sha256_of(artifact),
            hyperparameters={"timezone": "UTC"},
            training_start=None,
            training_end=None,
            training_rows=720,
            training_data_sha256="x" * 64,
            metrics_in_sample={},
            metrics_holdout={"cv_rmse": 5.0},
            ashrae14=None,
            training_job_id=None,
            fit_seconds=0.01,
            created_by="test",
        ),
    )
