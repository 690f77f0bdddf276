"""Evaluating on real, gappy meters: incomplete rows are counted, an absent driver is a 4xx."""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import update
from tests.factories import import_demo_machine
from tests.readings.test_commands import enms

from enms.api.app import create_app
from enms.core import schema
from enms.core.clock import FrozenClock
from enms.core.config import Settings
from enms.core.db import SessionFactory, create_db_engine, create_session_factory, session_scope
from enms.readings.models import EnergyReading

API = "/api/v1"


def _train_baseline(client: TestClient, machine_id: int, until: str) -> None:
    job = client.post(
        f"{API}/model-performance/retrain/trigger",
        json={"machine_id": machine_id, "model_type": "baseline", "data_to": until},
    ).json()
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        state: dict[str, Any] = client.get(f"{API}/training-jobs/{job['training_job_id']}").json()
        if state["training_status"] not in ("pending", "running"):
            assert state["training_status"] == "completed", state
            return
        time.sleep(0.1)  # polling the server's real worker threads
    raise AssertionError("training did not finish in 90 s")


def _blank(factory: SessionFactory, machine_id: int, start: str, end: str, **values: None) -> None:
    """Make readings in ``[start, end)`` incomplete, as a flaky logger would."""
    with session_scope(factory, write=True) as session:
        session.execute(
            update(EnergyReading)
            .where(
                EnergyReading.machine_id == machine_id,
                EnergyReading.ts >= datetime.fromisoformat(start),
                EnergyReading.ts < datetime.fromisoformat(end),
            )
            .values(**values)
        )


def test_gaps_are_counted_and_an_absent_driver_is_a_422_naming_it(
    client: TestClient, session_factory: SessionFactory, clock: FrozenClock
) -> None:
    with session_scope(session_factory, write=True) as session:
        machine_id = import_demo_machine(session, clock, index=1, days=150).id  # the furnace
    _train_baseline(client, machine_id, "2025-04-01")
    base = f"{API}/machines/{machine_id}/models/baseline"
    version = client.get(f"{base}/versions/1").json()
    assert "production_units" in version["metrics_in_sample"]["coefficients"]

    _blank(session_factory, machine_id, "2025-04-03T00:00Z", "2025-04-03T10:00Z",
           production_units=None)  # fmt: skip
    made = client.post(f"{base}/evaluate", json={"from": "2025-04-01", "to": "2025-04-15"})
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["n_samples"] == 14 * 24 - 10
    assert body["details"]["n_dropped"] == 10
    assert body["details"]["dropped"] == {"missing_drivers": 10}
    assert body["cv_rmse"] is not None  # the rest is scored, not turned into None

    _blank(session_factory, machine_id, "2025-05-01T00:00Z", "2025-05-15T00:00Z",
           production_units=None)  # fmt: skip
    refused = client.post(f"{base}/evaluate", json={"from": "2025-05-01", "to": "2025-05-15"})
    assert refused.status_code == 422, refused.text
    error = refused.json()["error"]
    assert error["code"] == "invalid_input"
    assert "readings lack the column(s) ['production_units']" in error["message"]


def test_cli_evaluate_names_the_absent_driver(tmp_path: Path, clock: FrozenClock) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"  # the file the `enms` process below opens
    engine = create_db_engine(url)
    schema.upgrade(engine)
    factory = create_session_factory(engine)
    with session_scope(factory, write=True) as session:
        machine_id = import_demo_machine(session, clock, index=1, days=120, name="F1").id
    _blank(factory, machine_id, "2025-04-01T00:00Z", "2025-05-01T00:00Z", production_units=None)
    # The `enms` process below runs in tmp_path, so its data directory (and the instance
    # secret that signs the version) is tmp_path/.enms: train with the same one.
    settings = Settings(database_url=url, data_dir=tmp_path / ".enms", queue={"periodic": False})
    with TestClient(create_app(settings, engine=engine, clock=clock)) as client:
        _train_baseline(client, machine_id, "2025-04-01")
    engine.dispose()

    result = enms(
        tmp_path, "evaluate", "baseline", "--machine", "F1",
        "--from", "2025-04-01", "--to", "2025-04-15", "--json",
    )  # fmt: skip
    assert result.returncode == 1
    assert result.stdout == ""
    assert "readings lack the column(s) ['production_units'] this model uses" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_champion_that_cannot_be_scored_is_not_comparable_not_a_failed_retrain(
    client: TestClient, session_factory: SessionFactory, clock: FrozenClock
) -> None:
    with session_scope(session_factory, write=True) as session:
        machine_id = import_demo_machine(session, clock, index=1, days=150).id
    _train_baseline(client, machine_id, "2025-04-01")  # v1 regresses on production_units
    # the production counter stops reporting: the retrain window has no such column
    _blank(session_factory, machine_id, "2025-04-01T00:00Z", "2025-06-01T00:00Z",
           production_units=None)  # fmt: skip
    job = client.post(
        f"{API}/model-performance/retrain/trigger",
        json={
            "machine_id": machine_id,
            "model_type": "baseline",
            "data_from": "2025-04-01",
            "data_to": "2025-06-01",
        },
    ).json()
    deadline = time.monotonic() + 90
    state: dict[str, Any] = {}
    while time.monotonic() < deadline:
        state = client.get(f"{API}/training-jobs/{job['training_job_id']}").json()
        if state["training_status"] not in ("pending", "running"):
            break
        time.sleep(0.1)  # polling the server's real worker threads
    assert state["training_status"] == "completed", state
    assert state["model_version"] == 2
    assert state["performance_improvement"] is None  # not comparable, and said so by None
