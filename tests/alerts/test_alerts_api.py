"""The alert routes: active alerts (seed contract), history filters, transitions, silences,
and 4xx answers that name the problem."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from enms.alerts.conditions import raise_condition
from enms.core.clock import FrozenClock
from enms.core.db import SessionFactory, session_scope
from enms.registry.models import AuditLog
from tests.factories import make_machine

API = "/api/v1"


def _raise(
    factory: SessionFactory,
    clock: FrozenClock,
    machine_id: int,
    *,
    model_type: str | None = "baseline",
    alert_type: str = "drift",
    severity: str = "warning",
) -> int:
    with session_scope(factory, write=True) as session:
        return raise_condition(
            session,
            machine_id=machine_id,
            model_type=model_type,
            alert_type=alert_type,
            severity=severity,
            message=f"{alert_type} {severity}",
            details={},
            now=clock.now(),
        ).alert_id


def _machines(factory: SessionFactory, clock: FrozenClock) -> tuple[int, int]:
    with session_scope(factory, write=True) as session:
        return make_machine(session, clock).id, make_machine(session, clock, name="Chiller 2").id


def _error(response: Any, status: int) -> str:
    assert response.status_code == status, response.text
    message: str = response.json()["error"]["message"]
    return message


def test_active_is_a_list_ordered_by_severity_then_age(
    client: TestClient, session_factory: SessionFactory, clock: FrozenClock
) -> None:
    assert client.get(f"{API}/model-performance/alerts/active").json() == []
    one, two = _machines(session_factory, clock)
    old_warning = _raise(session_factory, clock, one)
    clock.advance(timedelta(hours=1))
    old_critical = _raise(
        session_factory, clock, two, alert_type="degradation", severity="critical"
    )
    clock.advance(timedelta(hours=1))
    new_warning = _raise(session_factory, clock, two, model_type=None, alert_type="data_quality")
    clock.advance(timedelta(hours=1))
    new_critical = _raise(
        session_factory, clock, one, alert_type="degradation", severity="critical"
    )
    resolved = _raise(session_factory, clock, one, model_type="anomaly", alert_type="anomaly")
    body = {"by": "ana", "note": "false alarm"}
    assert client.post(f"{API}/alerts/{resolved}/resolve", json=body).status_code == 200

    response = client.get(f"{API}/model-performance/alerts/active")
    assert response.status_code == 200
    alerts = response.json()
    assert [a["id"] for a in alerts] == [old_critical, new_critical, old_warning, new_warning]
    first = alerts[0]
    assert first["machine_name"] == "Chiller 2"
    assert (first["severity"], first["state"], first["silenced"]) == ("critical", "open", False)
    machine_level = alerts[-1]
    assert machine_level["model_type"] is None
    assert machine_level["model_version"] is None

    def ids(**query: Any) -> list[int]:
        got = client.get(f"{API}/model-performance/alerts/active", params=query)
        assert got.status_code == 200, got.text
        return [a["id"] for a in got.json()]

    assert ids(machine_id=one) == [new_critical, old_warning]
    assert ids(severity="warning") == [old_warning, new_warning]
    assert ids(model_type="baseline", machine_id=two) == [old_critical]
    assert ids(model_type="forecast_arima") == []


def test_bad_query_values_are_422_naming_the_parameter(client: TestClient) -> None:
    cases = [
        ("/model-performance/alerts/active?severity=fatal", "severity: 'fatal'"),
        ("/model-performance/alerts/active?model_type=lstm", "model_type: 'lstm'"),
        ("/model-performance/alerts/active?machine_id=abc", "machine_id"),
        ("/alerts?state=closed", "state: 'closed' is not one of open, acknowledged"),
        ("/alerts?from=yesterday", "from: 'yesterday' is not an ISO 8601"),
        ("/alerts?to=2026-13-01", "to: '2026-13-01'"),
        ("/alerts?from=2026-02-01&to=2026-01-01", "from: 2026-02-01T00:00:00+00:00 is not before"),
        ("/alerts?alert_type=fire", "alert_type: 'fire'"),
        ("/alerts?limit=0", "limit"),
    ]
    for path, expected in cases:
        assert expected in _error(client.get(f"{API}{path}"), 422), path


def test_history_filters_by_state_and_time(
    client: TestClient, session_factory: SessionFactory, clock: FrozenClock
) -> None:
    one, two = _machines(session_factory, clock)
    start = clock.now()
    first = _raise(session_factory, clock, one)
    clock.advance(timedelta(days=1))
    second = _raise(session_factory, clock, two, alert_type="training_failed")
    clock.advance(timedelta(days=1))
    third = _raise(session_factory, clock, two)
    assert client.post(f"{API}/alerts/{second}/acknowledge", json={"by": "ana"}).status_code == 200
    assert (
        client.post(
            f"{API}/alerts/{first}/resolve", json={"by": "ben", "note": "fixed"}
        ).status_code
        == 200
    )

    def ids(**query: Any) -> list[int]:
        got = client.get(f"{API}/alerts", params=query)
        assert got.status_code == 200, got.text
        return [a["id"] for a in got.json()]

    assert ids() == [third, second, first]  # newest first
    assert ids(state="resolved") == [first]
    assert ids(state="acknowledged") == [second]
    assert ids(state="unresolved") == [third, second]
    day = timedelta(days=1)
    assert ids(**{"from": (start + day).isoformat()}) == [third, second]
    assert ids(**{"to": (start + day).isoformat()}) == [first]  # [from, to): `to` excluded
    assert ids(**{"from": start.isoformat(), "to": (start + 2 * day).isoformat()}) == [
        second,
        first,
    ]
    assert ids(alert_type="training_failed") == [second]
    assert ids(machine_id=two, limit=1) == [third]


def test_one_alert_with_history_transitions_and_their_errors(
    client: TestClient, session_factory: SessionFactory, clock: FrozenClock
) -> None:
    one, _ = _machines(session_factory, clock)
    alert_id = _raise(session_factory, clock, one)
    assert "no alert with id 4242" in _error(client.get(f"{API}/alerts/4242"), 404)
    missing = client.post(f"{API}/alerts/4242/acknowledge", json={"by": "ana"})
    assert "no alert with id 4242" in _error(missing, 404)
    assert "body.by" in _error(client.post(f"{API}/alerts/{alert_id}/acknowledge", json={}), 422)
    no_note = client.post(f"{API}/alerts/{alert_id}/resolve", json={"by": "ana"})
    assert "body.note" in _error(no_note, 422)

    clock.advance(timedelta(minutes=5))
    acked = client.post(f"{API}/alerts/{alert_id}/acknowledge", json={"by": "ana", "note": "on it"})
    assert acked.status_code == 200
    assert acked.json()["acknowledged_at"] == clock.now().isoformat().replace("+00:00", "Z")
    again = client.post(f"{API}/alerts/{alert_id}/acknowledge", json={"by": "ben"})
    assert "is acknowledged" in _error(again, 409)
    body = {"by": "ana", "note": "recalibrated the meter"}
    assert client.post(f"{API}/alerts/{alert_id}/resolve", json=body).status_code == 200
    assert "is resolved" in _error(client.post(f"{API}/alerts/{alert_id}/resolve", json=body), 409)

    detail = client.get(f"{API}/alerts/{alert_id}").json()
    assert detail["state"] == "resolved"
    assert [(e["rule"], e["actor"]) for e in detail["history"]] == [
        ("alert_opened", "system"),
        ("acknowledged", "ana"),
        ("resolved_by_user", "ana"),
    ]
    assert detail["history"][2]["reason"] == "recalibrated the meter"


def test_silences_create_list_end_and_mark_alerts(
    client: TestClient, session_factory: SessionFactory, clock: FrozenClock
) -> None:
    one, two = _machines(session_factory, clock)
    muted = _raise(session_factory, clock, one)
    loud = _raise(session_factory, clock, two)
    base = {"author": "ana", "reason": "meter maintenance"}
    bad = [
        ({**base, "machine_id": one}, "exactly one of expires_at and duration_hours"),
        ({**base, "duration_hours": 2, "expires_at": "2030-01-01"}, "exactly one of"),
        ({**base, "duration_hours": -1}, "duration_hours"),
        ({**base, "duration_hours": 1e17}, "body.duration_hours: Input should be less than"),
        ({**base, "expires_at": "2020-01-01T00:00:00"}, "expires_at: 2020-01-01T00:00:00+00:00"),
        ({**base, "duration_hours": 1, "model_type": "lstm"}, "model_type: 'lstm'"),
        ({**base, "duration_hours": 1, "alert_type": "fire"}, "alert_type: 'fire'"),
        ({**base, "duration_hours": 1, "author": ""}, "body.author"),
        ({**base, "duration_hours": 1, "reason": "   "}, "reason: must not be empty"),
    ]
    for payload, expected in bad:
        assert expected in _error(client.post(f"{API}/alert-silences", json=payload), 422), payload
    unknown = client.post(
        f"{API}/alert-silences", json={**base, "machine_id": 99, "duration_hours": 1}
    )
    assert "no machine with id 99" in _error(unknown, 404)

    created = client.post(
        f"{API}/alert-silences", json={**base, "machine_id": one, "duration_hours": 4}
    )
    assert created.status_code == 201, created.text
    silence = created.json()
    assert silence["machine_name"] == "Compressor 1"
    assert silence["active"] is True
    assert silence["expires_at"] == (clock.now() + timedelta(hours=4)).isoformat().replace(
        "+00:00", "Z"
    )
    flags = {
        a["id"]: a["silenced"] for a in client.get(f"{API}/model-performance/alerts/active").json()
    }
    assert flags == {muted: True, loud: False}
    assert client.get(f"{API}/alerts/{muted}").json()["silenced"] is True
    listed = client.get(f"{API}/alert-silences").json()
    assert [s["id"] for s in listed] == [silence["id"]]

    clock.advance(timedelta(hours=1))
    ended = client.delete(f"{API}/alert-silences/{silence['id']}", params={"by": "ben"})
    assert ended.status_code == 200
    assert ended.json()["active"] is False
    assert "already ended" in _error(client.delete(f"{API}/alert-silences/{silence['id']}"), 409)
    assert "no alert silence with id 77" in _error(client.delete(f"{API}/alert-silences/77"), 404)
    assert client.get(f"{API}/alert-silences").json() == []
    everything = client.get(f"{API}/alert-silences", params={"active": "false"}).json()
    assert [(s["id"], s["ended_at"] is not None) for s in everything] == [(silence["id"], True)]
    assert client.get(f"{API}/alerts/{muted}").json()["silenced"] is False
    with session_scope(session_factory) as session:
        audited = session.execute(
            select(AuditLog.action, AuditLog.actor, AuditLog.entity_id)
            .where(AuditLog.entity_type == "alert_silence")
            .order_by(AuditLog.id)
        ).all()
    assert [tuple(row) for row in audited] == [
        ("silence_created", "ana", str(silence["id"])),
        ("silence_ended", "ben", str(silence["id"])),
    ]
