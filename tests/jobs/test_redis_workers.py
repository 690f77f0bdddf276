"""Scale-out: two `enms worker` processes and one `enms serve` on PostgreSQL with a Redis
queue complete 40 training jobs for 20 machines — none lost, none run twice.

Skips without Redis or PostgreSQL unless CI makes them mandatory
(``ENMS_TEST_REQUIRE_REDIS=1``, ``ENMS_TEST_REQUIRE_POSTGRES=1``).
"""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select
from tests.conftest import create_scratch_postgres, drop_scratch_postgres
from tests.factories import import_demo_machine
from tests.jobs.procs import enms_env, running
from tests.net import free_port

from enms.core import schema
from enms.core.clock import SystemClock
from enms.core.db import create_db_engine, create_session_factory, session_scope
from enms.registry.models import ModelVersion
from enms.training.models import TrainingJob

pytestmark = pytest.mark.postgres


def test_two_workers_and_a_server_complete_forty_jobs(
    redis_url: str, postgres_server_url: str, tmp_path: Path
) -> None:
    url = create_scratch_postgres(postgres_server_url)
    engine = create_db_engine(url)
    try:
        schema.upgrade(engine)
        factory = create_session_factory(engine)
        machine_ids = []
        for i in range(20):
            with session_scope(factory, write=True) as session:
                machine = import_demo_machine(
                    session,
                    SystemClock(),
                    index=i % 8,
                    days=60,
                    seed=100 + i,
                    name=f"Machine {i:02d}",
                )
                machine_ids.append(machine.id)
        env = enms_env(url, tmp_path / "data", ENMS_QUEUE_URL=redis_url, ENMS_QUEUE__WORKERS="2")
        port = free_port()
        with (
            running(["worker"], env, tmp_path / "worker-1.log"),
            running(["worker"], env, tmp_path / "worker-2.log"),
            running(["serve", "--port", str(port)], env, tmp_path / "serve.log"),
        ):
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 60
            while True:
                try:
                    if httpx.get(f"{base}/health").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    pytest.fail((tmp_path / "serve.log").read_text())
                time.sleep(0.2)  # waiting for the server process to listen
            job_ids = []
            for machine_id in machine_ids:
                for model_type in ("baseline", "anomaly"):
                    response = httpx.post(
                        f"{base}/api/v1/model-performance/retrain/trigger",
                        json={"machine_id": machine_id, "model_type": model_type},
                    )
                    assert response.status_code == 202, response.text
                    job_ids.append(response.json()["training_job_id"])
            assert len(set(job_ids)) == 40
            deadline = time.monotonic() + 300
            while True:
                with session_scope(factory) as session:
                    open_jobs = session.scalar(
                        select(func.count())
                        .select_from(TrainingJob)
                        .where(TrainingJob.training_status.in_(("pending", "running")))
                    )
                if open_jobs == 0:
                    break
                if time.monotonic() > deadline:
                    pytest.fail(f"{open_jobs} jobs still open after 300 s")
                time.sleep(0.5)  # the workers are training
        with session_scope(factory) as session:
            jobs = session.scalars(select(TrainingJob)).all()
            statuses = {j.training_status for j in jobs}
            attempts = {j.attempts for j in jobs}
            workers = {j.worker.split(":")[1] for j in jobs if j.worker}
            per_model = session.execute(
                select(ModelVersion.machine_id, ModelVersion.model_type, func.count()).group_by(
                    ModelVersion.machine_id, ModelVersion.model_type
                )
            ).all()
        assert len(jobs) == 40
        assert statuses == {"completed"}, [
            (j.id, j.error_message) for j in jobs if j.training_status != "completed"
        ]
        assert attempts == {1}  # none ran twice
        assert len(per_model) == 40
        assert {n for *_, n in per_model} == {1}
        assert len(workers) == 2  # both worker processes took jobs
    finally:
        engine.dispose()
        drop_scratch_postgres(postgres_server_url, url)
