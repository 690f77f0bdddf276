"""Raising and clearing alert conditions: the one entry point every producer uses.

Owns :func:`raise_condition` (open a new alert, or count a repeat of the unresolved one),
:func:`report_clear` (start the hysteresis clock of the unresolved alert), :func:`condition_key`
and :func:`unresolved`. The "one unresolved alert per condition" rule is decided by the
database — ``INSERT … ON CONFLICT (condition_key) WHERE state IN ('open','acknowledged') DO
UPDATE`` against the partial unique index — never by a read-then-write, so concurrent raisers
on either dialect end with exactly one open alert whose ``occurrences`` counts them all.

Callers pass a session inside a *write* unit of work and keep it short. What happens after an
alert opens (notification, automatic retraining) is not done here: the caller gets
:class:`Raised` back and acts on ``opened``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import CursorResult, func, or_, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from enms.alerts.models import (
    ALERT_TYPES,
    SEVERITIES,
    UNRESOLVED_PREDICATE,
    UNRESOLVED_STATES,
    AlertSilence,
    ModelAlert,
)
from enms.core.errors import InvalidInput
from enms.registry.models import AuditLog

ALERT_ENTITY = "model_alert"
_RANK = {name: rank for rank, name in enumerate(SEVERITIES)}


@dataclass(frozen=True)
class Raised:
    """The outcome of :func:`raise_condition`."""

    alert_id: int
    opened: bool  # True: a new alert; False: a repeat of the unresolved one
    occurrences: int
    escalated: bool  # a repeat that raised the severity (warning → critical)


def condition_key(machine_id: int, model_type: str | None, alert_type: str) -> str:
    """``machine:model_type:alert_type``; ``*`` stands for a machine-level condition.

    >>> condition_key(3, "baseline", "drift"), condition_key(3, None, "data_quality")
    ('3:baseline:drift', '3:*:data_quality')
    """
    return f"{machine_id}:{model_type or '*'}:{alert_type}"


def audit(
    session: Session,
    *,
    alert: ModelAlert | int,
    machine_id: int,
    rule: str,
    actor: str,
    at: datetime,
    reason: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """One ``audit_log`` row for a transition of an alert, named after the rule that made it."""
    alert_id = alert if isinstance(alert, int) else alert.id
    session.add(
        AuditLog(
            at=at,
            actor=actor,
            action=rule,
            entity_type=ALERT_ENTITY,
            entity_id=str(alert_id),
            machine_id=machine_id,
            reason=reason,
            details=details or {},
        )
    )


def raise_condition(
    session: Session,
    *,
    machine_id: int,
    model_type: str | None,
    alert_type: str,
    severity: str,
    message: str,
    details: dict[str, Any],
    now: datetime,
    model_id: int | None = None,
    actor: str = "system",
) -> Raised:
    """Open an alert for the condition, or record a repeat of the unresolved one.

    A repeat bumps ``occurrences`` and ``last_seen``, replaces message and details with the
    newest, clears ``clear_since`` (the hysteresis clock restarts) and never lowers the
    severity. Audit rows: ``alert_opened`` for a new alert, ``alert_escalated`` when a repeat
    raises the severity (repeats themselves are counted, not audited).
    """
    if alert_type not in ALERT_TYPES:
        raise InvalidInput(f"unknown alert type {alert_type!r}; one of {', '.join(ALERT_TYPES)}")
    if severity not in SEVERITIES:
        raise InvalidInput(f"unknown severity {severity!r}; one of {', '.join(SEVERITIES)}")
    key = condition_key(machine_id, model_type, alert_type)
    values = {
        "machine_id": machine_id,
        "model_type": model_type,
        "model_id": model_id,
        "alert_type": alert_type,
        "condition_key": key,
        "severity": severity,
        "message": message,
        "details": details,
        "state": "open",
        "created_at": now,
        "first_seen": now,
        "last_seen": now,
        "occurrences": 1,
    }
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(ModelAlert).values(**values)
    excluded = statement.excluded
    table = ModelAlert.__table__
    upsert = statement.on_conflict_do_update(
        index_elements=[table.c.condition_key],
        # Literal SQL, as in the index: with bound parameters PostgreSQL cannot infer the
        # partial index once it switches to a generic plan (after five executions of the
        # prepared statement), and the upsert fails with "no unique or exclusion constraint".
        index_where=text(UNRESOLVED_PREDICATE),
        set_={
            "occurrences": table.c.occurrences + 1,
            "last_seen": excluded.last_seen,
            "message": excluded.message,
            "details": excluded.details,
            "model_id": func.coalesce(excluded.model_id, table.c.model_id),
            "clear_since": None,
        },
    ).returning(table.c.id, table.c.occurrences, table.c.severity)
    row = session.execute(upsert).one()
    opened = row.occurrences == 1
    # A repeat keeps the stored severity in the upsert (its RETURNING shows the old one);
    # raising it is a second, conditional UPDATE while this transaction holds the row (the
    # upsert locked it), so of concurrent escalations exactly one reports and audits it.
    escalated = False
    if not opened and _RANK[severity] > _RANK[row.severity]:
        changed = session.execute(
            update(ModelAlert)
            .where(ModelAlert.id == row.id, ModelAlert.severity == row.severity)
            .values(severity=severity)
        )
        escalated = isinstance(changed, CursorResult) and changed.rowcount == 1
    current = severity if escalated else row.severity
    if opened or escalated:
        audit(
            session,
            alert=row.id,
            machine_id=machine_id,
            rule="alert_opened" if opened else "alert_escalated",
            actor=actor,
            at=now,
            reason=message,
            details={"severity": current, "alert_type": alert_type},
        )
    session.expire_all()
    return Raised(row.id, opened, row.occurrences, escalated)


def report_clear(
    session: Session,
    *,
    machine_id: int,
    model_type: str | None,
    alert_type: str,
    now: datetime,
) -> int | None:
    """The condition was checked and is clear now: start the unresolved alert's hysteresis
    clock (unless already running). Returns that alert's id, or None if none is unresolved.
    Resolution itself is the maintenance task's rule ``condition_cleared``."""
    key = condition_key(machine_id, model_type, alert_type)
    alert = unresolved(session, key)
    if alert is None:
        return None
    session.execute(
        update(ModelAlert)
        .where(ModelAlert.id == alert.id, ModelAlert.clear_since.is_(None))
        .values(clear_since=now)
    )
    return alert.id


