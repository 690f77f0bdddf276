"""The delivery log (``notification_deliveries``): writing a pass's results, and reading it.

:func:`record` writes one row per notification and channel target, and marks the alerts it
covered as notified (``notified_at``, ``notified_severity`` = the severity announced) in the
same unit of work. :func:`list_deliveries` and :func:`get_delivery` answer the API.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from enms.alerts.models import ModelAlert, NotificationDelivery
from enms.alerts.notify.payloads import AlertItem
from enms.alerts.notify.schemas import CHANNELS, DELIVERY_STATUSES, DeliveryPage, DeliveryRead
from enms.core.errors import InvalidInput, NotFound
from enms.core.timewindow import Window

MAX_LIMIT = 1000
_ANY_TIME = Window(None, None)


@dataclass(frozen=True)
class Result:
    """One delivery as it happened, waiting to be logged."""

    channel: str
    target: str
    group_key: str
    alert_ids: list[int]
    severity: str
    status: str
    attempts: int
    response_code: int | None
    last_error: str | None
    payload: dict[str, Any]
    sent_at: datetime | None


def record(
    session: Session, *, results: Iterable[Result], notified: Iterable[AlertItem], now: datetime
) -> list[int]:
    """Log ``results`` and mark ``notified`` alerts as notified at ``now``; returns row ids."""
    rows = [
        NotificationDelivery(
            channel=r.channel,
            target=r.target[:500],
            group_key=r.group_key[:200],
            alert_ids=r.alert_ids,
            severity=r.severity,
            status=r.status,
            attempts=r.attempts,
            response_code=r.response_code,
            last_error=r.last_error,
            payload=r.payload,
            created_at=now,
            sent_at=r.sent_at,
        )
        for r in results
    ]
    session.add_all(rows)
    for alert in notified:
        # the severity as read: an escalation after the read is still pending next pass
        session.execute(
            update(ModelAlert)
            .where(ModelAlert.id == alert.id)
            .values(notified_at=now, notified_severity=alert.severity)
        )
    session.flush()
    return [row.id for row in rows]


def list_deliveries(
    session: Session,
    *,
    status: str | None = None,
    channel: str | None = None,
    window: Window = _ANY_TIME,
    limit: int = 100,
) -> DeliveryPage:
    """Deliveries created in ``window``, newest first, optionally of one status and channel."""
    if status is not None and status not in DELIVERY_STATUSES:
        raise InvalidInput(f"status: {status!r} is not one of {', '.join(DELIVERY_STATUSES)}")
    if channel is not None and channel not in CHANNELS:
        raise InvalidInput(f"channel: {channel!r} is not one of {', '.join(CHANNELS)}")
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"limit: {limit} is not between 1 and {MAX_LIMIT}")
    query = select(NotificationDelivery)
    if status is not None:
        query = query.where(NotificationDelivery.status == status)
    if channel is not None:
        query = query.where(NotificationDelivery.channel == channel)
    if window.start is not None:
        query = query.where(NotificationDelivery.created_at >= window.start)
    if window.end is not None:
        query = query.where(NotificationDelivery.created_at < window.end)
    rows = session.scalars(
        query.order_by(
            NotificationDelivery.created_at.desc(), NotificationDelivery.id.desc()
        ).limit(limit)
    ).all()
    items = [DeliveryRead.model_validate(row, from_attributes=True) for row in rows]
    return DeliveryPage(items=items, count=len(items), limit=limit)


def get_delivery(session: Session, *, delivery_id: int) -> DeliveryRead:
    """One delivery, or :class:`NotFound`."""
    row = session.get(NotificationDelivery, delivery_id)
    if row is None:
        raise NotFound(f"no notification delivery {delivery_id}")
    return DeliveryRead.model_validate(row, from_attributes=True)
