"""The alert maintenance rules that run on a schedule: auto-resolve after hysteresis.

Owns :func:`auto_resolve` (rule ``condition_cleared`` of :mod:`enms.alerts.rules`): an
unresolved alert whose condition has been reported clear (``clear_since``) for at least
``ENMS_ALERTS__CLEAR_HOURS`` is resolved by ``system``. An alert nobody reports clear (for
example an informational ``ab_test_completed``) is never auto-resolved.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from enms.alerts import rules
from enms.alerts.models import UNRESOLVED_STATES, ModelAlert
from enms.core.clock import Clock
from enms.core.config import Settings
from enms.core.db import SessionFactory, session_scope

#: Alerts resolved per pass at most (the next pass, five minutes later, takes the rest).
BATCH = 500
#: Ids listed in the summary at most.
LISTED = 50


def auto_resolve(*, factory: SessionFactory, settings: Settings, clock: Clock) -> dict[str, Any]:
    """Resolve every unresolved alert whose condition has been clear for clear_hours, in one
    short write transaction; returns how many were due, how many it resolved, and their ids."""
    now = clock.now()
    clear_hours = settings.alerts.clear_hours
    cutoff = now - timedelta(hours=clear_hours)
    with session_scope(factory, write=True) as session:
        due = session.execute(
            select(ModelAlert.id, ModelAlert.clear_since)
            .where(
                ModelAlert.state.in_(UNRESOLVED_STATES),
                ModelAlert.clear_since.is_not(None),
                ModelAlert.clear_since <= cutoff,
            )
            .order_by(ModelAlert.clear_since, ModelAlert.id)
            .limit(BATCH)
        ).all()
        resolved = [
            row.id
            for row in due
            if row.clear_since is not None
            and rules.condition_cleared(
                session,
                alert_id=row.id,
                clear_since=row.clear_since,
                clear_hours=clear_hours,
                now=now,
            )
        ]
    return {
        "due": len(due),
        "resolved": len(resolved),
        "alert_ids": resolved[:LISTED],
        "more": len(due) == BATCH,
    }
