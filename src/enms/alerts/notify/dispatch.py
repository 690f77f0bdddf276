"""Sends the notifications that are due (the second half of the ``alert_maintenance`` job).

One pass:

1. a short *read* transaction takes the pending alerts (never notified, or escalated from a
   notified warning to critical) with their machine group and active silence
   (:mod:`enms.alerts.notify.grouping`);
2. outside any transaction, for every due machine group: the group's silenced alerts are
   not sent (logged ``silenced`` per routed channel, no network traffic at all); the others
   become one notification sent to every channel whose minimum severity the group's highest
   severity reaches (:mod:`enms.alerts.notify.routing`), each with its retries;
3. a short *write* transaction logs every delivery and marks the due alerts notified.

Delivery is at least once: a crash between 2 and 3 leaves the alerts pending, and the next
pass sends them again. A delivery that failed after all its attempts is logged ``failed`` and
its alerts count as notified (later passes do not re-send; the log shows the failure);
alerts that reach no channel's minimum are marked notified too (an escalation to critical is
pending again). With **no channel configured at all**, every pending alert is marked notified
and nothing is logged, so enabling a channel later does not flood it with old alerts.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from enms.alerts.notify import mail, webhook
from enms.alerts.notify.attempts import MAX_ERROR_CHARS
from enms.alerts.notify.deliveries import Result, record
from enms.alerts.notify.grouping import Batch, Pending, batches, read_pending
from enms.alerts.notify.payloads import (
    Notice,
    email_body,
    email_subject,
    webhook_payload,
)
from enms.alerts.notify.routing import Channel, configured, highest, routed
from enms.core.clock import Clock
from enms.core.config import NotificationSettings, Settings
from enms.core.db import SessionFactory, session_scope

MAX_LISTED = 50
log = logging.getLogger(__name__)


def dispatch(*, factory: SessionFactory, settings: Settings, clock: Clock) -> dict[str, Any]:
    """Group the alerts not yet notified, send them to the routed channels, log deliveries."""
    config = settings.notifications
    now = clock.now()
    channels = configured(config)
    with session_scope(factory) as session:
        pending = read_pending(session, now=now)
    if not channels:
        if pending:
            with session_scope(factory, write=True) as session:
                record(session, results=[], notified=[p.alert for p in pending], now=now)
        return {"channels": 0, "pending": len(pending), "marked_without_channel": len(pending)}
    grouped = batches(pending, group_seconds=config.group_seconds)
    due = [batch for batch in grouped if batch.due(now)]
    results: list[Result] = []
    for batch in due:
        results += _deliver(batch, channels, config, clock)
    ids: list[int] = []
    if due:  # no write transaction (no SQLite write lock) when nothing was due
        with session_scope(factory, write=True) as session:
            ids = record(
                session,
                results=results,
                notified=[p.alert for batch in due for p in batch.pending],
                now=clock.now(),
            )
    waiting = [batch for batch in grouped if not batch.due(now)]
    next_due = min((b.due_at for b in waiting), default=None)
    return {
        "channels": len(channels),
        "pending": len(pending),
        "groups_sent": len(due),
        "groups_waiting": len(waiting),
        "next_due": next_due.isoformat() if next_due is not None else None,
        "alerts_notified": sum(len(batch.pending) for batch in due),
        "sent": sum(r.status == "sent" for r in results),
        "failed": sum(r.status == "failed" for r in results),
        "silenced": sum(r.status == "silenced" for r in results),
        "delivery_ids": ids[:MAX_LISTED],
    }


def _deliver(
    batch: Batch, channels: list[Channel], config: NotificationSettings, clock: Clock
) -> list[Result]:
    active = [p.alert for p in batch.pending if p.silence_id is None]
    muted = [p for p in batch.pending if p.silence_id is not None]
    results: list[Result] = []
    if active:
        notice = Notice(batch.group, highest([a.severity for a in active]), tuple(active))
        for channel in routed(channels, notice.severity):
            results.append(_send(channel, notice, config, clock))
    if muted:
        severity = highest([p.alert.severity for p in muted])
        for channel in routed(channels, severity):
            results.append(_silenced(channel, batch.group, severity, muted))
    return results


def _silenced(channel: Channel, group: str, severity: str, muted: list[Pending]) -> Result:
    return Result(
        channel=channel.kind,
        target=channel.target,
        group_key=group,
        alert_ids=[p.alert.id for p in muted],
        severity=severity,
        status="silenced",
        attempts=0,
        response_code=None,
        last_error=None,
        payload={"silenced": [{"alert_id": p.alert.id, "silence_id": p.silence_id} for p in muted]},
        sent_at=None,
    )


def _send(channel: Channel, notice: Notice, config: NotificationSettings, clock: Clock) -> Result:
    try:
        return _send_unguarded(channel, notice, config, clock)
    except Exception as error:
        # one broken channel must neither stop the others nor abort the pass before its
        # write (which would re-send to every channel on every pass)
        log.exception("notification to %s %s failed", channel.kind, channel.target)
        return Result(
            channel=channel.kind,
            target=channel.target,
            group_key=notice.group,
            alert_ids=notice.alert_ids,
            severity=notice.severity,
            status="failed",
            attempts=1,
            response_code=None,
            last_error=f"{type(error).__name__}: {error}"[:MAX_ERROR_CHARS],
            payload={},
            sent_at=None,
        )


def _send_unguarded(
    channel: Channel, notice: Notice, config: NotificationSettings, clock: Clock
) -> Result:
    if channel.kind == "webhook":
        assert channel.url is not None
        payload = webhook_payload(notice, config.webhook_format)
        secret = config.webhook_secret.get_secret_value() if config.webhook_secret else None
        outcome = webhook.post(
            channel.url,
            webhook.encode(payload),
            secret=secret,
            timeout_s=config.webhook_timeout_seconds,
            retries=config.retries,
            backoff_seconds=config.backoff_seconds,
            now=clock.now,
        )
    else:
        assert channel.smtp is not None
        subject, body = email_subject(notice), email_body(notice)
        message = mail.build_message(
            channel.smtp, subject=subject, body=body, at=clock.now().timestamp()
        )
        payload = {"subject": subject, "to": list(channel.smtp.recipients), "body": body}
        outcome = mail.send(
            channel.smtp,
            message,
            timeout_s=config.webhook_timeout_seconds,
            retries=config.retries,
            backoff_seconds=config.backoff_seconds,
        )
    sent_at: datetime | None = clock.now() if outcome.status == "sent" else None
    return Result(
        channel=channel.kind,
        target=channel.target,
        group_key=notice.group,
        alert_ids=notice.alert_ids,
        severity=notice.severity,
        status=outcome.status,
        attempts=outcome.attempts,
        response_code=outcome.response_code,
        last_error=outcome.last_error,
        payload=payload,
        sent_at=sent_at,
    )
