"""The alert lifecycle as a state machine of small named rules.

``open → acknowledged`` (rule ``acknowledged``: who, optional note), ``open | acknowledged →
resolved`` (``resolved_by_user``: who and a note, required) and, automatically, ``open |
acknowledged → resolved`` (``condition_cleared``: the condition has been reported clear for
``ENMS_ALERTS__CLEAR_HOURS``). Opening and escalating are :mod:`enms.alerts.conditions`'s
rules ``alert_opened`` / ``alert_escalated``.

Every transition is one conditional ``UPDATE … WHERE id = … AND state IN (from-states)``: of
two concurrent transitions of one alert only one can match, the other finds no row and gets
:class:`~enms.core.errors.Conflict` naming the state the winner left. Each successful
transition writes one ``audit_log`` row named after its rule (:func:`conditions.audit`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.orm import Session

from enms.alerts import conditions
from enms.alerts.models import UNRESOLVED_STATES, ModelAlert
from enms.core.errors import Conflict, InvalidInput, NotFound

SYSTEM = "system"


@dataclass(frozen=True)
class Rule:
    """A named transition: from which states it may fire, and the state it leaves."""

    name: str
    from_states: tuple[str, ...]
    to_state: str


ACKNOWLEDGED = Rule("acknowledged", ("open",), "acknowledged")
RESOLVED_BY_USER = Rule("resolved_by_user", UNRESOLVED_STATES, "resolved")
CONDITION_CLEARED = Rule("condition_cleared", UNRESOLVED_STATES, "resolved")
RULES = (ACKNOWLEDGED, RESOLVED_BY_USER, CONDITION_CLEARED)


def _fire(
    session: Session,
    *,
    rule: Rule,
    alert_id: int,
    values: dict[str, Any],
    guards: tuple[ColumnElement[bool], ...] = (),
) -> int | None:
    """Apply the rule if the alert is in one of its from-states (and the guards hold).

    Returns the alert's machine id when this call made the transition, None otherwise.
    """
    statement = (
        update(ModelAlert)
        .where(ModelAlert.id == alert_id, ModelAlert.state.in_(rule.from_states), *guards)
        .values(state=rule.to_state, **values)
        .returning(ModelAlert.machine_id)
        .execution_options(synchronize_session=False)
    )
    machine_id: int | None = session.execute(statement).scalar_one_or_none()
    # the loaded row (if any) is stale now; nothing else in the session is
    session.expire_all()
    return machine_id


def _refuse(session: Session, rule: Rule, alert_id: int) -> Conflict | NotFound:
    """Why the rule could not fire: no such alert, or the state it is in now."""
    state = session.execute(
        select(ModelAlert.state).where(ModelAlert.id == alert_id)
    ).scalar_one_or_none()
    if state is None:
        return NotFound(f"no alert with id {alert_id}")
    allowed = " or ".join(rule.from_states)
    return Conflict(
        f"alert {alert_id} is {state}: {rule.name} applies only to {allowed} alerts",
        details={"alert_id": alert_id, "state": state, "rule": rule.name},
    )


def _required(value: str | None, field: str) -> str:
    text = (value or "").strip()
    if not text:
        raise InvalidInput(f"{field}: must not be empty")
    return text


def acknowledge(
    session: Session, *, alert_id: int, by: str, note: str | None, now: datetime
) -> None:
    """Rule ``acknowledged``: someone has seen the open alert and is on it."""
    who = _required(by, "by")
    text = (note or "").strip() or None
    machine_id = _fire(
        session,
        rule=ACKNOWLEDGED,
        alert_id=alert_id,
        values={"acknowledged_at": now, "acknowledged_by": who, "acknowledged_note": text},
    )
    if machine_id is None:
        raise _refuse(session, ACKNOWLEDGED, alert_id)
    conditions.audit(
        session,
        alert=alert_id,
        machine_id=machine_id,
        rule=ACKNOWLEDGED.name,
        actor=who,
        at=now,
        reason=text,
    )


def resolve_by_user(session: Session, *, alert_id: int, by: str, note: str, now: datetime) -> None:
    """Rule ``resolved_by_user``: someone closes the alert and says why."""
    who = _required(by, "by")
    text = _required(note, "note")
    machine_id = _fire(
        session,
        rule=RESOLVED_BY_USER,
        alert_id=alert_id,
        values={"resolved_at": now, "resolved_by": who, "resolution_note": text},
    )
    if machine_id is None:
        raise _refuse(session, RESOLVED_BY_USER, alert_id)
    conditions.audit(
        session,
        alert=alert_id,
        machine_id=machine_id,
        rule=RESOLVED_BY_USER.name,
        actor=who,
        at=now,
        reason=text,
    )


def condition_cleared(
    session: Session, *, alert_id: int, clear_since: datetime, clear_hours: float, now: datetime
) -> bool:
    """Rule ``condition_cleared``: the condition has been clear since ``clear_since`` and that
    is at least ``clear_hours`` ago. False when the alert is no longer due (resolved
    meanwhile, or raised again, which resets ``clear_since``)."""
    cutoff = now - timedelta(hours=clear_hours)
    if clear_since > cutoff:
        return False
    note = (
        f"condition clear since {clear_since:%Y-%m-%d %H:%M} UTC, at least {clear_hours:g} h "
        "(ENMS_ALERTS__CLEAR_HOURS)"
    )
    machine_id = _fire(
        session,
        rule=CONDITION_CLEARED,
        alert_id=alert_id,
        values={"resolved_at": now, "resolved_by": SYSTEM, "resolution_note": note},
        guards=(ModelAlert.clear_since.is_not(None), ModelAlert.clear_since <= cutoff),
    )
    if machine_id is None:
        return False
    conditions.audit(
        session,
        alert=alert_id,
        machine_id=machine_id,
        rule=CONDITION_CLEARED.name,
        actor=SYSTEM,
        at=now,
        reason=note,
        details={"clear_since": clear_since.isoformat(), "clear_hours": clear_hours},
    )
    return True
