"""Deleting a machine (with everything hanging off it) and a window of readings."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text
from tests.factories import import_demo_machine, readings_csv, trigger_job

from enms.core.clock import FrozenClock
from enms.core.config import TrainingSettings
from enms.core.db import SessionFactory, session_scope
from enms.core.timewindow import Window
from enms.registry.models import AuditLog
from enms.training.runner import RunContext, run_job

PER_MACHINE_TABLES = (
    "energy_readings",
    "model_versions",
    "model_aliases",
    "model_training_history",
    "model_performance_metrics",
)


def _counts(factory: SessionFactory, machine_id: int) -> dict[str, int]:
    with session_scope(factory) as s:
        return {
            t: int(
                s.execute(
                    text(f"SELECT count(*) FROM {t} WHERE machine_id = :m"), {"m": machine_id}
                ).scalar_one()
            )
            for t in PER_MACHINE_TABLES
        }


def _trained_machine(factory: SessionFactory, clock: FrozenClock, name: str) -> int:
    with session_scope(factory, write=True) as s:
        machine_id = import_demo_machine(s, clock, name=name, days=30).id
    with session_scope(factory, write=True) as s:
        job = trigger_job(
            s,
            machine_id=machine_id,
            model_type="baseline",
            clock=clock,
            reason="test",
            window=Window.parse(None, "2025-01-25"),
        )
    assert job.training_job_id is not None
    ctx = RunContext(factory=factory, settings=TrainingSettings(), clock=clock)
    assert run_job(job.training_job_id, ctx) == "completed"
    return machine_id


def test_deleting_a_machine_removes_its_readings_models_and_history(
    client: TestClient, session_factory: SessionFactory, clock: FrozenClock
) -> None:
    doomed = _trained_machine(session_factory, clock, "Doomed")
    kept = _trained_machine(session_factory, clock, "Kept")
    url = f"/api/v1/machines/{doomed}/models/baseline/evaluate"
    evaluated = client.post(url, json={"from": "2025-01-25", "to": "2025-01-31"})
    assert evaluated.status_code in (201, 202), evaluated.text  # recorded now, or as a job
    before = _counts(session_factory, doomed)
    assert before["model_performance_metrics"] == (1 if evaluated.status_code == 201 else 0)
    assert before["energy_readings"] == 30 * 24
    assert before["model_versions"] == before["model_training_history"] == 1
    assert before["model_aliases"] == 1
    kept_before = _counts(session_factory, kept)

    response = client.delete(f"/api/v1/machines/{doomed}")
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["machine"] == "Doomed"
    for table, n in before.items():
        assert answer["deleted"][table] == n, table
    assert _counts(session_factory, doomed) == dict.fromkeys(PER_MACHINE_TABLES, 0)
    assert _counts(session_factory, kept) == kept_before
    with session_scope(session_factory) as s:  # the audit log keeps its entries
        assert (s.scalar(select(func.count()).select_from(AuditLog)) or 0) >= 2
    gone = client.delete(f"/api/v1/machines/{doomed}")
    assert gone.status_code == 404
    assert gone.json()["error"]["code"] == "not_found"


def test_deleting_a_window_of_readings_answers_the_count(client: TestClient) -> None:
    machine = client.post("/api/v1/machines", json={"name": "Trim"}).json()
    url = f"/api/v1/machines/{machine['id']}/readings"
    csv = readings_csv(start="2025-01-01T00:00:00", periods=72, freq="h")
    assert client.post(url, content=csv, headers={"content-type": "text/csv"}).status_code == 200
    response = client.delete(url, params={"from": "2025-01-02", "to": "2025-01-02T06:00:00Z"})
    assert response.status_code == 200, response.text
    assert response.json()["deleted"] == 6
    again = client.delete(url, params={"from": "2025-01-02", "to": "2025-01-02T06:00:00Z"})
    assert again.json()["deleted"] == 0
    tail = client.delete(url, params={"from": "2025-01-03"})
    assert tail.json()["deleted"] == 24
    left = client.get(url).json()
    assert left["count"] == 72 - 6 - 24
    assert all(
        not ("2025-01-02T00:00" <= p["timestamp"] < "2025-01-02T06:00") for p in left["readings"]
    )
    unbounded = client.delete(url)
    assert unbounded.status_code == 422
    assert "give from and/or to" in unbounded.json()["error"]["message"]
    assert client.get(url).json()["count"] == 42


def test_a_trigger_without_enough_readings_is_refused_up_front(client: TestClient) -> None:
    machine = client.post("/api/v1/machines", json={"name": "Tiny"}).json()
    url = f"/api/v1/machines/{machine['id']}/readings"
    csv = readings_csv(periods=10, freq="h")
    assert client.post(url, content=csv, headers={"content-type": "text/csv"}).status_code == 200
    for model_type in ("baseline", "anomaly", "forecast_arima", "forecast_prophet"):
        response = client.post(
            "/api/v1/model-performance/retrain/trigger",
            json={"machine_id": machine["id"], "model_type": model_type},
        )
        assert response.status_code == 422, response.text
        error = response.json()["error"]
        assert error["code"] == "insufficient_readings"
        assert "has 10 readings over 0.4 days" in error["message"]
        assert error["details"]["needed_days"] >= 17.5
    assert client.get("/api/v1/training-jobs").json() == []


def test_the_minimums_match_what_the_models_refuse() -> None:
    from enms.ml import anomaly, baseline, forecast_base
    from enms.readings.sufficiency import MINIMUMS

    assert set(MINIMUMS) == {"baseline", "anomaly", "forecast_arima", "forecast_prophet"}
    assert MINIMUMS["baseline"].readings == baseline.MIN_ROWS
    assert MINIMUMS["baseline"].days == baseline.BaselineModel().min_days
    calibration = anomaly.AnomalyDetector().calibration_fraction
    assert MINIMUMS["anomaly"].readings == anomaly.MIN_CALIBRATION / calibration
    assert MINIMUMS["anomaly"].days == pytest.approx(14 / (1 - calibration))
    history = forecast_base.MIN_FIT + forecast_base.MIN_VALIDATION
    assert MINIMUMS["forecast_arima"].days == history.days
    assert MINIMUMS["forecast_prophet"].days == history.days
