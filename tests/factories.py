"""Test data factories: machines and readings CSV text."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
from sqlalchemy.orm import Session

from enms.core.clock import Clock
from enms.core.db import SessionFactory
from enms.core.timewindow import Window
from enms.readings import service
from enms.readings.schemas import MachineCreate, MachineRead
from enms.training.schemas import TriggerResult


def make_machine(
    session: Session, clock: Clock, name: str = "Compressor 1", machine_type: str = "compressor"
) -> MachineRead:
    """Create a machine through the service."""
    return service.create_machine(
        session=session,
        data=MachineCreate(name=name, machine_type=machine_type, timezone="Europe/Berlin"),
        clock=clock,
    )


def readings_csv(
    start: str = "2025-01-01T00:00:00",
    periods: int = 48,
    freq: str = "h",
    seed: int = 0,
    extra: bool = True,
) -> str:
    """A valid readings CSV with drivers, an extra driver column and labels."""
    rng = np.random.default_rng(seed)
    ts = pd.date_range(start, periods=periods, freq=freq)
    frame = pd.DataFrame(
        {
            "timestamp": ts.strftime("%Y-%m-%dT%H:%M:%S"),
            "energy_kwh": np.round(rng.uniform(10, 20, periods), 3),
            "outdoor_temp_c": np.round(rng.normal(10, 5, periods), 2),
            "production_units": rng.integers(0, 100, periods),
            "is_anomaly": ["false"] * periods,
        }
    )
    if extra:
        frame["line_speed"] = np.round(rng.uniform(1, 2, periods), 3)
    return frame.to_csv(index=False)


def import_demo_machine(
    session: Session,
    clock: Clock,
    *,
    index: int = 1,
    days: int = 120,
    freq: str = "h",
    name: str | None = None,
    seed: int = 3,
) -> MachineRead:
    """A machine with generated readings (from the demo plant) imported through the service."""
    from enms.demo.generator import generate_plant
    from enms.readings import parsing

    source = generate_plant(seed=seed, days=days, freq=freq)[index]
    machine = service.create_machine(
        session=session,
        data=MachineCreate(
            name=name or source.name,
            machine_type=source.machine_type,
            timezone=source.timezone,
            metadata=source.metadata,
        ),
        clock=clock,
    )
    csv = source.readings.rename_axis("timestamp").to_csv(date_format="%Y-%m-%dT%H:%M:%SZ")
    target = service.get_machine(session=session, machine_id=machine.id)
    service.import_readings(session=session, machine=target, parsed=parsing.parse_csv(csv))
    return machine


def trigger_job(
    session: Session,
    *,
    machine_id: int,
    model_type: str,
    clock: Clock,
    enqueue: Callable[[int], None] | None = None,
    hyperparameters: dict[str, object] | None = None,
    reason: str | None = None,
    trigger_type: str = "manual",
    window: Window | None = None,
) -> TriggerResult:
    """A training job queued through the training service, as a test's user would (the
    default queue is none: the test runs or inspects the job itself)."""
    from enms.training import service as training

    return training.trigger(
        session=session,
        machine_id=machine_id,
        model_type=model_type,
        trigger_type=trigger_type,
        reason=reason,
        requested_by="test",
        window=window or Window(None, None),
        hyperparameters=hyperparameters or {},
        clock=clock,
        enqueue=enqueue or (lambda _job_id: None),
    )


def train_version(
    factory: SessionFactory,
    clock: Clock,
    machine_id: int,
    model_type: str,
    until: str,
    start: str | None = None,
) -> None:
    """Train and register a version of ``model_type`` on the readings in ``[start, until)``:
    a real training job, run inline (the fit in its child process)."""
    from enms.core.config import TrainingSettings
    from enms.core.db import session_scope
    from enms.training.runner import RunContext, run_job

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