def unresolved(session: Session, key: str) -> ModelAlert | None:
    """The open or acknowledged alert of a condition key, if any."""
    return session.scalars(
        select(ModelAlert).where(
            ModelAlert.condition_key == key, ModelAlert.state.in_(UNRESOLVED_STATES)
        )
    ).one_or_none()


def data_quality_open(session: Session, machine_id: int) -> bool:
    """Whether the machine has an unresolved ``data_quality`` alert (it inhibits drift alerts)."""
    return unresolved(session, condition_key(machine_id, None, "data_quality")) is not None


def silence_for(
    session: Session,
    *,
    machine_id: int,
    model_type: str | None,
    alert_type: str,
    now: datetime,
) -> AlertSilence | None:
    """The active silence (not expired, not ended) matching the condition, if any.

    A silence's ``None`` field matches anything; the one expiring last wins.
    """
    return session.scalars(
        select(AlertSilence)
        .where(
            AlertSilence.expires_at > now,
            AlertSilence.ended_at.is_(None),
            AlertSilence.created_at <= now,
            or_(AlertSilence.machine_id.is_(None), AlertSilence.machine_id == machine_id),
            or_(AlertSilence.model_type.is_(None), AlertSilence.model_type == model_type),
            or_(AlertSilence.alert_type.is_(None), AlertSilence.alert_type == alert_type),
        )
        .order_by(AlertSilence.expires_at.desc())
        .limit(1)
    ).first()
