"""The A/B tests page on the real app: empty state, 404s for unknown filters, and the start
form's choices (machines with each model type's versions and aliases)."""

from __future__ import annotations

from fastapi.testclient import TestClient
from tests.web.test_versions_page import external, machine, page_data


def test_the_empty_page_loads_with_charts_and_defaults(client: TestClient) -> None:
    page = client.get("/ui/ab-tests")
    assert page.status_code == 200
    assert "/static/plotly.min.js" in page.text
    assert "/static/page-abtests.js" in page.text
    data = page_data(page.text)
    assert data["tests"] == []
    assert data["machines"] == []
    assert 0 < data["defaults"]["traffic_split"] < 1
    assert data["defaults"]["primary_metric"] in ("mae", "rmse", "energy_kwh", "cost")


def test_unknown_filters_are_404_pages(client: TestClient) -> None:
    missing = client.get("/ui/ab-tests?machine_id=99")
    assert missing.status_code == 404
    assert "Machine 99 does not exist." in missing.text
    wrong = client.get("/ui/ab-tests?model_type=lstm")
    assert wrong.status_code == 404
    assert "Unknown model type" in wrong.text
    bad = client.get("/ui/ab-tests?machine_id=abc")
    assert bad.status_code == 422
    assert "machine_id" in bad.text


def test_the_start_form_offers_each_models_versions(client: TestClient) -> None:
    mid = machine(client)
    machine(client, "Chiller 9")
    external(client, mid, "first", {"mae": 3.0})
    external(client, mid, "second", {"mae": 2.0})
    data = page_data(client.get(f"/ui/ab-tests?machine_id={mid}&model_type=baseline").text)
    assert data["filters"] == {"machine_id": mid, "model_type": "baseline"}
    boiler = next(m for m in data["machines"] if m["id"] == mid)
    assert boiler["models"] == {
        "baseline": [{"version": 2, "aliases": []}, {"version": 1, "aliases": ["champion"]}]
    }
    chiller = next(m for m in data["machines"] if m["name"] == "Chiller 9")
    assert chiller["models"] == {}
