"""``GET /api/v1/machines/{id}/anomalies`` on the real app: the window (default the last 7
days up to now), newest first, the limit, and the 404 / 422 answers naming the problem."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
from fastapi.testclient import TestClient

from enms.alerts.models import ModelAlert
from enms.anomalies.tasks import anomaly_detect
from enms.core.clock import FrozenClock
from enms.core.config import AlertSettings, Settings
from enms.core.db import SessionFactory, session_scope
from tests.anomalies.conftest import Plant
from tests.factories import make_machine


def test_anomalies_in_a_window_newest_first(
    session_factory: SessionFactory,
    clock: FrozenClock,
    settings: Settings,
    client: TestClient,
    plant: Plant,
) -> None:
    # Two within six hours open an alert, four (twice the count) make it critical.
    config = settings.model_copy(
        update={"alerts": AlertSettings(anomaly_cluster_count=2, anomaly_cluster_hours=6)}
    )
    anomaly_detect(factory=session_factory, settings=config, clock=clock)
    with session_scope(session_factory) as session:
        alert = session.query(ModelAlert).one()
        assert (alert.severity, alert.details["count"]) == ("critical", 5)
    url = f"/api/v1/machines/{plant.machine_id}/anomalies"

    page = client.get(url, params={"from": "2025-02-01", "to": "2025-03-01T00:00:00+01:00"})
    assert page.status_code == 200, page.text
    body = page.json()
    assert (body["machine_id"], body["machine_name"]) == (plant.machine_id, "Compressor C1")
    assert (body["from"], body["to"]) == ("2025-02-01T00:00:00Z", "2025-02-28T23:00:00Z")
    stamps = pd.DatetimeIndex([a["ts"] for a in body["anomalies"]])
    assert body["count"] == len(stamps) >= 9
    assert not body["truncated"]
    assert stamps.is_monotonic_decreasing
    assert plant.up.append(plant.down).isin(stamps).all()
    newest = body["anomalies"][0]
    assert newest["ts"] == "2025-02-16T07:00:00Z"
    assert newest["direction"] == "above_expected"
    assert newest["score"] > newest["threshold"]
    assert newest["reason"].endswith(f"> threshold {newest['threshold']:.1f})")
    assert {"energy_kwh", "expected_kwh", "model_version", "detected_at", "id"} <= set(newest)

    # naive means UTC; [from, to) holds the cluster's first three hours
    cut = client.get(url, params={"from": "2025-02-16T03:00", "to": "2025-02-16T06:00"}).json()
    assert [a["ts"][11:16] for a in cut["anomalies"]] == ["05:00", "04:00", "03:00"]
    capped = client.get(url, params={"from": "2025-02-01", "to": "2025-03-01", "limit": 2}).json()
    assert (capped["count"], capped["truncated"]) == (2, True)
    assert [a["ts"] for a in capped["anomalies"]] == [a["ts"] for a in body["anomalies"][:2]]

    # default: the 7 days up to now (the frozen clock is in 2026: nothing there)
    default = client.get(url).json()
    now = clock.now()
    assert pd.Timestamp(default["to"]) == now
    assert pd.Timestamp(default["from"]) == now - timedelta(days=7)
    assert (default["count"], default["anomalies"]) == (0, [])
    only_to = client.get(url, params={"to": "2025-02-16T04:00Z"}).json()
    assert only_to["from"] == "2025-02-09T04:00:00Z"
    listed = [a["ts"] for a in only_to["anomalies"]]
    assert "2025-02-11T15:00:00Z" in listed
    assert "2025-02-16T03:00:00Z" in listed
    assert "2025-02-09T03:00:00Z" not in listed
    assert "2025-02-16T04:00:00Z" not in listed
    assert min(listed) >= only_to["from"]


def test_unknown_machine_and_bad_parameters(
    session_factory: SessionFactory, clock: FrozenClock, client: TestClient
) -> None:
    with session_scope(session_factory, write=True) as session:
        machine_id = make_machine(session, clock).id
    url = f"/api/v1/machines/{machine_id}/anomalies"
    assert client.get(url).json()["count"] == 0
    missing = client.get("/api/v1/machines/999/anomalies")
    assert missing.status_code == 404
    assert "no machine with id 999" in missing.json()["error"]["message"]
    bad = client.get(url, params={"from": "yesterday"})
    assert bad.status_code == 422
    assert bad.json()["error"]["message"].startswith("from: 'yesterday' is not an ISO 8601")
    inverted = client.get(url, params={"from": "2025-02-10", "to": "2025-02-10"})
    assert inverted.status_code == 422
    assert "from (2025-02-10T00:00:00+00:00) must be before to" in inverted.text
    future = client.get(url, params={"from": "2030-01-01"})  # to defaults to now
    assert future.status_code == 422
    assert "default: now" in future.text
    limit = client.get(url, params={"limit": 0})
    assert limit.status_code == 422
    assert "limit" in limit.text
