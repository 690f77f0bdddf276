"""The audit trail of state-changing requests (who, role, key, address, what, outcome) with
its admin-only query, and the rate limits: a burst of training triggers from one key gets
429s beyond the limit while another key is unaffected."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from enms.api.app import create_app
from enms.auth.roles import Role
from enms.cli import cli
from enms.core.clock import FrozenClock
from enms.core.config import Settings
from tests.auth.conftest import Secured, make_keys


def test_each_state_changing_request_is_audited_with_who_and_outcome(secured: Secured) -> None:
    client = secured.client
    created = client.post(
        "/api/v1/machines", json={"name": "Press 1"}, headers=secured.auth(Role.operator)
    )
    assert created.status_code == 201
    machine_id = created.json()["id"]
    denied = client.delete(f"/api/v1/machines/{machine_id}", headers=secured.auth(Role.viewer))
    assert denied.status_code == 403
    anonymous = client.post("/api/v1/machines", json={"name": "Press 2"})
    assert anonymous.status_code == 401
    client.get("/api/v1/machines", headers=secured.auth(Role.viewer))  # reads are not audited

    rows = client.get("/api/v1/audit", headers=secured.auth(Role.admin)).json()
    requests = [r for r in rows if r["entity_type"] == "request"]
    summary = [
        (r["actor"], r["action"], r["details"]["status"], r["details"]["outcome"]) for r in requests
    ]
    assert summary == [
        ("anonymous", "POST /api/v1/machines", 401, "denied"),
        ("key:viewer-key", "DELETE /api/v1/machines/{machine_id}", 403, "denied"),
        ("key:operator-key", "POST /api/v1/machines", 201, "ok"),
    ]
    ok = requests[-1]
    assert ok["details"]["role"] == "operator"
    assert ok["details"]["key"] == "operator-key"
    assert ok["details"]["address"] == "testclient"
    assert ok["details"]["request_id"] == created.headers["x-request-id"]
    assert requests[1]["entity_id"] == f"machine_id={machine_id}"


def test_the_audit_query_filters_and_is_for_admins_only(secured: Secured) -> None:
    client = secured.client
    for name in ("A", "B"):
        client.post("/api/v1/machines", json={"name": name}, headers=secured.auth(Role.operator))
    client.post("/api/v1/machines", json={"name": "C"}, headers=secured.auth(Role.admin))
    assert client.get("/api/v1/audit", headers=secured.auth(Role.operator)).status_code == 403
    admin = secured.auth(Role.admin)
    by_operator = client.get("/api/v1/audit", params={"actor": "key:operator-key"}, headers=admin)
    assert [r["actor"] for r in by_operator.json()] == ["key:operator-key"] * 2
    machines = client.get(
        "/api/v1/audit", params={"action": "post /api/v1/machines"}, headers=admin
    )
    assert len(machines.json()) == 3
    later = client.get("/api/v1/audit", params={"from": "2100-01-01T00:00:00Z"}, headers=admin)
    assert later.json() == []
    bad = client.get("/api/v1/audit", params={"from": "yesterday"}, headers=admin)
    assert bad.status_code == 422
    assert "from" in bad.json()["error"]["message"]


def test_enms_audit_prints_the_trail(
    secured: Secured, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    secured.client.post(
        "/api/v1/machines", json={"name": "Press 1"}, headers=secured.auth(Role.operator)
    )
    monkeypatch.setenv("ENMS_DATA_DIR", str(settings.data_dir))
    base = ["--database-url", settings.database_url, "audit"]
    text = CliRunner().invoke(cli, base)
    assert text.exit_code == 0, text.output
    assert "key:operator-key" in text.output
    assert "POST /api/v1/machines" in text.output
    assert "201 ok" in text.output
    rows = json.loads(
        CliRunner().invoke(cli, [*base, "--actor", "key:operator-key", "--json"]).output
    )
    assert [r["action"] for r in rows] == ["POST /api/v1/machines"]


@pytest.fixture
def limited(settings: Settings, engine: Engine, clock: FrozenClock) -> Iterator[Secured]:
    """An application whose training triggers are limited to 5 per minute per caller."""
    strict = settings.model_copy(
        update={"rate_limits": settings.rate_limits.model_copy(update={"training_per_minute": 5})}
    )
    app = create_app(strict, engine=engine, clock=clock)
    keys = make_keys(app.state.session_factory, clock)
    with TestClient(app) as client:
        yield Secured(app=app, client=client, keys=keys)


def test_a_burst_of_training_triggers_from_one_key_is_limited_another_key_is_not(
    limited: Secured,
) -> None:
    client = limited.client
    machine = client.post(
        "/api/v1/machines", json={"name": "Press 1"}, headers=limited.auth(Role.admin)
    )
    trigger = {"machine_id": machine.json()["id"], "model_type": "baseline"}
    url = "/api/v1/model-performance/retrain/trigger"
    burst = [client.post(url, json=trigger, headers=limited.auth(Role.operator)) for _ in range(8)]
    statuses = [r.status_code for r in burst]
    assert 429 not in statuses[:5], statuses
    assert statuses[5:] == [429, 429, 429]
    refused = burst[-1]
    assert int(refused.headers["retry-after"]) >= 1
    assert "5 training requests per minute" in refused.json()["error"]["message"]
    # Another key is unaffected, and reads of the limited key still pass (other bucket).
    other = client.post(url, json=trigger, headers=limited.auth(Role.admin))
    assert other.status_code != 429
    assert client.get("/api/v1/machines", headers=limited.auth(Role.operator)).status_code == 200
    audit = client.get(
        "/api/v1/audit", params={"action": "retrain"}, headers=limited.auth(Role.admin)
    )
    outcomes = [r["details"]["outcome"] for r in audit.json() if r["actor"] == "key:operator-key"]
    assert outcomes.count("rate_limited") == 3
