"""``GET /api/v1/notifications/deliveries`` with its filters, and one delivery by id."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from enms.alerts.notify.dispatch import dispatch
from enms.core.clock import FrozenClock
from enms.core.config import Settings
from enms.core.db import SessionFactory
from tests.alerts.notify.conftest import Receiver, SmtpServer
from tests.alerts.notify.helpers import alert, machine, notifying

URL = "/api/v1/notifications/deliveries"


@pytest.fixture
def logged(
    session_factory: SessionFactory,
    settings: Settings,
    clock: FrozenClock,
    receiver_factory: Callable[[list[int]], Receiver],
    smtp_server: SmtpServer,
) -> dict[str, str]:
    """Three passes an hour apart: webhook sent + e-mail sent, then webhook failed, then a
    webhook sent. Returns the passes' times."""
    ok, broken = receiver_factory([200]), receiver_factory([400])
    both = notifying(
        settings,
        webhook_urls=[ok.url],
        smtp_host=smtp_server.host,
        smtp_port=smtp_server.port,
        email_to=["energy@plant.example"],
        email_min_severity="critical",
        group_seconds=0,
    )
    times = {}
    alert(session_factory, clock, machine(session_factory, clock, "C1"), severity="critical")
    times["first"] = clock.now().isoformat()
    dispatch(factory=session_factory, settings=both, clock=clock)
    clock.advance(timedelta(hours=1))
    alert(session_factory, clock, machine(session_factory, clock, "C2"))
    times["second"] = clock.now().isoformat()
    failing = notifying(settings, webhook_urls=[broken.url], group_seconds=0)
    dispatch(factory=session_factory, settings=failing, clock=clock)
    clock.advance(timedelta(hours=1))
    alert(session_factory, clock, machine(session_factory, clock, "C3"))
    times["third"] = clock.now().isoformat()
    dispatch(factory=session_factory, settings=both, clock=clock)
    return times


def test_list_newest_first_and_filters(client: TestClient, logged: dict[str, str]) -> None:
    everything = client.get(URL)
    assert everything.status_code == 200
    items = everything.json()["items"]
    assert [(i["channel"], i["status"]) for i in items] == [
        ("webhook", "sent"),
        ("webhook", "failed"),
        ("email", "sent"),
        ("webhook", "sent"),
    ]
    assert [i["created_at"] for i in items] == sorted(
        (i["created_at"] for i in items), reverse=True
    )

    failed = client.get(URL, params={"status": "failed"}).json()["items"]
    assert [(i["status"], i["response_code"], i["attempts"]) for i in failed] == [
        ("failed", 400, 1)
    ]
    emails = client.get(URL, params={"channel": "email"}).json()["items"]
    assert [i["channel"] for i in emails] == ["email"]
    assert emails[0]["payload"]["subject"].startswith("[enms] CRITICAL")
    window = client.get(URL, params={"from": logged["second"], "to": logged["third"]})
    assert [i["status"] for i in window.json()["items"]] == ["failed"]
    since = client.get(URL, params={"from": logged["second"], "channel": "webhook"})
    assert len(since.json()["items"]) == 2
    limited = client.get(URL, params={"limit": 1}).json()
    assert (limited["count"], limited["limit"]) == (1, 1)
    assert limited["items"][0]["id"] == items[0]["id"]


def test_one_delivery_by_id_and_404(client: TestClient, logged: dict[str, str]) -> None:
    newest = client.get(URL, params={"limit": 1}).json()["items"][0]
    one = client.get(f"{URL}/{newest['id']}")
    assert one.status_code == 200
    assert one.json() == newest
    missing = client.get(f"{URL}/999999")
    assert missing.status_code == 404
    assert "999999" in missing.json()["error"]["message"]


BAD_FILTERS: list[tuple[dict[str, str | int], str]] = [
    ({"status": "lost"}, "status"),
    ({"channel": "pigeon"}, "channel"),
    ({"from": "yesterday"}, "from"),
    ({"from": "2026-01-02", "to": "2026-01-01"}, "from"),
    ({"limit": 0}, "limit"),
    ({"limit": "many"}, "limit"),
]


def test_bad_filters_are_422_naming_the_field(client: TestClient) -> None:
    for params, named in BAD_FILTERS:
        response = client.get(URL, params=params)
        assert response.status_code == 422, params
        assert named in response.json()["error"]["message"], params
