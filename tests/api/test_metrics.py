"""``GET /metrics``, read back by the real Prometheus text parser.

A plant with one machine (demo readings, 60 days hourly): a baseline trained for real on the
first 40 days, its predictions scored into the log, a critical alert, a completed periodic
run, and a few requests. Every figure is checked against the same fact read another way
(the API, the database), not against a constant the code produced.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select
from tests.factories import import_demo_machine, train_version

from enms.alerts.conditions import raise_condition
from enms.api.app import create_app
from enms.core.clock import FrozenClock
from enms.core.config import Settings
from enms.core.db import SessionFactory, create_db_engine, session_scope
from enms.jobs.models import SchedulerRun
from enms.predictions.models import PredictionPoint
from enms.predictions.tasks import score_predictions


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_metrics_describe_requests_jobs_alerts_runs_and_log_lag(
    client: TestClient, session_factory: SessionFactory, clock: FrozenClock, settings: Settings
) -> None:
    with session_scope(session_factory, write=True) as session:
        machine = import_demo_machine(session, clock, days=60)
    start = datetime(2025, 1, 1, tzinfo=UTC)  # the demo generator's first day
    train_version(
        session_factory, clock, machine.id, "baseline", f"{start + timedelta(days=40):%Y-%m-%d}"
    )
    score_predictions(factory=session_factory, settings=settings, clock=clock)
    finished = datetime(2026, 1, 18, 11, 30, tzinfo=UTC)
    with session_scope(session_factory, write=True) as session:
        raise_condition(
            session, machine_id=machine.id, model_type="baseline", alert_type="degradation",
            severity="critical", message="uses 20 % more", details={}, now=clock.now(),
        )  # fmt: skip
        session.add(
            SchedulerRun(
                job_name="kpi_calculate",
                tick=finished,
                trigger="schedule",
                status="completed",
                started_at=finished - timedelta(seconds=3),
                finished_at=finished,
            )
        )
        newest_logged = session.scalar(
            select(func.max(PredictionPoint.ts)).where(PredictionPoint.machine_id == machine.id)
        )
    assert newest_logged is not None
    assert client.get("/api/v1/training-jobs/987").status_code == 404
    assert client.get("/api/v1/training-jobs/987").status_code == 404
    (job,) = client.get("/api/v1/training-jobs").json()
    readings = client.get(f"/api/v1/machines/{machine.id}/readings", params={"limit": 1})
    last_reading = next(m for m in client.get("/api/v1/machines").json() if m["id"] == machine.id)[
        "last_reading"
    ]
    assert readings.status_code == 200

    answer = client.get("/metrics")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    got = _samples(answer.text)
    route = "/api/v1/training-jobs/{job_id}"
    key = ("enms_http_requests_total", (("method", "GET"), ("route", route), ("status", "404")))
    assert got[key] == 2  # counted by route template, never by id
    assert (
        got[("enms_http_request_duration_seconds_count", (("method", "GET"), ("route", route)))]
        == 2
    )
    assert got[("enms_training_jobs", (("state", "completed"),))] == 1
    assert got[("enms_training_jobs", (("state", "pending"),))] == 0
    assert got[("enms_training_duration_seconds_count", (("model_type", "baseline"),))] == 1
    duration = got[("enms_training_duration_seconds_sum", (("model_type", "baseline"),))]
    assert abs(duration - job["training_duration_seconds"]) < 1e-6
    assert got[("enms_alerts_unresolved", (("severity", "critical"),))] == 1
    assert got[("enms_alerts_unresolved", (("severity", "warning"),))] == 0
    when = got[("enms_periodic_job_last_success_timestamp_seconds", (("job", "kpi_calculate"),))]
    assert when == finished.timestamp()
    lag = got[("enms_prediction_log_lag_seconds", (("machine", machine.name),))]
    newest_reading = datetime.fromisoformat(last_reading)
    assert lag == (newest_reading - newest_logged.replace(tzinfo=UTC)).total_seconds()
    assert lag >= 0
    assert got[("enms_queue_depth", ())] >= 0
    assert got[("enms_database_up", ())] == 1


def test_an_unmigrated_database_is_reported_down_not_a_500(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    settings = Settings.model_validate(
        {"database_url": url, "data_dir": tmp_path, "queue": {"in_process": False}}
    )
    engine = create_db_engine(url)
    answer = TestClient(create_app(settings, engine=engine)).get("/metrics")
    engine.dispose()
    assert answer.status_code == 200
    assert _samples(answer.text)[("enms_database_up", ())] == 0
