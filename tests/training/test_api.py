"""Training over HTTP with the embedded queue: the server's own consumer threads do the work."""

from __future__ import annotations

import time
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from tests.factories import import_demo_machine

from enms.core.clock import FrozenClock
from enms.core.db import SessionFactory, session_scope

API = "/api/v1"


def _wait_for(client: TestClient, job_id: int, timeout: float = 90) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job: dict[str, Any] = client.get(f"{API}/training-jobs/{job_id}").json()
        if job["training_status"] not in ("pending", "running"):
            return job
        time.sleep(0.1)  # polling the real worker threads, not standing in for work
    raise AssertionError(f"job {job_id} did not end within {timeout} s: {job}")


def test_trigger_train_promote_rollback_over_http(
    client: TestClient, session_factory: SessionFactory, clock: FrozenClock
) -> None:
    with session_scope(session_factory, write=True) as session:
        machine_id = import_demo_machine(session, clock).id
    # The seed's call shape: query parameters.
    first = client.post(
        f"{API}/model-performance/retrain/trigger",
        params={
            "model_type": "baseline",
            "machine_id": machine_id,
            "trigger_type": "manual",
            "reason": "Test",
        },
    )
    assert first.status_code == 202, first.text
    body = first.json()
    assert (body["triggered"], body["trigger_type"], body["reason"]) == (True, "manual", "Test")
    job_id = body["training_job_id"]
    again = client.post(
        f"{API}/model-performance/retrain/trigger",
        json={"model_type": "baseline", "machine_id": machine_id},
    )
    if again.json()["triggered"] is False:  # the first job may already have finished
        assert again.json()["training_job_id"] == job_id
        assert "already in progress" in again.json()["reason"]
    done = _wait_for(client, job_id)
    assert done["training_status"] == "completed", done
    assert done["model_version"] == 1
    if again.json()["triggered"]:
        _wait_for(client, again.json()["training_job_id"])
    else:
        second = client.post(
            f"{API}/model-performance/retrain/trigger",
            json={"model_type": "baseline", "machine_id": machine_id},
        )
        assert second.status_code == 202
        assert second.json()["estimated_completion"] is not None
        _wait_for(client, second.json()["training_job_id"])

    versions = client.get(f"{API}/machines/{machine_id}/models/baseline/versions").json()
    assert [(v["version"], v["aliases"]) for v in versions] == [
        (2, ["challenger"]),
        (1, ["champion"]),
    ]
    assert versions[0]["metrics_holdout"]["cv_rmse"] > 0
    promoted = client.post(
        f"{API}/machines/{machine_id}/models/baseline/promote",
        json={"version": 2, "actor": "ann", "reason": "lower CV(RMSE)"},
    )
    assert promoted.json()["aliases"] == ["champion"]
    rolled = client.post(
        f"{API}/machines/{machine_id}/models/baseline/rollback",
        json={"actor": "ann", "reason": "changed my mind"},
    )
    assert rolled.json()["version"] == 1
    history = client.get(f"{API}/machines/{machine_id}/models/baseline/aliases/history").json()
    assert [h["action"] for h in history if h["alias"] == "champion"] == [
        "register",
        "promote",
        "rollback",
    ]
    jobs = client.get(f"{API}/training-jobs", params={"machine_id": machine_id}).json()
    assert {j["training_status"] for j in jobs} == {"completed"}


def test_trigger_errors_are_clear(client: TestClient, session: Session, clock: FrozenClock) -> None:
    unknown = client.post(
        f"{API}/model-performance/retrain/trigger",
        json={"model_type": "baseline", "machine_id": 404},
    )
    assert unknown.status_code == 404
    assert unknown.json()["error"]["message"] == "no machine with id 404"
    bad_type = client.post(
        f"{API}/model-performance/retrain/trigger", params={"model_type": "lstm", "machine_id": 1}
    )
    assert bad_type.status_code == 422
    assert "model_type" in bad_type.json()["error"]["message"]
    missing = client.post(f"{API}/training-jobs/99/cancel")
    assert missing.status_code == 404


def test_scheduler_lists_jobs_and_runs_one_now(client: TestClient) -> None:
    listed = client.get(f"{API}/scheduler/jobs").json()
    by_name = {j["name"]: j for j in listed}
    assert by_name["training_cleanup"]["cron"] == "15 * * * *"
    # The test clock is frozen at 2026-01-15 12:00 UTC.
    assert by_name["training_cleanup"]["next_run"] == "2026-01-15T12:15:00Z"
    assert by_name["baseline_retrain"]["next_run"] == "2026-01-18T02:00:00Z"  # a Sunday
    assert client.post(f"{API}/scheduler/jobs/nope/run").status_code == 404
    assert client.post(f"{API}/scheduler/jobs/training_cleanup/run").status_code == 202
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        cleanup = {j["name"]: j for j in client.get(f"{API}/scheduler/jobs").json()}
        if cleanup["training_cleanup"]["last_status"] not in (None, "running"):
            break
        time.sleep(0.1)  # polling the worker thread
    assert cleanup["training_cleanup"]["last_status"] == "completed"
    assert cleanup["training_cleanup"]["last_result"] == {
        "requeued": [],
        "failed": [],
        "cancelled": [],
        "timed_out": [],
        "reenqueued_pending": [],
    }


def test_evaluations_round_trip_and_a_window_without_readings_is_refused(
    client: TestClient, session_factory: SessionFactory, clock: FrozenClock
) -> None:
    with session_scope(session_factory, write=True) as session:
        machine_id = import_demo_machine(session, clock).id
    future = client.post(
        f"{API}/model-performance/retrain/trigger",
        json={
            "machine_id": machine_id,
            "model_type": "baseline",
            "data_from": "2027-01-01",
            "data_to": "2027-02-01",
        },
    )
    assert future.status_code == 422
    message = future.json()["error"]["message"]
    assert "has no readings from 2027-01-01 00:00 to 2027-02-01 00:00 UTC" in message
    assert "readings run from 2024-12-31 23:00" in message
    job = client.post(
        f"{API}/model-performance/retrain/trigger",
        json={"machine_id": machine_id, "model_type": "baseline", "data_to": "2025-04-01"},
    )
    assert _wait_for(client, job.json()["training_job_id"])["training_status"] == "completed"
    version = client.get(f"{API}/machines/{machine_id}/models/baseline/versions/1").json()
    coefficients = version["metrics_in_sample"]["coefficients"]
    assert {"estimate", "std_error", "p_value"} <= set(coefficients["production_units"])
    assert version["metrics_in_sample"]["summary"]["adj_r_squared"] > 0.5
    base = f"{API}/machines/{machine_id}/models/baseline"
    made = client.post(f"{base}/evaluate", json={"from": "2025-04-01", "to": "2025-04-15"})
    assert made.status_code == 201, made.text
    listed = client.get(f"{base}/evaluations").json()
    assert [e["id"] for e in listed] == [made.json()["id"]]
    assert listed[0]["n_samples"] == 14 * 24
    rollback = client.post(f"{base}/rollback")  # no body needed
    assert rollback.status_code == 409
    assert "no earlier baseline champion" in rollback.json()["error"]["message"]
