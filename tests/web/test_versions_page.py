"""The Versions page and its JSON on the real app: 404s naming what is unknown, the empty
state, versions side by side (one value per version per metric), and the tables picked
out of what the models recorded (coefficients, candidate selection)."""

from __future__ import annotations

import json
import re
from typing import Any

from fastapi.testclient import TestClient

from enms.web.versions_view import candidate_selection, coefficients, sufficiency_verdict


def page_data(html: str) -> dict[str, Any]:
    found = re.search(r'<script type="application/json" id="page-data">(.*?)</script>', html, re.S)
    assert found, "the page carries its data"
    data: dict[str, Any] = json.loads(found.group(1))
    return data


def machine(client: TestClient, name: str = "Boiler 2") -> int:
    made = client.post("/api/v1/machines", json={"name": name, "machine_type": "boiler"})
    assert made.status_code == 201, made.text
    return int(made.json()["id"])


def external(client: TestClient, machine_id: int, name: str, metrics: dict[str, float]) -> None:
    made = client.post(
        f"/api/v1/machines/{machine_id}/models/baseline/external-versions",
        json={"name": name, "metrics_holdout": metrics},
    )
    assert made.status_code == 201, made.text


def test_unknown_machine_and_model_type_are_404_pages(client: TestClient) -> None:
    missing = client.get("/ui/machines/99/models/baseline")
    assert missing.status_code == 404
    assert "Machine 99 does not exist." in missing.text
    mid = machine(client)
    wrong = client.get(f"/ui/machines/{mid}/models/lstm")
    assert wrong.status_code == 404
    assert "Unknown model type &#39;lstm&#39;" in wrong.text
    as_json = client.get("/ui/api/versions/99/baseline")
    assert as_json.status_code == 404
    assert "Machine 99 does not exist." in as_json.text


def test_a_model_without_versions_renders_its_empty_state(client: TestClient) -> None:
    mid = machine(client)
    page = client.get(f"/ui/machines/{mid}/models/baseline")
    assert page.status_code == 200
    assert "/static/page-versions.js" in page.text
    data = page_data(page.text)
    assert data["versions"] == []
    assert data["metrics"] == []
    assert data["history"] == []
    assert data["now"].startswith("20")


def test_versions_side_by_side_one_value_per_version(client: TestClient) -> None:
    mid = machine(client)
    external(client, mid, "first", {"mae": 3.0, "rmse": 4.0})
    external(client, mid, "second", {"mae": 2.5, "cv_rmse": 9.0})
    data = client.get(f"/ui/api/versions/{mid}/baseline").json()
    assert [v["version"] for v in data["versions"]] == [2, 1]
    assert data["versions"][1]["aliases"] == ["champion"]
    rows = {r["key"]: r["values"] for r in data["metrics"]}
    assert rows == {"mae": [2.5, 3.0], "rmse": [None, 4.0], "cv_rmse": [9.0, None]}
    assert [r["key"] for r in data["metrics"]] == ["mae", "rmse", "cv_rmse"]
    assert data["history"][-1]["to_version"] == 1  # newest move first, registration last
    assert data["rollback_to"] is None  # one champion so far: nothing to go back to
    promoted = client.post(
        f"/api/v1/machines/{mid}/models/baseline/promote", json={"version": 2, "reason": "t"}
    )
    assert promoted.status_code == 200, promoted.text
    assert client.get(f"/ui/api/versions/{mid}/baseline").json()["rollback_to"] == 1


def test_coefficients_sufficiency_and_candidates_become_tables() -> None:
    report = {
        "coefficients": {
            "intercept": {"estimate": 60.0, "std_error": 0.42, "t_value": 141.8, "p_value": 0.0},
            "production_units": {"estimate": 0.05, "std_error": 0.0016, "p_value": 1e-156},
        },
        "sufficiency": {"sufficient": False, "span_days": 18.1, "reasons": ["too short"]},
        "selection": {
            "winner": "profile_arma",
            "candidates": {
                "seasonal_naive": {"n": 1308, "rmse": 15.0, "mape": 6.5, "skill": 0.0},
                "profile_arma": {"n": 1308, "rmse": 12.1, "mape": 6.7, "skill": 0.2},
            },
        },
    }
    terms = coefficients(report)
    assert terms[1] == {
        "term": "production_units",
        "estimate": 0.05,
        "std_error": 0.0016,
        "t_value": None,
        "p_value": 1e-156,
    }
    verdict = sufficiency_verdict(report)
    assert verdict is not None
    assert verdict["sufficient"] is False
    assert verdict["reasons"] == ["too short"]
    selection = candidate_selection(report)
    assert selection is not None
    assert [(c["name"], c["chosen"]) for c in selection["candidates"]] == [
        ("profile_arma", True),
        ("seasonal_naive", False),
    ]
    assert coefficients({}) == []
    assert candidate_selection({}) is None
