"""A demo machine whose readings arrive in slices, and real baselines fitted on them."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache

import pandas as pd
from sqlalchemy.orm import Session

from enms.core.clock import Clock
from enms.readings import parsing
from enms.readings import service as readings
from enms.readings.schemas import MachineCreate
from enms.registry import artifacts
from enms.registry import service as registry
from enms.registry.models import ModelVersion

SEED = 5
DAYS = 40


@cache
def plant_readings() -> pd.DataFrame:
    """Hourly readings of one demo machine (seeded; the same in every test)."""
    from enms.demo.generator import generate_plant

    return generate_plant(seed=SEED, days=DAYS, freq="h")[1].readings


def day(n: int) -> datetime:
    """UTC midnight of the plant's day ``n`` (day 0: its first whole day)."""
    first = pd.Timestamp(plant_readings().index[0]).ceil("D")
    return (first + pd.Timedelta(days=n)).to_pydatetime().astimezone(UTC)


def make_plant_machine(session: Session, clock: Clock) -> int:
    """The machine, without readings yet."""
    return readings.create_machine(
        session=session,
        data=MachineCreate(name="Compressor W", machine_type="compressor", timezone="UTC"),
        clock=clock,
    ).id


def import_days(session: Session, machine_id: int, start: int, end: int) -> int:
    """Import the plant's readings of days ``[start, end)`` (as a meter upload would)."""
    frame = plant_readings()
    part = frame[(frame.index >= day(start)) & (frame.index < day(end))]
    csv = part.rename_axis("timestamp").to_csv(date_format="%Y-%m-%dT%H:%M:%SZ")
    machine = readings.get_machine(session=session, machine_id=machine_id)
    readings.import_readings(session=session, machine=machine, parsed=parsing.parse_csv(csv))
    return len(part)


def register_fitted(
    session: Session, clock: Clock, machine_id: int, *, start: int, end: int, scale: float = 1.0
) -> ModelVersion:
    """Fit a real baseline on days ``[start, end)`` (with the energy multiplied by ``scale``:
    a model that over-predicts by that factor) and register it as the next version."""
    from enms.ml.baseline import BaselineModel

    frame = plant_readings()
    part = frame[(frame.index >= day(start)) & (frame.index < day(end))].copy()
    part["energy_kwh"] = part["energy_kwh"] * scale
    model = BaselineModel(timezone="UTC").fit(part)
    artifact = model.to_bytes()
    return registry.register_version(
        session=session,
        clock=clock,
        new=registry.NewVersion(
            machine_id=machine_id,
            model_type="baseline",
            artifact=artifact,
            artifact_sha256=artifacts.sha256_of(artifact),
            hyperparameters=model.get_params(),
            training_start=day(start),
            training_end=day(end),
            training_rows=len(part),
            training_data_sha256="t" * 64,
            metrics_in_sample={},
            metrics_holdout={},
            ashrae14=None,
            training_job_id=None,
            fit_seconds=0.0,
            created_by="test",
        ),
    )
