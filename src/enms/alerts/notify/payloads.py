"""What one notification says: the alert snapshot it covers and its three webhook shapes.

:class:`AlertItem` is the read-only copy of an alert the dispatcher takes in its read
transaction (no ORM row crosses into the network I/O). One notification covers a machine
group's due alerts (:class:`Notice`) and is rendered as

- ``slack``: a Slack incoming-webhook message, ``{"text": fallback, "blocks": [section
  blocks with mrkdwn text]}`` (``text`` is what push notifications show; a section's text is
  limited to 3,000 characters and a message to 50 blocks, so long lists are cut),
- ``teams``: a Microsoft Teams incoming-webhook message, ``{"type": "message",
  "attachments": [{"contentType": "application/vnd.microsoft.card.adaptive", "content": an
  Adaptive Card 1.4 of TextBlocks and one FactSet per alert}]}`` (no ``Action.Submit``, which
  incoming webhooks do not support),
- ``generic``: enms JSON ``{"group", "severity", "count", "alerts": [alert dicts]}``.

The e-mail text (:func:`email_subject`, :func:`email_body`) is built here too, so every
channel describes the alerts the same way. Chosen by ``ENMS_NOTIFICATIONS__WEBHOOK_FORMAT``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

ALERT_PATH = "/api/v1/alerts/{id}"
#: Slack limits (Block Kit reference): 3,000 characters of section text, 50 blocks.
SLACK_SECTION_CHARS = 3000
SLACK_MAX_ALERT_BLOCKS = 45
#: Teams cards stay readable (and under the 28 KB webhook limit) with this many alerts.
TEAMS_MAX_ALERTS = 30


@dataclass(frozen=True)
class AlertItem:
    """An alert as the dispatcher read it (the severity is the one announced)."""

    id: int
    machine_id: int
    machine_name: str
    group: str
    model_type: str | None
    alert_type: str
    severity: str
    message: str
    state: str
    first_seen: datetime
    last_seen: datetime
    occurrences: int
    #: A warning already notified that is critical now.
    escalated: bool

    @property
    def link(self) -> str:
        """Path of the alert in the API."""
        return ALERT_PATH.format(id=self.id)

    def as_dict(self) -> dict[str, Any]:
        """JSON-able, like the alerts API's read schema (plus the machine's name and group)."""
        return {
            "id": self.id,
            "machine_id": self.machine_id,
            "machine_name": self.machine_name,
            "group": self.group,
            "model_type": self.model_type,
            "alert_type": self.alert_type,
            "severity": self.severity,
            "message": self.message,
            "state": self.state,
            "first_seen": self.first_seen.isoformat(),
            "last_seen": self.last_seen.isoformat(),
            "occurrences": self.occurrences,
            "escalated": self.escalated,
            "link": self.link,
        }


@dataclass(frozen=True)
class Notice:
    """One notification: a machine group's due alerts and their highest severity."""

    group: str
    severity: str
    alerts: tuple[AlertItem, ...]

    @property
    def alert_ids(self) -> list[int]:
        """Ids of the alerts covered."""
        return [a.id for a in self.alerts]


def headline(notice: Notice) -> str:
    """``CRITICAL: 2 alerts on group compressors`` (the e-mail subject without its tag).

    >>> from datetime import UTC, datetime
    >>> t = datetime(2026, 1, 1, tzinfo=UTC)
    >>> a = AlertItem(1, 1, "C1", "compressors", "baseline", "drift", "critical", "m",
    ...               "open", t, t, 1, False)
    >>> headline(Notice("compressors", "critical", (a,)))
    'CRITICAL: 1 alert on group compressors'
    """
    n = len(notice.alerts)
    return f"{notice.severity.upper()}: {n} alert{'s' if n != 1 else ''} on group {notice.group}"


def _what(alert: AlertItem) -> str:
    model = alert.model_type or "machine"
    again = " (escalated)" if alert.escalated else ""
    return f"{alert.severity} {alert.alert_type} on {alert.machine_name} / {model}{again}"


