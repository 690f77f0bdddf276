"""Server-rendered pages."""

from __future__ import annotations

from fastapi.testclient import TestClient


def test_index_lists_machines_and_serves_plotly_locally(client: TestClient) -> None:
    empty = client.get("/")
    assert empty.status_code == 200
    assert "No machines yet" in empty.text
    client.post("/api/v1/machines", json={"name": "Boiler 2", "machine_type": "boiler"})
    page = client.get("/")
    assert "Boiler 2" in page.text
    assert "boiler" in page.text
    js = client.get("/static/plotly.min.js")
    assert js.status_code == 200
    assert len(js.content) > 1_000_000
