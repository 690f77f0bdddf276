"""Scenario ``job_throughput``: baseline training jobs per minute through the job queue.

Runs N real baseline jobs (one hourly machine-year each, on SQLite) through Huey with 2
worker threads — the embedded `enms serve` set-up — and, as the same-run reference, the same
jobs run one after another in the calling thread without the queue. The ratio shows what the
queue and its bookkeeping (claims, heartbeats, progress, registration) cost or gain.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from benchmarks.harness import Row
from enms.core import schema
from enms.core.clock import SystemClock
from enms.core.config import QueueSettings, Settings
from enms.core.db import SessionFactory, create_db_engine, create_session_factory, session_scope
from enms.core.secrets import InstanceSecret
from enms.core.timewindow import Window
from enms.demo.generator import generate_plant
from enms.readings import parsing
from enms.readings import service as readings
from enms.readings.schemas import MachineCreate
from enms.training import service as training
from enms.training.runner import RunContext, run_job

NAME = "job_throughput"


def _database(path: Path, machines: int) -> tuple[SessionFactory, list[int], str]:
    url = f"sqlite:///{path}"
    engine = create_db_engine(url)
    schema.upgrade(engine)
    factory = create_session_factory(engine, secret=InstanceSecret(data_dir=path.parent / "data"))
    plant = generate_plant(seed=5, days=365, freq="h")
    ids = []
    for i in range(machines):
        source = plant[i % len(plant)]
        csv = source.readings.rename_axis("timestamp").to_csv(date_format="%Y-%m-%dT%H:%M:%SZ")
        with session_scope(factory, write=True) as session:
            m = readings.create_machine(
                session=session,
                clock=SystemClock(),
                data=MachineCreate(name=f"{source.name} #{i}", timezone=source.timezone),
            )
            target = readings.get_machine(session=session, machine_id=m.id)
            readings.import_readings(session=session, machine=target, parsed=parsing.parse_csv(csv))
        ids.append(m.id)
    return factory, ids, url


def _trigger(
    factory: SessionFactory, machine_ids: list[int], enqueue: training.Enqueue
) -> list[int]:
    out = []
    for machine_id in machine_ids:
        with session_scope(factory, write=True) as session:
            result = training.trigger(
                session=session,
                machine_id=machine_id,
                model_type="baseline",
                trigger_type="manual",
                reason="benchmark",
                requested_by="bench",
                window=Window(None, None),
                hyperparameters={},
                clock=SystemClock(),
                enqueue=enqueue,
            )
        assert result.training_job_id is not None
        out.append(result.training_job_id)
    return out


def _wait(factory: SessionFactory, job_ids: list[int]) -> None:
    while True:
        with session_scope(factory) as session:
            statuses = [
                training.get_job(session=session, job_id=j).training_status for j in job_ids
            ]
        if all(s not in ("pending", "running") for s in statuses):
            assert set(statuses) == {"completed"}, statuses
            return
        time.sleep(0.05)  # polling the worker threads


def run(*, quick: bool) -> list[Row]:
    """Time ``40`` (quick: 8) baseline jobs through the queue and inline."""
    from enms.jobs.consumer import start_in_process
    from enms.jobs.runtime import create_runtime
    from enms.jobs.tasks import enqueue_training_on

    n = 8 if quick else 40
    with tempfile.TemporaryDirectory() as tmp:
        factory, machine_ids, url = _database(Path(tmp) / "bench.db", n)
        ctx = RunContext(factory=factory, settings=Settings().training, clock=SystemClock())
        jobs = _trigger(factory, machine_ids, lambda _j: None)
        started = time.perf_counter()
        for job_id in jobs:
            run_job(job_id, ctx)
        inline = time.perf_counter() - started

        settings = Settings(
            database_url=url, data_dir=Path(tmp) / "data", queue=QueueSettings(workers=2)
        )
        engine = create_db_engine(url)
        rt = create_runtime(settings, engine, SystemClock())
        consumer = start_in_process(rt, periodic=False)
        try:
            started = time.perf_counter()
            jobs = _trigger(factory, machine_ids, enqueue_training_on(rt.huey))
            _wait(factory, jobs)
            queued = time.perf_counter() - started
        finally:
            consumer.stop(graceful=True)
            engine.dispose()
    return [
        Row(
            NAME,
            f"baseline jobs, 2 Huey worker threads, {n} machine-years",
            60 * n / queued,
            "jobs/min",
            "inline sequential",
            60 * n / inline,
            note="SQLite, hourly machine-year per job",
        )
    ]
