"""``GET …/predictions`` on the real app, and the scoring run queued after an import."""

from __future__ import annotations

import time

import pandas as pd
from fastapi.testclient import TestClient
from sqlalchemy import select
from tests.factories import import_demo_machine
from tests.factories import train_version as train

from enms.core.clock import FrozenClock
from enms.core.config import Settings
from enms.core.db import SessionFactory, session_scope
from enms.demo.generator import generate_plant
from enms.jobs.models import SchedulerRun
from enms.predictions.tasks import score_predictions


def test_logged_points_of_the_champion_with_drivers_and_errors(
    session_factory: SessionFactory, clock: FrozenClock, settings: Settings, client: TestClient
) -> None:
    with session_scope(session_factory, write=True) as session:
        machine_id = import_demo_machine(session, clock, index=1, days=70).id
    train(session_factory, clock, machine_id, "baseline", "2025-03-01", start="2025-01-20")
    score_predictions(factory=session_factory, settings=settings, clock=clock)
    base = f"/api/v1/machines/{machine_id}/models/baseline/predictions"

    page = client.get(base, params={"from": "2025-03-02", "to": "2025-03-03"})
    assert page.status_code == 200, page.text
    body = page.json()
    assert body["version"] == 1
    assert (body["from"], body["n"], body["truncated"]) == ("2025-03-02T00:00:00Z", 24, False)
    first = body["points"][0]
    assert first["ts"] == first["origin"] == "2025-03-02T00:00:00Z"
    assert first["residual"] == first["actual"] - first["predicted"]
    assert body["batches"][0]["drivers_used"]
    assert body["batches"][0]["id"] == first["batch_id"]
    capped = client.get(base, params={"from": "2025-03-02", "limit": 5}).json()
    assert (capped["n"], capped["truncated"]) == (5, True)

    unknown = client.get("/api/v1/machines/999/models/baseline/predictions")
    assert unknown.status_code == 404
    bad = client.get(base, params={"from": "yesterday"})
    assert bad.status_code == 422
    assert "from" in bad.text
    assert client.get(base, params={"version": 7}).status_code == 404

    # Importing new readings through the API queues a scoring run that logs them.
    source = generate_plant(seed=3, days=75, freq="h")[1].readings
    later = source[source.index >= pd.Timestamp("2025-03-12", tz="UTC")]
    csv = later.rename_axis("timestamp").to_csv(date_format="%Y-%m-%dT%H:%M:%SZ")
    imported = client.post(
        f"/api/v1/machines/{machine_id}/readings",
        content=csv,
        headers={"content-type": "text/csv"},
    )
    assert imported.status_code == 200, imported.text
    deadline = time.monotonic() + 60
    run = None
    while time.monotonic() < deadline:
        with session_scope(session_factory) as session:
            run = session.scalars(
                select(SchedulerRun).where(
                    SchedulerRun.job_name == "score_predictions",
                    SchedulerRun.status != "running",
                )
            ).first()
        if run is not None:
            break
        time.sleep(0.2)  # polling the worker that runs the queued job, not standing in for it
    assert run is not None
    assert run.status == "completed", run.error
    assert run.result is not None
    assert run.result["points_written"] > 0
    newest = client.get(base, params={"from": str(later.index[-1].date())}).json()
    assert newest["points"][-1]["ts"] == later.index[-1].strftime("%Y-%m-%dT%H:%M:%SZ")
