"""Grouping per machine group within group_seconds, and routing by severity."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import update

from enms.alerts.models import ModelAlert
from enms.alerts.notify.dispatch import dispatch
from enms.core.clock import FrozenClock
from enms.core.config import Settings
from enms.core.db import SessionFactory, session_scope
from tests.alerts.notify.conftest import Receiver, SmtpServer
from tests.alerts.notify.helpers import alert, alert_row, deliveries, machine, notifying


def test_alerts_of_a_group_within_the_interval_go_out_as_one_notification(
    session_factory: SessionFactory, settings: Settings, clock: FrozenClock, receiver: Receiver
) -> None:
    config = notifying(
        settings, webhook_urls=[receiver.url], webhook_format="generic", group_seconds=300
    )
    c1 = machine(session_factory, clock, "Compressor 1", group="compressors")
    c2 = machine(session_factory, clock, "Compressor 2", group="compressors")
    chiller = machine(session_factory, clock, "Chiller 1", machine_type="chiller")
    first = alert(session_factory, clock, c1)
    clock.advance(timedelta(seconds=60))
    second = alert(session_factory, clock, c2)
    third = alert(session_factory, clock, c1, model_type="forecaster", severity="critical")
    other = alert(session_factory, clock, chiller)

    # 60 s after the first alert: nothing is due yet
    summary = dispatch(factory=session_factory, settings=config, clock=clock)
    assert receiver.requests == []
    assert deliveries(session_factory) == []
    assert summary["groups_waiting"] == 2
    assert alert_row(session_factory, first).notified_at is None

    # 300 s after the first: the compressors are due; the chiller (opened at 60 s) is not
    clock.advance(timedelta(seconds=240))
    dispatch(factory=session_factory, settings=config, clock=clock)
    (request,) = receiver.requests
    body = json.loads(request.body)
    assert body["group"] == "compressors"
    assert body["severity"] == "critical"
    assert sorted(a["id"] for a in body["alerts"]) == sorted([first, second, third])
    assert body["alerts"][0]["id"] == third  # most severe first

    clock.advance(timedelta(seconds=60))
    dispatch(factory=session_factory, settings=config, clock=clock)
    assert len(receiver.requests) == 2
    body = json.loads(receiver.requests[1].body)
    assert (body["group"], [a["id"] for a in body["alerts"]]) == ("chiller", [other])
    assert [row.group_key for row in deliveries(session_factory)] == ["compressors", "chiller"]


def test_routing_by_severity_and_escalation_sends_again_now_also_by_email(
    session_factory: SessionFactory,
    settings: Settings,
    clock: FrozenClock,
    receiver: Receiver,
    smtp_server: SmtpServer,
) -> None:
    config = notifying(
        settings,
        webhook_urls=[receiver.url],
        webhook_min_severity="warning",
        smtp_host=smtp_server.host,
        smtp_port=smtp_server.port,
        email_to=["energy@plant.example"],
        email_min_severity="critical",
        group_seconds=300,
    )
    machine_id = machine(session_factory, clock, "Compressor 1")
    alert_id = alert(session_factory, clock, machine_id, severity="warning")
    clock.advance(timedelta(seconds=300))

    dispatch(factory=session_factory, settings=config, clock=clock)
    assert len(receiver.requests) == 1
    assert smtp_server.mailbox.envelopes == []  # a warning is not e-mailed
    assert alert_row(session_factory, alert_id).notified_severity == "warning"

    # a repeat at the same severity is not news
    clock.advance(timedelta(seconds=60))
    assert alert(session_factory, clock, machine_id, severity="warning") == alert_id
    dispatch(factory=session_factory, settings=config, clock=clock)
    assert len(receiver.requests) == 1

    # escalation to critical: due at once (no group wait), to the webhook and by e-mail
    clock.advance(timedelta(seconds=60))
    assert alert(session_factory, clock, machine_id, severity="critical") == alert_id
    summary = dispatch(factory=session_factory, settings=config, clock=clock)
    assert summary["sent"] == 2
    assert len(receiver.requests) == 2
    (message,) = smtp_server.mailbox.messages
    assert message["Subject"] == "[enms] CRITICAL: 1 alert on group compressor"
    assert "escalated" in message.get_content()
    stored = alert_row(session_factory, alert_id)
    assert (stored.notified_severity, stored.notified_at) == ("critical", clock.now())
    rows = deliveries(session_factory)
    assert [(r.channel, r.severity) for r in rows] == [
        ("webhook", "warning"),
        ("webhook", "critical"),
        ("email", "critical"),
    ]


def test_without_any_channel_alerts_are_marked_notified_and_nothing_is_logged(
    session_factory: SessionFactory, settings: Settings, clock: FrozenClock, receiver: Receiver
) -> None:
    machine_id = machine(session_factory, clock, "Compressor 1")
    old = alert(session_factory, clock, machine_id, severity="critical")

    summary = dispatch(factory=session_factory, settings=notifying(settings), clock=clock)

    assert summary == {"channels": 0, "pending": 1, "marked_without_channel": 1}
    assert alert_row(session_factory, old).notified_at == clock.now()
    assert deliveries(session_factory) == []
    # enabling a channel later does not flood it with the old alert
    config = notifying(settings, webhook_urls=[receiver.url], group_seconds=0)
    dispatch(factory=session_factory, settings=config, clock=clock.advance(timedelta(hours=1)))
    assert receiver.requests == []


def test_a_resolved_alert_is_not_sent(
    session_factory: SessionFactory, settings: Settings, clock: FrozenClock, receiver: Receiver
) -> None:
    alert_id = alert(session_factory, clock, machine(session_factory, clock, "Compressor 1"))
    with session_scope(session_factory, write=True) as session:
        session.execute(
            update(ModelAlert)
            .where(ModelAlert.id == alert_id)
            .values(state="resolved", resolved_at=clock.now())
        )
    config = notifying(settings, webhook_urls=[receiver.url], group_seconds=0)

    assert dispatch(factory=session_factory, settings=config, clock=clock)["pending"] == 0
    assert receiver.requests == []


def test_an_escalation_is_due_at_once_even_within_the_group_interval(
    session_factory: SessionFactory, settings: Settings, clock: FrozenClock, receiver: Receiver
) -> None:
    machine_id = machine(session_factory, clock, "Compressor 1")
    alert_id = alert(session_factory, clock, machine_id, severity="warning")
    # notified as a warning right away (no channel yet), then a channel is configured
    dispatch(factory=session_factory, settings=notifying(settings), clock=clock)
    config = notifying(settings, webhook_urls=[receiver.url], group_seconds=3600)
    clock.advance(timedelta(seconds=10))
    assert alert(session_factory, clock, machine_id, severity="critical") == alert_id

    summary = dispatch(factory=session_factory, settings=config, clock=clock)

    assert summary["groups_sent"] == 1
    (request,) = receiver.requests
    assert "CRITICAL: 1 alert" in json.loads(request.body)["text"]
