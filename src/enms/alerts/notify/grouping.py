"""Which alerts are waiting to be notified, and which machine groups are due.

*Pending*: an unresolved alert never notified (``notified_at IS NULL``), or one notified as a
warning that is critical now (an escalation). Pending alerts are batched by machine group
(the machine's metadata ``group``, else its machine type). A group is *due* once its oldest
pending alert is ``ENMS_NOTIFICATIONS__GROUP_SECONDS`` old — so the alerts of one group
opened within that interval go out as one notification — and at once when one of its alerts
escalated to critical. Each pending alert's active silence is looked up in the same read
(:func:`enms.alerts.conditions.silence_for`).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from enms.alerts.conditions import silence_for
from enms.alerts.models import UNRESOLVED_STATES, ModelAlert
from enms.alerts.notify.payloads import AlertItem
from enms.readings.models import Machine

#: Pending alerts handled per pass (oldest first); the rest wait for the next pass.
MAX_PENDING = 1000
_RANK = {"warning": 0, "critical": 1}


@dataclass(frozen=True)
class Pending:
    """A pending alert and the id of the silence muting it (None: not silenced)."""

    alert: AlertItem
    silence_id: int | None


@dataclass(frozen=True)
class Batch:
    """A machine group's pending alerts; ``due_at`` when they go out."""

    group: str
    pending: tuple[Pending, ...]
    due_at: datetime

    def due(self, now: datetime) -> bool:
        """Whether the batch goes out in a pass at ``now``."""
        return now >= self.due_at


def machine_group(metadata: dict[str, Any] | None, machine_type: str) -> str:
    """The machine's group: its metadata ``group`` when set, else its machine type.

    >>> machine_group({"group": "air"}, "compressor"), machine_group({}, "compressor")
    ('air', 'compressor')
    """
    group = (metadata or {}).get("group")
    return str(group) if group not in (None, "") else machine_type


def read_pending(session: Session, *, now: datetime, limit: int = MAX_PENDING) -> list[Pending]:
    """Pending alerts (oldest first) with their machine group and active silence."""
    escalated = and_(ModelAlert.notified_severity == "warning", ModelAlert.severity == "critical")
    rows = session.execute(
        select(ModelAlert, Machine.name, Machine.machine_type, Machine.metadata_)
        .join(Machine, Machine.id == ModelAlert.machine_id)
        .where(
            ModelAlert.state.in_(UNRESOLVED_STATES),
            or_(ModelAlert.notified_at.is_(None), escalated),
        )
        .order_by(ModelAlert.first_seen, ModelAlert.id)
        .limit(limit)
    ).all()
    pending = []
    for alert, name, machine_type, metadata in rows:
        silence = silence_for(
            session,
            machine_id=alert.machine_id,
            model_type=alert.model_type,
            alert_type=alert.alert_type,
            now=now,
        )
        item = AlertItem(
            id=alert.id,
            machine_id=alert.machine_id,
            machine_name=name,
            group=machine_group(metadata, machine_type),
            model_type=alert.model_type,
            alert_type=alert.alert_type,
            severity=alert.severity,
            message=alert.message,
            state=alert.state,
            first_seen=alert.first_seen,
            last_seen=alert.last_seen,
            occurrences=alert.occurrences,
            escalated=alert.notified_at is not None,
        )
        pending.append(Pending(item, silence.id if silence is not None else None))
    return pending


def batches(pending: list[Pending], *, group_seconds: float) -> list[Batch]:
    """One batch per machine group, alerts most severe first, then oldest."""
    by_group: dict[str, list[Pending]] = defaultdict(list)
    for entry in pending:
        by_group[entry.alert.group].append(entry)
    out = []
    for group, entries in sorted(by_group.items()):
        entries.sort(key=lambda e: (-_RANK[e.alert.severity], e.alert.first_seen, e.alert.id))
        oldest = min(e.alert.first_seen for e in entries)
        due_at = oldest + timedelta(seconds=group_seconds)
        if any(e.alert.escalated for e in entries):
            due_at = oldest  # an escalation to critical goes out at once
        out.append(Batch(group, tuple(entries), due_at))
    return out
