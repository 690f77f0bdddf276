"""The e-mail channel against a real local SMTP server (aiosmtpd)."""

from __future__ import annotations

import socket

from enms.alerts.notify.dispatch import dispatch
from enms.core.clock import FrozenClock
from enms.core.config import Settings
from enms.core.db import SessionFactory
from tests.alerts.notify.conftest import SmtpServer
from tests.alerts.notify.helpers import alert, deliveries, machine, notifying


def test_acceptance_an_email_reaches_the_local_smtp_server(
    session_factory: SessionFactory, settings: Settings, clock: FrozenClock, smtp_server: SmtpServer
) -> None:
    config = notifying(
        settings,
        smtp_host=smtp_server.host,
        smtp_port=smtp_server.port,
        email_from="enms@plant.example",
        email_to=["energy@plant.example", "maintenance@plant.example"],
        email_min_severity="critical",
        group_seconds=0,
    )
    first = machine(session_factory, clock, "Compressor 1", group="compressors")
    second = machine(session_factory, clock, "Compressor 2", group="compressors")
    drift = alert(session_factory, clock, first, severity="critical", message="leak: +12 % energy")
    quality = alert(
        session_factory,
        clock,
        second,
        model_type=None,
        alert_type="data_quality",
        message="meter stopped sending 7 h ago",
    )

    summary = dispatch(factory=session_factory, settings=config, clock=clock)

    assert summary["sent"] == 1
    (envelope,) = smtp_server.mailbox.envelopes
    assert envelope.mail_from == "enms@plant.example"
    assert sorted(envelope.rcpt_tos) == ["energy@plant.example", "maintenance@plant.example"]
    (message,) = smtp_server.mailbox.messages
    assert message["Subject"] == "[enms] CRITICAL: 2 alerts on group compressors"
    assert message["From"] == "enms@plant.example"
    assert message["Date"] is not None
    body = message.get_content()
    for expected in (
        "Compressor 1",
        "Compressor 2",
        "leak: +12 % energy",
        "meter stopped sending 7 h ago",
        "baseline",
        "data_quality",
        "drift",
        "critical",
        "warning",
        clock.now().isoformat(),
        f"/api/v1/alerts/{drift}",
        f"/api/v1/alerts/{quality}",
    ):
        assert expected in body, expected
    # the critical one first
    assert body.index(f"Alert {drift}") < body.index(f"Alert {quality}")
    (row,) = deliveries(session_factory)
    assert (row.channel, row.status, row.attempts) == ("email", "sent", 1)
    assert row.alert_ids == [drift, quality]
    assert "energy@plant.example" in row.target
    assert row.payload["subject"] == message["Subject"]


def test_an_unreachable_smtp_server_is_a_failed_delivery_after_retries(
    session_factory: SessionFactory, settings: Settings, clock: FrozenClock
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = notifying(
        settings,
        smtp_host="127.0.0.1",
        smtp_port=port,
        email_to=["energy@plant.example"],
        email_min_severity="warning",
        retries=2,
        group_seconds=0,
    )
    alert(session_factory, clock, machine(session_factory, clock, "Compressor 1"))

    summary = dispatch(factory=session_factory, settings=config, clock=clock)

    assert summary["failed"] == 1
    (row,) = deliveries(session_factory)
    assert (row.channel, row.status, row.attempts) == ("email", "failed", 3)
    assert row.last_error is not None
    assert "refused" in row.last_error.lower()
