"""Evaluating versions on held-out windows, recorded in model_performance_metrics."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy import select
from tests.factories import import_demo_machine, make_machine, train_version

from enms.core.cli_context import AppContext
from enms.core.clock import FrozenClock
from enms.core.config import Settings
from enms.core.db import SessionFactory, session_scope
from enms.core.errors import InvalidInput
from enms.core.timewindow import Window
from enms.evaluation import service
from enms.evaluation.commands import evaluate as evaluate_command
from enms.evaluation.models import PerformanceMetric
from enms.evaluation.schemas import EvaluationRead


def _train(
    factory: SessionFactory, clock: FrozenClock, machine_id: int, model_type: str, until: str
) -> None:
    train_version(factory, clock, machine_id, model_type, until)


@pytest.fixture
def machine_id(session_factory: SessionFactory, clock: FrozenClock) -> int:
    with session_scope(session_factory, write=True) as session:
        return import_demo_machine(session, clock, index=1, days=150).id


def test_baseline_evaluation_is_recorded_with_its_window(
    session_factory: SessionFactory, clock: FrozenClock, machine_id: int
) -> None:
    _train(session_factory, clock, machine_id, "baseline", "2025-04-01")
    window = Window.parse("2025-04-01", "2025-05-01")
    stages: list[str] = []
    result = service.evaluate(
        factory=session_factory,
        machine_id=machine_id,
        model_type="baseline",
        window=window,
        version=None,
        clock=clock,
        on_stage=stages.append,
    )
    assert stages == ["loading", "scoring", "recording"]
    assert result.model_version == 1
    assert result.n_samples == 30 * 24  # half-open: [Apr 1, May 1) hourly
    metrics = result.metrics
    assert set(metrics) == {"r_squared", "rmse", "mae", "mape", "cv_rmse", "nmbe", "n"}
    assert metrics["cv_rmse"] is not None
    assert 0 < metrics["cv_rmse"] < 30
    with session_scope(session_factory) as session:
        row = session.scalars(select(PerformanceMetric)).one()
        assert (row.evaluation_start, row.evaluation_end) == (window.start, window.end)
        assert row.evaluation_date == clock.now()
        assert row.f1 is None  # not a detector metric: no value, not a made-up 0.0


def test_windows_the_model_trained_on_or_without_readings_are_refused(
    session_factory: SessionFactory, clock: FrozenClock, machine_id: int
) -> None:
    _train(session_factory, clock, machine_id, "baseline", "2025-04-01")
    cases = [
        (("2025-03-01", "2025-04-15"), "overlaps the data baseline v1 was trained on"),
        (("2026-01-01", "2026-02-01"), "no readings between 2026-01-01"),
        (("2025-04-01", None), "needs both from and to"),
    ]
    for (start, end), message in cases:
        with pytest.raises(InvalidInput, match=message):
            service.evaluate(
                factory=session_factory,
                machine_id=machine_id,
                model_type="baseline",
                window=Window.parse(start, end),
                version=None,
                clock=clock,
            )
    with session_scope(session_factory) as session:
        assert session.scalars(select(PerformanceMetric)).all() == []


def test_a_writer_commits_while_an_evaluation_scores(
    session_factory: SessionFactory, clock: FrozenClock, machine_id: int
) -> None:
    """Scoring (rolling day-ahead forecasts over three weeks) holds no transaction: a writer
    started when scoring starts commits before the evaluation records its row. Were the
    evaluation inside a write transaction, the writer would wait for it and the evaluation
    would wait for the writer — the bounded wait below then fails the test."""
    _train(session_factory, clock, machine_id, "forecast_arima", "2025-04-01")
    events: list[str] = []
    committed = threading.Event()

    def writer() -> None:
        with session_scope(session_factory, write=True) as session:
            make_machine(session, clock, name="Added while scoring")
        events.append("writer committed")
        committed.set()

    thread = threading.Thread(target=writer)

    def on_stage(name: str) -> None:
        if name == "scoring":
            thread.start()
        if name == "recording":
            assert committed.wait(60), "the writer could not commit while the evaluation scored"
        events.append(name)

    result = service.evaluate(
        factory=session_factory,
        machine_id=machine_id,
        model_type="forecast_arima",
        window=Window.parse("2025-04-01", "2025-04-22"),
        version=1,
        clock=clock,
        on_stage=on_stage,
    )
    thread.join()
    assert events.index("writer committed") < events.index("recording")
    metrics = result.metrics
    assert set(metrics) == {"mape", "rmse", "mae", "skill", "n"}
    assert metrics["skill"] is not None
    assert metrics["skill"] > 0  # beats the weekly seasonal-naive forecast
    assert result.details["n_origins"] == 21 * 4  # day-ahead origins every 6 h of the window


def test_http_and_cli_answer_with_one_schema(
    session_factory: SessionFactory,
    clock: FrozenClock,
    machine_id: int,
    client: TestClient,
    settings: Settings,
    tmp_path: Path,
) -> None:
    _train(session_factory, clock, machine_id, "baseline", "2025-04-01")
    base = f"/api/v1/machines/{machine_id}/models/baseline"
    http = client.post(f"{base}/evaluate", json={"from": "2025-04-01", "to": "2025-04-15"})
    assert http.status_code == 201, http.text
    name = _machine_name(session_factory, machine_id)
    app = AppContext(
        overrides={"database_url": settings.database_url, "data_dir": str(settings.data_dir)}
    )
    cli = CliRunner().invoke(
        evaluate_command,
        ["baseline", "--machine", name, "--from", "2025-04-15", "--to", "2025-05-01", "--json"],
        obj=app,
    )
    assert cli.exit_code == 0, cli.output
    http_doc, cli_doc = http.json(), EvaluationRead.model_validate_json(cli.stdout)
    assert (
        set(http_doc)
        == set(cli_doc.model_dump(mode="json"))
        == set(EvaluationRead.model_json_schema(mode="serialization")["properties"])
    )
    assert http_doc["metrics"].keys() == cli_doc.metrics.keys()
    assert http_doc["metrics"]["n"] == 14 * 24
    assert cli_doc.metrics["n"] == 16 * 24
    listed = client.get(f"{base}/evaluations").json()
    assert [e["id"] for e in listed] == [cli_doc.id, http_doc["id"]]
    assert "scoring the baseline champion" in cli.stderr


def _machine_name(factory: SessionFactory, machine_id: int) -> str:
    from enms.readings import service as readings

    with session_scope(factory) as session:
        return readings.get_machine(session=session, machine_id=machine_id).name
