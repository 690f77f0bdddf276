"""HTTP front door of the notification delivery log.

``GET /api/v1/notifications/deliveries?status=&channel=&from=&to=&limit=`` (newest first)
and ``GET /api/v1/notifications/deliveries/{id}``.

Read-only routes: each opens its own read unit of work on the application's session factory
(``enms.api.deps`` is not imported: the import contract's exemption covers
``enms.<stage>.api`` modules only, and this one is a level deeper).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from enms.alerts.notify import deliveries
from enms.alerts.notify.schemas import DeliveryPage, DeliveryRead
from enms.core.db import SessionFactory, session_scope
from enms.core.ids import Id
from enms.core.timewindow import Window

router = APIRouter(prefix="/notifications", tags=["notifications"])


@router.get("/deliveries")
def list_deliveries(
    request: Request,
    status: Annotated[str | None, Query(description="sent | failed | silenced | pending")] = None,
    channel: Annotated[str | None, Query(description="webhook | email")] = None,
    start: Annotated[
        str | None, Query(alias="from", description="ISO 8601, inclusive (created_at)")
    ] = None,
    end: Annotated[str | None, Query(alias="to", description="ISO 8601, exclusive")] = None,
    limit: Annotated[
        int, Query(ge=1, le=deliveries.MAX_LIMIT, description="Most rows returned")
    ] = 100,
) -> DeliveryPage:
    """The delivery log, newest first: what was sent where, attempts, response and error."""
    window = Window.parse(start, end)
    with session_scope(_factory(request)) as session:
        return deliveries.list_deliveries(
            session=session, status=status, channel=channel, window=window, limit=limit
        )


@router.get("/deliveries/{delivery_id}")
def get_delivery(delivery_id: Id, request: Request) -> DeliveryRead:
    """One delivery with the payload it sent."""
    with session_scope(_factory(request)) as session:
        return deliveries.get_delivery(session=session, delivery_id=delivery_id)


def _factory(request: Request) -> SessionFactory:
    factory: SessionFactory = request.app.state.session_factory
    return factory
