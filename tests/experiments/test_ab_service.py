"""Starting, stopping and listing A/B tests over HTTP, on the real database (both dialects):
defaults from the registry and the settings, every refusal a 4xx naming the field, one
running test per (machine, model type) enforced by the partial unique index — two
concurrent starts end with one test and one 409."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from enms.core.clock import FrozenClock
from enms.core.config import Settings
from enms.core.db import SessionFactory, session_scope
from enms.core.errors import Conflict
from enms.experiments import service
from enms.experiments.models import ABTest
from enms.experiments.schemas import ABTestStart
from enms.registry.models import AuditLog
from tests.experiments.ab_setup import make_pair
from tests.factories import make_machine
from tests.registry.versions import register_baseline

API = "/api/v1/model-performance"


def test_start_with_defaults_stop_and_list(
    client: TestClient, session_factory: SessionFactory, clock: FrozenClock, settings: Settings
) -> None:
    pair = make_pair(session_factory, clock)
    started = client.post(
        f"{API}/ab-test/start", json={"machine_id": pair.machine_id, "model_type": "baseline"}
    )
    assert started.status_code == 201, started.text
    body = started.json()
    assert (body["model_a_version"], body["model_b_version"]) == (1, 2)
    assert body["status"] == "running"
    assert body["traffic_split"] == settings.ab_test.traffic_split
    assert body["duration_days"] == settings.ab_test.duration_days
    assert body["sequential"] is settings.ab_test.sequential
    assert body["guardrails"] == settings.ab_test.guardrails
    planned = clock.now() + timedelta(days=settings.ab_test.duration_days)
    assert body["planned_end_date"].startswith(planned.strftime("%Y-%m-%dT%H:%M"))

    again = client.post(
        f"{API}/ab-test/start", json={"machine_id": pair.machine_id, "model_type": "baseline"}
    )
    assert again.status_code == 409
    assert f"({body['id']})" in again.json()["error"]["message"]

    listed = client.get(f"{API}/ab-tests", params={"status": "running"}).json()
    assert [t["id"] for t in listed] == [body["id"]]
    assert client.get(f"{API}/ab-tests", params={"model_type": "anomaly"}).json() == []
    assert client.get(f"{API}/ab-tests", params={"status": "paused"}).status_code == 422

    stopped = client.post(
        f"{API}/ab-test/{body['id']}/stop", json={"reason": "wrong split", "actor": "ann"}
    )
    assert stopped.status_code == 200
    assert (stopped.json()["status"], stopped.json()["stop_reason"]) == ("stopped", "wrong split")
    assert client.post(f"{API}/ab-test/{body['id']}/stop", json={"reason": "x"}).status_code == 409
    assert client.post(f"{API}/ab-test/999/stop", json={"reason": "x"}).status_code == 404
    assert client.post(f"{API}/ab-test/{body['id']}/stop", json={}).status_code == 422
    # a stopped test frees the slot: a new one may start, with an explicit design
    other = client.post(
        f"{API}/ab-test/start",
        json={
            "machine_id": pair.machine_id,
            "model_type": "baseline",
            "model_a_version": 2,
            "model_b_version": 1,
            "traffic_split": 0.3,
            "duration_days": 3,
            "sequential": False,
            "primary_metric": "rmse",
            "guardrails": ["mae", "nmbe"],
        },
    )
    assert other.status_code == 201, other.text
    assert (other.json()["model_a_version"], other.json()["traffic_split"]) == (2, 0.3)
    with session_scope(session_factory) as s:
        actions = s.scalars(
            select(AuditLog.action).where(AuditLog.entity_type == "ab_test").order_by(AuditLog.id)
        ).all()
    assert actions == ["ab_test_started", "ab_test_stopped", "ab_test_started"]


@pytest.mark.parametrize(
    ("change", "status", "field"),
    [
        ({"model_b_version": 7}, 422, "model_b_version"),
        ({"model_a_version": 2, "model_b_version": 2}, 422, "model_b_version"),
        ({"model_type": "anomaly"}, 422, "model_a_version"),  # no anomaly champion
        ({"model_type": "lstm"}, 422, "model type"),
        ({"guardrails": ["accuracy"]}, 422, "guardrails"),
        ({"primary_metric": "cost"}, 422, "tariff"),
        ({"traffic_split": 1.5}, 422, "traffic_split"),
        ({"machine_id": 999}, 404, "machine"),
        ({"colour": "red"}, 422, "colour"),
    ],
)
def test_bad_starts_are_refused_naming_the_problem(
    client: TestClient,
    session_factory: SessionFactory,
    clock: FrozenClock,
    change: dict[str, object],
    status: int,
    field: str,
) -> None:
    pair = make_pair(session_factory, clock)
    body = {"machine_id": pair.machine_id, "model_type": "baseline", **change}
    answer = client.post(f"{API}/ab-test/start", json=body)
    assert answer.status_code == status, answer.text
    assert field in answer.text


def test_a_version_of_another_machine_is_refused(
    client: TestClient, session_factory: SessionFactory, clock: FrozenClock
) -> None:
    """Version 3 exists only on the other machine: for this one it is unknown (422)."""
    pair = make_pair(session_factory, clock)
    with session_scope(session_factory, write=True) as s:
        other = make_machine(s, clock, name="Chiller 9").id
        for _ in range(3):
            register_baseline(s, clock, other)
    answer = client.post(
        f"{API}/ab-test/start",
        json={"machine_id": pair.machine_id, "model_type": "baseline", "model_b_version": 3},
    )
    assert answer.status_code == 422
    assert "has no baseline version 3" in answer.json()["error"]["message"]


def test_two_concurrent_starts_make_one_test_and_one_conflict(
    session_factory: SessionFactory, clock: FrozenClock, settings: Settings
) -> None:
    """Both threads start at once; whichever inserts second hits the partial unique index
    (PostgreSQL: it waits on the first's uncommitted index entry, then fails; SQLite: the
    write gate queues it behind the first) and gets a Conflict."""
    pair = make_pair(session_factory, clock)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def start() -> None:
        data = ABTestStart(machine_id=pair.machine_id, model_type="baseline")
        barrier.wait(timeout=10)
        try:
            with session_scope(session_factory, write=True) as s:
                service.start(session=s, data=data, settings=settings, clock=clock)
            outcomes.append("started")
        except Conflict:
            outcomes.append("conflict")

    threads = [threading.Thread(target=start) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["conflict", "started"]
    with session_scope(session_factory) as s:
        assert len(s.scalars(select(ABTest)).all()) == 1
