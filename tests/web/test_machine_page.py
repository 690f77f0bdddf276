"""The Machines pages on the real app and database: the list, the redirect, 404s, the series
endpoint's validation, empty states and its downsampling of a long window."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from enms.core.clock import FrozenClock
from enms.web.machine_window import MAX_POINTS, bucket_for


def _machine(client: TestClient, name: str = "Press 7") -> int:
    reply = client.post(
        "/api/v1/machines",
        json={"name": name, "machine_type": "press", "timezone": "Europe/Berlin"},
    )
    assert reply.status_code == 201, reply.text
    return int(reply.json()["id"])


def _kwh(ts: pd.Timestamp) -> float:
    """A reading's energy: 100 kWh at 12:00 UTC, 10 kWh otherwise."""
    return 100.0 if ts.tz_convert("UTC").hour == 12 else 10.0


def _import_hourly(client: TestClient, machine_id: int, start: pd.Timestamp, hours: int) -> None:
    stamps = pd.date_range(start, periods=hours, freq="h", tz="UTC")
    rows = [
        {"timestamp": ts.isoformat(), "energy_kwh": _kwh(ts), "outdoor_temp_c": 12.0}
        for ts in stamps
    ]
    reply = client.post(f"/api/v1/machines/{machine_id}/readings", json={"readings": rows})
    assert reply.status_code == 200, reply.text


def test_machine_short_address_redirects_to_its_page(client: TestClient) -> None:
    reply = client.get("/machines/5", follow_redirects=False)
    assert reply.status_code == 307
    assert reply.headers["location"] == "/ui/machines/5"


def test_unknown_machine_is_an_html_404(client: TestClient) -> None:
    reply = client.get("/ui/machines/99")
    assert reply.status_code == 404
    assert "text/html" in reply.headers["content-type"]
    assert "Machine 99 does not exist." in reply.text


def test_list_is_empty_then_links_each_machine(client: TestClient) -> None:
    assert "No machines yet" in client.get("/ui/machines").text
    machine_id = _machine(client)
    page = client.get("/ui/machines")
    assert page.status_code == 200
    assert f'href="/ui/machines/{machine_id}"' in page.text
    assert "Press 7" in page.text


def test_page_of_a_machine_without_models_says_how_to_train(client: TestClient) -> None:
    machine_id = _machine(client)
    page = client.get(f"/ui/machines/{machine_id}")
    assert page.status_code == 200
    assert "No models trained yet" in page.text
    assert f"/ui/api/machines/{machine_id}/series" in page.text


@pytest.mark.parametrize(
    ("query", "names"),
    [
        ("days=0", "days"),
        ("days=5000", "days"),
        ("from=2025-07-01&to=2025-06-01", "from"),
        ("from=June", "from"),
        ("from=2025-06-01&days=7", "either from or days"),
        ("from=2020-01-01&to=2025-01-01", "at most"),
    ],
)
def test_series_refuses_bad_windows_naming_the_problem(
    client: TestClient, query: str, names: str
) -> None:
    machine_id = _machine(client)
    reply = client.get(f"/ui/api/machines/{machine_id}/series?{query}")
    assert reply.status_code == 422, reply.text
    assert names in reply.text


def test_series_of_an_unknown_machine_is_a_404(client: TestClient) -> None:
    assert client.get("/ui/api/machines/99/series").status_code == 404


def test_series_of_a_machine_without_data_is_empty_not_zero(
    client: TestClient, clock: FrozenClock
) -> None:
    machine_id = _machine(client)
    body = client.get(f"/ui/api/machines/{machine_id}/series").json()
    assert body["now"] == clock.now().isoformat()
    assert body["bucket"]["label"] == "hour"
    assert body["n_readings"] == 0
    assert set(body["energy"]["actual"]) == {None}
    assert body["forecast"]["model_type"] is None
    assert body["anomalies"] == []
    assert body["cusum"]["x"] == []


def test_a_year_is_downsampled_and_keeps_the_energy(client: TestClient, clock: FrozenClock) -> None:
    machine_id = _machine(client)
    now = pd.Timestamp(clock.now())
    start = (now - timedelta(days=400)).floor("D")
    hours = int((now - start).total_seconds() // 3600)
    _import_hourly(client, machine_id, start, hours)
    body = client.get(f"/ui/api/machines/{machine_id}/series?days=365").json()
    energy = body["energy"]
    assert body["bucket"]["label"] == "12 h"
    assert len(energy["x"]) <= MAX_POINTS
    assert body["n_readings"] == 365 * 24
    in_window = pd.date_range(now - timedelta(days=365), now, freq="h", inclusive="left")
    expected_total = sum(_kwh(ts) for ts in in_window)
    assert sum(v for v in energy["actual"] if v is not None) == pytest.approx(expected_total)
    # The heatmap is in local time: 12:00 UTC is 13:00 (winter) or 14:00 (summer) in Berlin.
    z = body["heatmap"]["z"]
    assert len(z) == 7
    assert all(len(row) == 24 for row in z)
    assert all(row[12] == pytest.approx(10.0) for row in z)
    assert all(row[13] > 10.0 and row[14] > 10.0 for row in z)


def test_bucket_keeps_every_range_plottable() -> None:
    for days in (7, 30, 90, 365, 731):
        bucket = bucket_for(timedelta(days=days))
        assert days * 24 / bucket.hours <= MAX_POINTS
    assert bucket_for(timedelta(days=30)).hours == 1
