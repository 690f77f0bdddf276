"""The e-mail channel against a real local SMTP server (aiosmtpd)."""

from __future__ import annotations

import socket
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from pydantic import SecretStr

from enms.alerts.notify.dispatch import dispatch
from enms.core.clock import FrozenClock
from enms.core.config import Settings
from enms.core.db import SessionFactory
from tests.alerts.notify.conftest import Mailbox, SmtpServer, free_port
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


class _Accounts:
    """An authenticator accepting one login and recording every attempt."""

    def __init__(self) -> None:
        self.tried: list[tuple[str, str]] = []

    def __call__(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        del server, session, envelope, mechanism
        assert isinstance(auth_data, LoginPassword)
        login, password = auth_data.login.decode(), auth_data.password.decode()
        self.tried.append((login, password))
        return AuthResult(success=(login, password) == ("enms", "right"), handled=False)


def test_smtp_login_is_used_and_a_refused_login_is_not_retried(
    session_factory: SessionFactory, settings: Settings, clock: FrozenClock
) -> None:
    accounts, mailbox, port = _Accounts(), Mailbox(), free_port()
    # plain-text AUTH on loopback only: the test server has no TLS certificate
    controller = Controller(
        mailbox,
        hostname="127.0.0.1",
        port=port,
        authenticator=accounts,
        auth_require_tls=False,
    )
    controller.start()
    try:
        machine_id = machine(session_factory, clock, "Compressor 1")
        common: dict[str, Any] = {
            "smtp_host": "127.0.0.1",
            "smtp_port": port,
            "smtp_username": "enms",
            "email_to": ["energy@plant.example"],
            "email_min_severity": "warning",
            "retries": 3,
            "group_seconds": 0,
        }
        alert(session_factory, clock, machine_id)
        wrong = notifying(settings, smtp_password=SecretStr("wrong"), **common)
        dispatch(factory=session_factory, settings=wrong, clock=clock)
        alert(session_factory, clock, machine_id, alert_type="degradation")
        right = notifying(settings, smtp_password=SecretStr("right"), **common)
        dispatch(factory=session_factory, settings=right, clock=clock)
    finally:
        controller.stop()

    # smtplib tries each mechanism the server offers (PLAIN, then LOGIN) before giving up
    assert set(accounts.tried) == {("enms", "wrong"), ("enms", "right")}
    assert accounts.tried[-1] == ("enms", "right")
    assert len(mailbox.envelopes) == 1
    refused, accepted = deliveries(session_factory)
    assert (refused.status, refused.attempts, refused.response_code) == ("failed", 1, 535)
    assert (accepted.status, accepted.attempts) == ("sent", 1)
    assert "right" not in accepted.target
    assert "wrong" not in (refused.last_error or "")
