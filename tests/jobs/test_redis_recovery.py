"""Two real `enms worker` processes on Redis + PostgreSQL: one is SIGTERMed mid-job (its job
is handed back within the grace period and finished by the other), then one is SIGKILLed
mid-job (the other takes the job over once its lease expired and finishes it). Nothing is
half-written: every completed job has exactly one version, no other job has any.

Short lease, heartbeat, watchdog and grace settings keep it to seconds. Skips without Redis
or PostgreSQL unless CI makes them mandatory.
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from tests.conftest import create_scratch_postgres, drop_scratch_postgres
from tests.factories import import_demo_machine, trigger_job
from tests.jobs.procs import alive, descendants, enms_env, poll, running

from enms.core import schema
from enms.core.clock import SystemClock
from enms.core.config import Settings
from enms.core.db import SessionFactory, create_db_engine, create_session_factory, session_scope
from enms.jobs.runtime import Runtime, create_runtime
from enms.registry.models import ModelVersion
from enms.training.models import TrainingJob

pytestmark = pytest.mark.postgres
LEASE, WATCHDOG, GRACE, KILL_AFTER = 3.0, 1.0, 1.0, 1.0


def _job(factory: SessionFactory, job_id: int) -> TrainingJob:
    with session_scope(factory) as session:
        job = session.get(TrainingJob, job_id)
        assert job is not None
        session.expunge(job)
        return job


def _holder_pid(factory: SessionFactory, job_id: int) -> int | None:
    job = _job(factory, job_id)
    if job.training_status != "running" or job.worker is None:
        return None
    return int(job.worker.split(":")[1])


def _trigger(factory: SessionFactory, rt: Runtime, machine_id: int) -> int:
    with session_scope(factory, write=True) as session:
        # 1,500 trees: a real fit of a few seconds, time to stop its worker in it.
        result = trigger_job(
            session,
            machine_id=machine_id,
            model_type="anomaly",
            clock=SystemClock(),
            enqueue=rt.enqueue_training,
            hyperparameters={"n_estimators": 1500},
            reason="recovery test",
        )
    assert result.training_job_id is not None
    return result.training_job_id


def _fitting(factory: SessionFactory, job_id: int) -> bool:
    job = _job(factory, job_id)
    return job.training_status == "running" and job.progress_stage in ("fitting", "validating")


def _nothing_half_written(factory: SessionFactory) -> None:
    with session_scope(factory) as session:
        jobs = session.scalars(select(TrainingJob)).all()
        versions = session.scalars(select(ModelVersion)).all()
    by_job: dict[int | None, int] = {}
    for v in versions:
        by_job[v.training_job_id] = by_job.get(v.training_job_id, 0) + 1
    for job in jobs:
        expected = 1 if job.training_status == "completed" else 0
        assert by_job.get(job.id, 0) == expected, (job.id, job.training_status)
    assert sum(by_job.values()) == len(versions)


@pytest.fixture
def scratch(postgres_server_url: str) -> Iterator[tuple[str, Engine]]:
    url = create_scratch_postgres(postgres_server_url)
    engine = create_db_engine(url)
    schema.upgrade(engine)
    yield url, engine
    engine.dispose()
    drop_scratch_postgres(postgres_server_url, url)


def test_a_stopped_and_a_killed_worker_lose_no_job(
    redis_url: str, scratch: tuple[str, Engine], tmp_path: Path
) -> None:
    url, engine = scratch
    factory = create_session_factory(engine)
    with session_scope(factory, write=True) as session:
        machine_id = import_demo_machine(session, SystemClock(), days=60).id
    data_dir = tmp_path / "data"
    rt = create_runtime(Settings(database_url=url, data_dir=data_dir, queue_url=redis_url), engine)
    env = enms_env(
        url,
        data_dir,
        ENMS_QUEUE_URL=redis_url,
        ENMS_QUEUE__WORKERS="1",
        ENMS_QUEUE__WATCHDOG_SECONDS=str(WATCHDOG),
        ENMS_QUEUE__GRACE_SECONDS=str(GRACE),
        ENMS_TRAINING__HEARTBEAT_SECONDS="0.5",
        ENMS_TRAINING__LEASE_SECONDS=str(LEASE),
        ENMS_TRAINING__KILL_AFTER_SECONDS=str(KILL_AFTER),
    )
    with ExitStack() as stack:
        workers: dict[int, subprocess.Popen[bytes]] = {}

        def start(name: str) -> None:
            proc = stack.enter_context(running(["worker"], env, tmp_path / f"{name}.log"))
            workers[proc.pid] = proc

        start("worker-a")
        start("worker-b")

        # SIGTERM: the worker drains; its job is handed back within the grace period.
        first = _trigger(factory, rt, machine_id)
        poll(lambda: _fitting(factory, first), 90, "a worker to start fitting job 1")
        holder = _holder_pid(factory, first)
        assert holder in workers
        workers[holder].send_signal(signal.SIGTERM)
        # The poll's limit is the liveness bound; no wall-time assertion (under a loaded
        # machine the grace period plus process exit varies, and speed is not the point).
        poll(lambda: workers[holder].poll() is not None, 30, "the worker to exit")
        after_exit = _job(factory, first)
        assert after_exit.training_status in ("completed", "pending", "running")
        if after_exit.training_status != "completed":
            assert after_exit.attempt_history[0]["outcome"] == "handed_back"
            assert after_exit.worker is None or str(holder) not in after_exit.worker
        poll(lambda: _job(factory, first).training_status == "completed", 90, "job 1 to end")
        _nothing_half_written(factory)

        # SIGKILL: the survivor's watchdog finds the expired lease and requeues the job.
        start("worker-c")  # the rolled replacement
        second = _trigger(factory, rt, machine_id)
        poll(lambda: _fitting(factory, second), 90, "a worker to start fitting job 2")
        victim = _holder_pid(factory, second)
        assert victim in workers
        below = descendants(victim)
        assert below, "the fit runs in a child process of the worker"
        os.kill(victim, signal.SIGKILL)
        workers[victim].wait(10)
        # Taken over because the lease expired (asserted from the attempt history below),
        # within the poll's limit; no wall-time assertion.
        poll(
            lambda: _holder_pid(factory, second) != victim,
            30,
            "the killed worker's job to be taken over",
        )
        poll(lambda: not any(alive(p) for p in below), 10, "the killed worker's fit to go")
        poll(lambda: _job(factory, second).training_status == "completed", 90, "job 2 to end")

    job = _job(factory, second)
    assert job.attempts == 2
    assert [a["outcome"] for a in job.attempt_history] == ["lease_expired", "completed"]
    assert "lost its lease" in (job.attempt_history[0]["error"] or "")
    _nothing_half_written(factory)
