"""Silenced alerts send nothing (no HTTP, no SMTP) and are logged ``silenced``."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from enms.alerts.models import AlertSilence
from enms.alerts.notify.dispatch import dispatch
from enms.core.clock import FrozenClock
from enms.core.config import Settings
from enms.core.db import SessionFactory, session_scope
from tests.alerts.notify.conftest import Receiver, SmtpServer
from tests.alerts.notify.helpers import alert, alert_row, deliveries, machine, notifying


def _silence(
    factory: SessionFactory,
    clock: FrozenClock,
    *,
    machine_id: int | None,
    alert_type: str | None = None,
    expires_at: datetime | None = None,
) -> int:
    with session_scope(factory, write=True) as session:
        silence = AlertSilence(
            machine_id=machine_id,
            model_type=None,
            alert_type=alert_type,
            author="ops@plant",
            reason="planned maintenance",
            created_at=clock.now(),
            expires_at=expires_at or clock.now() + timedelta(hours=4),
        )
        session.add(silence)
        session.flush()
        return silence.id


def _both_channels(settings: Settings, receiver: Receiver, smtp_server: SmtpServer) -> Settings:
    return notifying(
        settings,
        webhook_urls=[receiver.url],
        smtp_host=smtp_server.host,
        smtp_port=smtp_server.port,
        email_to=["energy@plant.example"],
        email_min_severity="warning",
        group_seconds=0,
    )


def test_acceptance_a_silenced_alert_sends_nothing_and_is_logged_silenced(
    session_factory: SessionFactory,
    settings: Settings,
    clock: FrozenClock,
    receiver: Receiver,
    smtp_server: SmtpServer,
) -> None:
    config = _both_channels(settings, receiver, smtp_server)
    machine_id = machine(session_factory, clock, "Compressor 1")
    silence_id = _silence(session_factory, clock, machine_id=machine_id, alert_type="drift")
    alert_id = alert(session_factory, clock, machine_id, severity="critical")

    summary = dispatch(factory=session_factory, settings=config, clock=clock)

    assert receiver.requests == []
    assert smtp_server.mailbox.envelopes == []
    assert summary["silenced"] == 2
    assert summary["sent"] == 0
    rows = deliveries(session_factory)
    assert sorted(row.channel for row in rows) == ["email", "webhook"]
    for row in rows:
        assert (row.status, row.attempts, row.alert_ids) == ("silenced", 0, [alert_id])
        assert row.payload == {"silenced": [{"alert_id": alert_id, "silence_id": silence_id}]}
    assert alert_row(session_factory, alert_id).notified_at == clock.now()
    # marked notified: a later pass does not send it either
    dispatch(factory=session_factory, settings=config, clock=clock.advance(timedelta(hours=1)))
    assert receiver.requests == []
    assert smtp_server.mailbox.envelopes == []


def test_only_the_silenced_alerts_of_a_group_are_held_back(
    session_factory: SessionFactory,
    settings: Settings,
    clock: FrozenClock,
    receiver: Receiver,
    smtp_server: SmtpServer,
) -> None:
    config = notifying(
        settings, webhook_urls=[receiver.url], webhook_format="generic", group_seconds=0
    )
    quiet = machine(session_factory, clock, "Compressor 1", group="air")
    loud = machine(session_factory, clock, "Compressor 2", group="air")
    _silence(session_factory, clock, machine_id=quiet)
    # an expired silence of the other machine mutes nothing
    _silence(session_factory, clock, machine_id=loud, expires_at=clock.now())
    muted = alert(session_factory, clock, quiet)
    sent = alert(session_factory, clock, loud)

    dispatch(factory=session_factory, settings=config, clock=clock)

    (request,) = receiver.requests
    assert [a["id"] for a in json.loads(request.body)["alerts"]] == [sent]
    statuses = {row.status: row.alert_ids for row in deliveries(session_factory)}
    assert statuses == {"sent": [sent], "silenced": [muted]}
