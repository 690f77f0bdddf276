"""50 concurrent HTTP triggers against a real `enms serve` while a job of the same machine and
model type is fitting: every client is answered, none with a 5xx, and exactly one job exists
(both dialects; the embedded queue, consumed inside the server)."""

from __future__ import annotations

import threading
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select
from tests.factories import import_demo_machine
from tests.jobs.procs import enms_env, poll, running
from tests.net import free_port

from enms.core.clock import FrozenClock
from enms.core.db import SessionFactory, session_scope
from enms.training.models import TrainingJob

TRIGGER = "/api/v1/model-performance/retrain/trigger"


def _stage(factory: SessionFactory, job_id: int) -> str | None:
    with session_scope(factory) as session:
        job = session.get(TrainingJob, job_id)
        assert job is not None
        return job.progress_stage if job.training_status == "running" else None


def test_fifty_triggers_during_a_fit_make_no_second_job_and_no_5xx(
    migrated_url: str,
    session_factory: SessionFactory,
    clock: FrozenClock,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    with session_scope(session_factory, write=True) as session:
        machine_id = import_demo_machine(session, clock, days=60).id
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = enms_env(migrated_url, tmp_path / "data", ENMS_QUEUE__WORKERS="1")

    def up() -> bool:
        try:
            return httpx.get(f"{base}/health").status_code == 200
        except httpx.TransportError:
            return False

    body = {"machine_id": machine_id, "model_type": "anomaly"}
    with running(["serve", "--port", str(port)], env, tmp_path / "serve.log"):
        poll(up, 60, "the server to answer")
        first = httpx.post(
            f"{base}{TRIGGER}", json=body | {"hyperparameters": {"n_estimators": 1500}}
        )
        assert first.status_code == 202, first.text
        job_id = first.json()["training_job_id"]
        poll(
            lambda: _stage(session_factory, job_id) in ("fitting", "validating", "refitting"),
            60,
            "the server to start fitting",
        )
        answers: list[httpx.Response] = []
        failures: list[BaseException] = []
        barrier = threading.Barrier(50)

        def fire() -> None:
            try:
                barrier.wait()
                answers.append(httpx.post(f"{base}{TRIGGER}", json=body, timeout=60))
            except BaseException as exc:  # collected and asserted below
                failures.append(exc)

        threads = [threading.Thread(target=fire) for _ in range(50)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert failures == []
    assert len(answers) == 50
    assert sorted({a.status_code for a in answers}) == [200], [
        a.text for a in answers if a.status_code != 200
    ][:3]
    assert {a.json()["training_job_id"] for a in answers} == {job_id}
    with session_scope(session_factory) as session:
        assert session.scalar(select(func.count()).select_from(TrainingJob)) == 1
