"""SIGKILL a real `enms worker` (or `enms serve`) in the middle of a fit: once its lease has
expired the job is requeued, then completes exactly once.

Both dialects; the queue is the embedded SQLite one shared through the data directory.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import func, select
from tests.factories import import_demo_machine, trigger_job
from tests.jobs.procs import enms_env, running

from enms.core.clock import FrozenClock, SystemClock
from enms.core.config import Settings
from enms.core.db import SessionFactory, session_scope
from enms.jobs.runtime import create_runtime
from enms.registry.models import ModelVersion
from enms.training.models import TrainingJob

HEARTBEAT = "0.5"
LEASE = 3.0


def _poll(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.1)  # polling a real worker process


def _job(factory: SessionFactory, job_id: int) -> TrainingJob:
    with session_scope(factory) as session:
        job = session.get(TrainingJob, job_id)
        assert job is not None
        session.expunge(job)
        return job


def test_killed_worker_job_is_requeued_and_completes_once(
    migrated_url: str,
    session_factory: SessionFactory,
    clock: FrozenClock,
    tmp_path: Path,
    engine: object,
) -> None:
    with session_scope(session_factory, write=True) as session:
        machine_id = import_demo_machine(session, clock).id
    data_dir = tmp_path / "data"
    settings = Settings(database_url=migrated_url, data_dir=data_dir)
    from sqlalchemy import Engine

    assert isinstance(engine, Engine)
    runtime = create_runtime(settings, engine, SystemClock())
    env = enms_env(
        migrated_url,
        data_dir,
        ENMS_TRAINING__HEARTBEAT_SECONDS=HEARTBEAT,
        ENMS_TRAINING__LEASE_SECONDS=str(LEASE),
        ENMS_QUEUE__WATCHDOG_SECONDS="1",
        ENMS_QUEUE__WORKERS="1",
    )
    with session_scope(session_factory, write=True) as session:
        # 2,000 trees make a real fit that lasts a few seconds: time to kill the worker in it.
        result = trigger_job(
            session,
            machine_id=machine_id,
            model_type="anomaly",
            clock=SystemClock(),
            enqueue=runtime.enqueue_training,
            hyperparameters={"n_estimators": 2000},
            reason="kill test",
        )
    job_id = result.training_job_id
    assert job_id is not None

    with running(["worker"], env, tmp_path / "worker-a.log") as first:
        _poll(
            lambda: _job(session_factory, job_id).progress_stage in ("fitting", "validating"),
            60,
            "the first worker to start fitting",
        )
        os.kill(first.pid, signal.SIGKILL)
        first.wait(timeout=10)
    job = _job(session_factory, job_id)
    assert job.training_status == "running"  # nobody has noticed yet
    assert job.attempts == 1
    # Let the dead worker's lease expire, then start another worker: its watchdog's first
    # sweep (start-up recovery) requeues the job and runs it.
    _poll(
        lambda: (
            (
                SystemClock().now()
                - (_job(session_factory, job_id).heartbeat_at or SystemClock().now())
            ).total_seconds()
            > LEASE + 0.5
        ),
        30,
        "the lease to expire",
    )
    with running(["worker"], env, tmp_path / "worker-b.log"):
        _poll(
            lambda: _job(session_factory, job_id).training_status not in ("pending", "running"),
            120,
            "the requeued job to end",
        )
    job = _job(session_factory, job_id)
    log_b = (tmp_path / "worker-b.log").read_text()
    assert job.training_status == "completed", (job.error_message, log_b)
    assert job.attempts == 2
    assert job.model_version == 1
    with session_scope(session_factory) as session:
        count = session.scalar(select(func.count()).select_from(ModelVersion))
    assert count == 1


def test_killed_server_job_is_recovered_when_the_server_starts_again(
    migrated_url: str, session_factory: SessionFactory, clock: FrozenClock, tmp_path: Path
) -> None:
    import httpx
    from tests.net import free_port

    with session_scope(session_factory, write=True) as session:
        machine_id = import_demo_machine(session, clock).id
    port = free_port()
    env = enms_env(
        migrated_url,
        tmp_path / "data",
        ENMS_QUEUE__WORKERS="1",
        ENMS_TRAINING__HEARTBEAT_SECONDS=HEARTBEAT,
        ENMS_TRAINING__LEASE_SECONDS=str(LEASE),
        ENMS_QUEUE__WATCHDOG_SECONDS="1",
    )
    base = f"http://127.0.0.1:{port}"

    def up() -> bool:
        try:
            return httpx.get(f"{base}/health").status_code == 200
        except httpx.TransportError:
            return False

    with running(["serve", "--port", str(port)], env, tmp_path / "serve-a.log") as server:
        _poll(up, 60, "the server to answer")
        response = httpx.post(
            f"{base}/api/v1/model-performance/retrain/trigger",
            json={
                "machine_id": machine_id,
                "model_type": "anomaly",
                "hyperparameters": {"n_estimators": 2000},
            },
        )
        assert response.status_code == 202, response.text
        job_id = response.json()["training_job_id"]
        _poll(
            lambda: _job(session_factory, job_id).progress_stage in ("fitting", "validating"),
            60,
            "the server's worker thread to start fitting",
        )
        os.kill(server.pid, signal.SIGKILL)
        server.wait(timeout=10)
    assert _job(session_factory, job_id).training_status == "running"
    # Restarted at once: the new server's watchdog requeues the job as soon as the dead
    # server's lease has expired (a few seconds here), not at the hourly cleanup.
    with running(["serve", "--port", str(port)], env, tmp_path / "serve-b.log"):
        _poll(
            lambda: _job(session_factory, job_id).training_status not in ("pending", "running"),
            120,
            "the recovered job to end",
        )
    job = _job(session_factory, job_id)
    assert job.training_status == "completed", (tmp_path / "serve-b.log").read_text()[-3000:]
    assert (job.attempts, job.model_version) == (2, 1)
    with session_scope(session_factory) as session:
        assert session.scalar(select(func.count()).select_from(ModelVersion)) == 1
