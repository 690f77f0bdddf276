"""The webhook channel against a real local HTTP receiver: signature, retries, the log."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
from collections.abc import Callable
from datetime import timedelta

from pydantic import SecretStr

from enms.alerts.notify.dispatch import dispatch
from enms.alerts.notify.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify_signature
from enms.core.clock import FrozenClock
from enms.core.config import Settings
from enms.core.db import SessionFactory
from tests.alerts.notify.conftest import Receiver
from tests.alerts.notify.helpers import alert, alert_row, deliveries, machine, notifying

SECRET = "whsec-test-4f1c"


def test_acceptance_signed_webhook_retried_after_500_and_logged(
    session_factory: SessionFactory,
    settings: Settings,
    clock: FrozenClock,
    receiver_factory: Callable[[list[int]], Receiver],
) -> None:
    receiver = receiver_factory([500, 200])
    config = notifying(
        settings,
        webhook_urls=[receiver.url],
        webhook_format="generic",
        webhook_secret=SecretStr(SECRET),
        retries=3,
        group_seconds=0,
    )
    machine_id = machine(session_factory, clock, "Compressor 1")
    alert_id = alert(session_factory, clock, machine_id, severity="critical")

    summary = dispatch(factory=session_factory, settings=config, clock=clock)

    assert summary["sent"] == 1
    assert len(receiver.requests) == 2  # the 500, then the retry that got 200
    for request in receiver.requests:
        header = request.headers[SIGNATURE_HEADER.lower()]
        assert verify_signature(SECRET, header, request.body, clock.now())
        # independently of our helper: t=<unix>,v1=hex(HMAC-SHA256(secret, "<t>.<body>"))
        fields = dict(part.split("=", 1) for part in header.split(","))
        assert fields["t"] == request.headers[TIMESTAMP_HEADER.lower()]
        assert int(fields["t"]) == int(clock.now().timestamp())
        expected = hmac.new(
            SECRET.encode(), fields["t"].encode() + b"." + request.body, hashlib.sha256
        ).hexdigest()
        assert hmac.compare_digest(fields["v1"], expected)
        assert not verify_signature("wrong secret", header, request.body, clock.now())
        assert not verify_signature(SECRET, header, request.body + b" ", clock.now())
        assert not verify_signature(
            SECRET, header, request.body, clock.now() + timedelta(minutes=10)
        )
        assert request.headers["content-type"].startswith("application/json")
    body = json.loads(receiver.requests[1].body)
    assert [a["id"] for a in body["alerts"]] == [alert_id]
    assert body["severity"] == "critical"

    (row,) = deliveries(session_factory)
    assert (row.channel, row.status, row.attempts, row.response_code) == ("webhook", "sent", 2, 200)
    assert row.alert_ids == [alert_id]
    assert row.last_error is None
    assert row.target == receiver.url
    assert SECRET not in json.dumps(row.payload)
    assert SECRET not in row.target
    stored = alert_row(session_factory, alert_id)
    assert stored.notified_at == clock.now()
    assert stored.notified_severity == "critical"
    # notified: the next pass sends nothing more
    assert dispatch(factory=session_factory, settings=config, clock=clock)["pending"] == 0
    assert len(receiver.requests) == 2


def test_a_receiver_that_always_fails_gets_one_plus_retries_attempts(
    session_factory: SessionFactory,
    settings: Settings,
    clock: FrozenClock,
    receiver_factory: Callable[[list[int]], Receiver],
) -> None:
    receiver = receiver_factory([500])
    config = notifying(settings, webhook_urls=[receiver.url], retries=2, group_seconds=0)
    alert(session_factory, clock, machine(session_factory, clock, "Compressor 1"))

    summary = dispatch(factory=session_factory, settings=config, clock=clock)

    assert summary["failed"] == 1
    assert len(receiver.requests) == 3
    (row,) = deliveries(session_factory)
    assert (row.status, row.attempts, row.response_code) == ("failed", 3, 500)
    assert row.last_error is not None
    assert "500" in row.last_error
    assert row.sent_at is None


def test_a_4xx_other_than_429_is_not_retried_but_429_is(
    session_factory: SessionFactory,
    settings: Settings,
    clock: FrozenClock,
    receiver_factory: Callable[[list[int]], Receiver],
) -> None:
    bad_request = receiver_factory([400])
    throttled = receiver_factory([429, 429, 200])
    config = notifying(
        settings, webhook_urls=[bad_request.url, throttled.url], retries=3, group_seconds=0
    )
    alert(session_factory, clock, machine(session_factory, clock, "Compressor 1"))

    dispatch(factory=session_factory, settings=config, clock=clock)

    assert len(bad_request.requests) == 1
    assert len(throttled.requests) == 3
    rows = {row.target: row for row in deliveries(session_factory)}
    first, second = rows[bad_request.url], rows[throttled.url]
    assert (first.status, first.attempts, first.response_code) == ("failed", 1, 400)
    assert (second.status, second.attempts, second.response_code) == ("sent", 3, 200)


def test_a_refused_connection_is_retried_and_logged_without_a_code(
    session_factory: SessionFactory, settings: Settings, clock: FrozenClock
) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = notifying(
        settings, webhook_urls=[f"http://127.0.0.1:{port}/hook"], retries=1, group_seconds=0
    )
    alert(session_factory, clock, machine(session_factory, clock, "Compressor 1"))

    dispatch(factory=session_factory, settings=config, clock=clock)

    (row,) = deliveries(session_factory)
    assert (row.status, row.attempts, row.response_code) == ("failed", 2, None)
    assert row.last_error is not None
    assert "connection" in row.last_error


def test_a_receiver_that_never_answers_times_out_and_is_retried(
    session_factory: SessionFactory, settings: Settings, clock: FrozenClock
) -> None:
    with socket.socket() as silent:  # accepts connections (backlog) but never replies
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        config = notifying(
            settings,
            webhook_urls=[f"http://127.0.0.1:{port}/hook"],
            webhook_timeout_seconds=0.2,
            retries=1,
            group_seconds=0,
        )
        alert(session_factory, clock, machine(session_factory, clock, "Compressor 1"))

        dispatch(factory=session_factory, settings=config, clock=clock)

    (row,) = deliveries(session_factory)
    assert (row.status, row.attempts, row.response_code) == ("failed", 2, None)
    assert row.last_error is not None
    assert "timed out" in row.last_error


def test_a_malformed_url_fails_alone_and_the_other_channels_still_get_it(
    session_factory: SessionFactory, settings: Settings, clock: FrozenClock, receiver: Receiver
) -> None:
    config = notifying(
        settings, webhook_urls=["hooks.example/no-scheme", receiver.url], group_seconds=0
    )
    alert(session_factory, clock, machine(session_factory, clock, "Compressor 1"))

    summary = dispatch(factory=session_factory, settings=config, clock=clock)

    assert (summary["sent"], summary["failed"]) == (1, 1)
    assert len(receiver.requests) == 1
    broken, working = deliveries(session_factory)
    assert (broken.status, broken.attempts) == ("failed", 1)
    assert broken.last_error is not None
    assert "invalid webhook URL" in broken.last_error
    assert working.status == "sent"
