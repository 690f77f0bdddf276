"""Which channels are configured, and which of them a notification of a severity goes to.

Channels come from ``settings.notifications``: one webhook channel per URL of
``ENMS_NOTIFICATIONS__WEBHOOK_URLS`` (each its own delivery), and one e-mail channel when
both ``SMTP_HOST`` and ``EMAIL_TO`` are set. A notification reaches a channel when its
highest severity is at least the channel's minimum (``WEBHOOK_MIN_SEVERITY``,
``EMAIL_MIN_SEVERITY``; warning < critical).
"""

from __future__ import annotations

from dataclasses import dataclass

from enms.alerts.models import SEVERITIES
from enms.alerts.notify.mail import SmtpTarget
from enms.alerts.notify.webhook import redact_url
from enms.core.config import NotificationSettings

_RANK = {name: rank for rank, name in enumerate(SEVERITIES)}


@dataclass(frozen=True)
class Channel:
    """A configured destination: ``kind`` webhook (``url``) or email (``smtp``)."""

    kind: str
    #: As written to the delivery log (no secrets).
    target: str
    min_severity: str
    url: str | None = None
    smtp: SmtpTarget | None = None


def configured(settings: NotificationSettings) -> list[Channel]:
    """Every configured channel, webhooks first."""
    channels = [
        Channel("webhook", redact_url(url), settings.webhook_min_severity, url=url)
        for url in settings.webhook_urls
    ]
    if settings.smtp_host and settings.email_to:
        smtp = SmtpTarget(
            host=settings.smtp_host,
            port=settings.smtp_port,
            starttls=settings.smtp_starttls,
            username=settings.smtp_username,
            password=(
                settings.smtp_password.get_secret_value() if settings.smtp_password else None
            ),
            sender=settings.email_from,
            recipients=tuple(settings.email_to),
        )
        channels.append(
            Channel("email", smtp.logged_target, settings.email_min_severity, smtp=smtp)
        )
    return channels


def reaches(severity: str, minimum: str) -> bool:
    """Whether ``severity`` is at least ``minimum``.

    >>> reaches("critical", "warning"), reaches("warning", "critical")
    (True, False)
    """
    return _RANK[severity] >= _RANK[minimum]


def highest(severities: list[str]) -> str:
    """The highest of some severities.

    >>> highest(["warning", "critical", "warning"])
    'critical'
    """
    return max(severities, key=_RANK.__getitem__)


def routed(channels: list[Channel], severity: str) -> list[Channel]:
    """The channels a notification of ``severity`` goes to."""
    return [channel for channel in channels if reaches(severity, channel.min_severity)]
