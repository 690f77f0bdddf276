"""Cursor paging over readings: following `next_cursor` visits every point exactly once."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from tests.factories import readings_csv


def _machine_with_readings(client: TestClient, periods: int) -> str:
    machine = client.post(
        "/api/v1/machines", json={"name": "Pager", "timezone": "Europe/Berlin"}
    ).json()
    url = f"/api/v1/machines/{machine['id']}/readings"
    csv = readings_csv(start="2025-03-28T00:00:00", periods=periods, freq="15min")
    response = client.post(url, content=csv, headers={"content-type": "text/csv"})
    assert response.status_code == 200, response.text
    return url


def _walk(client: TestClient, url: str, **params: object) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []
    cursor = None
    for _ in range(2000):
        query = dict(params) | ({"cursor": cursor} if cursor else {})
        page = client.get(url, params=query).json()
        seen += page["readings"]
        assert page["count"] == len(page["readings"])
        if not page["truncated"]:
            assert page["next_cursor"] is None
            return seen
        assert page["next_cursor"] == page["readings"][-1]["timestamp"]
        cursor = page["next_cursor"]
    raise AssertionError("paging did not end")


@pytest.mark.parametrize("limit", [9, 250, 999, 1000])
def test_raw_pages_cover_all_rows_exactly_once(client: TestClient, limit: int) -> None:
    url = _machine_with_readings(client, periods=1000)
    everything = client.get(url, params={"limit": 5000}).json()
    assert everything["truncated"] is False
    seen = _walk(client, url, limit=limit)
    assert seen == everything["readings"]
    assert len({p["timestamp"] for p in seen}) == 1000


def test_windowed_and_aggregated_pages_cover_all_buckets_once(client: TestClient) -> None:
    # across the end of daylight saving time in Berlin (2025-03-30), 15-minute readings
    url = _machine_with_readings(client, periods=96 * 4)
    window = {"from": "2025-03-28T06:00:00Z", "to": "2025-03-31T00:00:00Z"}
    for resolution in ("raw", "hourly", "daily"):
        whole = client.get(url, params=window | {"resolution": resolution}).json()
        assert whole["truncated"] is False
        seen = _walk(client, url, resolution=resolution, limit=5, **window)
        assert seen == whole["readings"], resolution
        assert sum(int(p["n"]) for p in seen) == 4 * 66  # [06:00 on the 28th, 00:00 on the 31st)


def test_after_is_a_synonym_and_a_bad_cursor_is_a_422(client: TestClient) -> None:
    url = _machine_with_readings(client, periods=10)
    first = client.get(url, params={"limit": 4}).json()
    second = client.get(url, params={"limit": 4, "after": first["next_cursor"]}).json()
    assert second["readings"][0]["timestamp"] > first["readings"][-1]["timestamp"]
    bad = client.get(url, params={"cursor": "yesterday"})
    assert bad.status_code == 422
    assert bad.json()["error"]["message"].startswith("cursor: 'yesterday'")