def slack(notice: Notice) -> dict[str, Any]:
    """A Slack incoming-webhook message: fallback ``text`` plus mrkdwn section blocks."""
    blocks: list[dict[str, Any]] = [_mrkdwn(f"*[enms] {headline(notice)}*")]
    for alert in notice.alerts[:SLACK_MAX_ALERT_BLOCKS]:
        text = (
            f"*{_what(alert)}*\n{alert.message}\n"
            f"first seen {alert.first_seen.isoformat()} · seen {alert.occurrences}× · "
            f"`{alert.link}`"
        )
        blocks.append(_mrkdwn(text))
    hidden = len(notice.alerts) - SLACK_MAX_ALERT_BLOCKS
    if hidden > 0:
        blocks.append(_mrkdwn(f"…and {hidden} more alerts"))
    return {"text": f"[enms] {headline(notice)}", "blocks": blocks}


def _mrkdwn(text: str) -> dict[str, Any]:
    if len(text) > SLACK_SECTION_CHARS:
        text = text[: SLACK_SECTION_CHARS - 1] + "…"
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def teams(notice: Notice) -> dict[str, Any]:
    """A Microsoft Teams incoming-webhook message carrying an Adaptive Card 1.4."""
    body: list[dict[str, Any]] = [
        {
            "type": "TextBlock",
            "text": f"[enms] {headline(notice)}",
            "size": "Medium",
            "weight": "Bolder",
            "color": "Attention" if notice.severity == "critical" else "Warning",
            "wrap": True,
        }
    ]
    for alert in notice.alerts[:TEAMS_MAX_ALERTS]:
        body.append({"type": "TextBlock", "text": _what(alert), "weight": "Bolder", "wrap": True})
        body.append({"type": "TextBlock", "text": alert.message, "wrap": True})
        body.append(
            {
                "type": "FactSet",
                "facts": [
                    {"title": "Machine", "value": alert.machine_name},
                    {"title": "Model type", "value": alert.model_type or "-"},
                    {"title": "Type", "value": alert.alert_type},
                    {"title": "Severity", "value": alert.severity},
                    {"title": "First seen", "value": alert.first_seen.isoformat()},
                    {"title": "Link", "value": alert.link},
                ],
            }
        )
    hidden = len(notice.alerts) - TEAMS_MAX_ALERTS
    if hidden > 0:
        body.append({"type": "TextBlock", "text": f"…and {hidden} more alerts", "wrap": True})
    card = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": body,
    }
    return {
        "type": "message",
        "attachments": [
            {
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": None,
                "content": card,
            }
        ],
    }


def generic(notice: Notice) -> dict[str, Any]:
    """enms JSON for any receiver: the group, its severity and the alerts in full."""
    return {
        "source": "enms",
        "group": notice.group,
        "severity": notice.severity,
        "count": len(notice.alerts),
        "alerts": [a.as_dict() for a in notice.alerts],
    }


def webhook_payload(notice: Notice, fmt: str) -> dict[str, Any]:
    """The body for ``ENMS_NOTIFICATIONS__WEBHOOK_FORMAT`` (slack, teams or generic)."""
    if fmt == "slack":
        return slack(notice)
    if fmt == "teams":
        return teams(notice)
    return generic(notice)


def email_subject(notice: Notice) -> str:
    """``[enms] CRITICAL: 2 alerts on group compressors``."""
    return f"[enms] {headline(notice)}"


def email_body(notice: Notice) -> str:
    """Plain text listing every alert with machine, model type, type, severity, message,
    first seen and the alert's API path."""
    lines = [headline(notice), ""]
    for alert in notice.alerts:
        lines += [
            f"Alert {alert.id}{' (escalated to critical)' if alert.escalated else ''}",
            f"  Machine:    {alert.machine_name} (id {alert.machine_id})",
            f"  Model type: {alert.model_type or '- (machine-level)'}",
            f"  Type:       {alert.alert_type}",
            f"  Severity:   {alert.severity}",
            f"  Message:    {alert.message}",
            f"  First seen: {alert.first_seen.isoformat()}",
            f"  Seen:       {alert.occurrences} time(s), last {alert.last_seen.isoformat()}",
            f"  Link:       {alert.link}",
            "",
        ]
    return "\n".join(lines)
