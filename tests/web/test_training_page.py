"""The Training history page and its JSON on the real app and database: filters (machine,
model type, status, creation date), 404 for an unknown machine, 4xx naming a bad filter."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from tests.factories import import_demo_machine, trigger_job

from enms.core.clock import FrozenClock
from enms.core.db import SessionFactory, session_scope


def _page_data(html: str) -> dict[str, Any]:
    found = re.search(r'<script type="application/json" id="page-data">(.*?)</script>', html, re.S)
    assert found is not None, "the page carries its data"
    data: dict[str, Any] = json.loads(found.group(1))
    return data


def _two_jobs(session_factory: SessionFactory, clock: FrozenClock) -> tuple[int, int, int]:
    """A baseline job today and an anomaly job two days later: (machine, first, second)."""
    with session_scope(session_factory, write=True) as session:
        machine_id = import_demo_machine(session, clock).id
        first = trigger_job(session, machine_id=machine_id, model_type="baseline", clock=clock)
    clock.advance(timedelta(days=2))
    with session_scope(session_factory, write=True) as session:
        second = trigger_job(session, machine_id=machine_id, model_type="anomaly", clock=clock)
    assert first.training_job_id is not None
    assert second.training_job_id is not None
    return machine_id, first.training_job_id, second.training_job_id


def test_an_empty_history_renders_with_its_data(client: TestClient) -> None:
    page = client.get("/ui/training")
    assert page.status_code == 200
    assert "Training history" in page.text
    assert 'src="/static/page-training.js"' in page.text
    data = _page_data(page.text)
    assert data["jobs"] == []
    assert data["now"].startswith("2026-01-15T12:00")
    assert client.get("/static/page-training.js").status_code == 200
    assert client.get("/static/page-training.css").status_code == 200


def test_jobs_are_listed_newest_first_and_filtered(
    client: TestClient, session_factory: SessionFactory, clock: FrozenClock
) -> None:
    machine_id, first, second = _two_jobs(session_factory, clock)
    data = _page_data(client.get("/ui/training").text)
    assert [j["id"] for j in data["jobs"]] == [second, first]
    assert data["jobs"][0]["machine_name"]
    assert data["jobs"][0]["training_status"] == "pending"

    def ids(**params: Any) -> list[int]:
        reply = client.get("/ui/api/training/jobs", params=params)
        assert reply.status_code == 200, reply.text
        return [j["id"] for j in reply.json()["jobs"]]

    assert ids(model_type="baseline") == [first]
    assert ids(status="pending", machine_id=machine_id) == [second, first]
    assert ids(status="failed") == []
    day_one = (clock.now() - timedelta(days=2)).date().isoformat()
    day_three = clock.now().date().isoformat()
    assert ids(to=day_one) == [first], "'to' includes its whole day"
    assert ids(**{"from": day_three}) == [second]
    assert ids(**{"from": day_one, "to": day_three}) == [second, first]
    page = client.get("/ui/training", params={"model_type": "anomaly"})
    assert [j["id"] for j in _page_data(page.text)["jobs"]] == [second]
    assert _page_data(page.text)["filters"]["model_type"] == "anomaly"


def test_an_unknown_machine_is_a_404_page(client: TestClient) -> None:
    page = client.get("/ui/training", params={"machine_id": 99})
    assert page.status_code == 404
    assert "Machine 99 does not exist." in page.text
    assert client.get("/ui/api/training/jobs", params={"machine_id": 99}).status_code == 404


def test_bad_filters_are_4xx_naming_the_problem(client: TestClient) -> None:
    for params, word in (
        ({"status": "sleeping"}, "status"),
        ({"model_type": "neural"}, "neural"),
        ({"from": "yesterday"}, "from"),
        ({"from": "2025-06-02", "to": "2025-06-01"}, "from"),
        ({"limit": 0}, "limit"),
    ):
        reply = client.get("/ui/api/training/jobs", params=params)
        assert 400 <= reply.status_code < 500, (params, reply.status_code)
        assert word in reply.text, (params, reply.text)


def test_a_bad_filter_in_the_page_url_is_a_4xx_naming_it(client: TestClient) -> None:
    reply = client.get("/ui/training", params={"status": "sleeping"})
    assert reply.status_code == 422
    assert "status" in reply.text
