"""Reading stored anomaly events for the API and the CLI: a machine's events in a window.

The window defaults to the ``DEFAULT_DAYS`` days up to now (or up to ``to``); events come
newest first, at most ``limit`` (``truncated`` says when more exist).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from enms.anomalies import repository
from enms.anomalies.schemas import AnomalyPage, AnomalyRead
from enms.core.errors import InvalidInput
from enms.core.timewindow import Window
from enms.readings import service as readings

DEFAULT_DAYS = 7
MAX_EVENTS = 10_000
DEFAULT_LIMIT = 1_000


def resolve_window(window: Window, now: datetime) -> tuple[datetime, datetime]:
    """``[from, to)`` with the defaults filled in: ``to`` = now, ``from`` = ``to`` − 7 days."""
    end = window.end or now
    start = window.start or end - timedelta(days=DEFAULT_DAYS)
    if start >= end:
        raise InvalidInput(
            f"from ({start.isoformat()}) must be before to ({end.isoformat()}; "
            "default: now): windows are half-open [from, to)"
        )
    return start, end


def anomalies_page(
    *, session: Session, machine_id: int, window: Window, now: datetime, limit: int = DEFAULT_LIMIT
) -> AnomalyPage:
    """The machine's stored anomaly events with ``ts`` in the window, newest first."""
    if not 1 <= limit <= MAX_EVENTS:
        raise InvalidInput(f"limit must be between 1 and {MAX_EVENTS}, got {limit}")
    machine = readings.get_machine(session=session, machine_id=machine_id)
    start, end = resolve_window(window, now)
    found = repository.events_page(
        session, machine_id=machine_id, start=start, end=end, limit=limit + 1
    )
    rows = [AnomalyRead.model_validate(r, from_attributes=True) for r in found[:limit]]
    return AnomalyPage(
        machine_id=machine_id,
        machine_name=machine.name,
        start=start,
        end=end,
        limit=limit,
        count=len(rows),
        truncated=len(found) > limit,
        anomalies=rows,
    )
