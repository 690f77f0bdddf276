"""Reading and acting on alerts and silences: what the HTTP routes and CLI commands call.

Owns the queries (active alerts ordered by severity then age, the history, one alert with
its transitions), the user's transitions (acknowledge, resolve: the rules of
:mod:`enms.alerts.rules`) and silences (create, list, end; audited as ``silence_created`` /
``silence_ended`` with entity type ``alert_silence``). Keyword-only, session first; the
caller owns the transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, case, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from enms.alerts import conditions, rules
from enms.alerts.models import (
    ALERT_TYPES,
    SEVERITIES,
    STATES,
    UNRESOLVED_STATES,
    AlertSilence,
    ModelAlert,
)
from enms.alerts.schemas import AlertDetail, AlertEvent, AlertRead, SilenceRead
from enms.core.errors import Conflict, InvalidInput, NotFound
from enms.core.model_types import MODEL_TYPE_NAMES
from enms.readings.models import Machine
from enms.registry.models import AuditLog, ModelVersion

SILENCE_ENTITY = "alert_silence"
#: ``state`` filter values: the three states, and ``unresolved`` (open or acknowledged).
STATE_FILTERS = (*STATES, "unresolved")
MAX_LIMIT = 1000
#: An alert, its machine's name and its model version's number (None: none, or machine-level).
_Query = Select[ModelAlert, str, int]
_COLUMNS = [column.key for column in ModelAlert.__table__.columns]


def _choice(value: str | None, allowed: Sequence[str], field: str) -> str | None:
    if value is None or value in allowed:
        return value
    raise InvalidInput(f"{field}: {value!r} is not one of {', '.join(allowed)}")


def _alerts() -> _Query:
    return (
        select(ModelAlert, Machine.name, ModelVersion.version)
        .join(Machine, Machine.id == ModelAlert.machine_id)
        .outerjoin(ModelVersion, ModelVersion.id == ModelAlert.model_id)
    )


def _filtered(
    query: _Query,
    *,
    machine_id: int | None,
    model_type: str | None,
    severity: str | None = None,
    alert_type: str | None = None,
) -> _Query:
    if machine_id is not None:
        query = query.where(ModelAlert.machine_id == machine_id)
    if _choice(model_type, MODEL_TYPE_NAMES, "model_type") is not None:
        query = query.where(ModelAlert.model_type == model_type)
    if _choice(severity, SEVERITIES, "severity") is not None:
        query = query.where(ModelAlert.severity == severity)
    if _choice(alert_type, ALERT_TYPES, "alert_type") is not None:
        query = query.where(ModelAlert.alert_type == alert_type)
    return query


def _active_silences(session: Session, now: datetime) -> list[AlertSilence]:
    return list(
        session.scalars(
            select(AlertSilence).where(
                AlertSilence.expires_at > now,
                AlertSilence.ended_at.is_(None),
                AlertSilence.created_at <= now,
            )
        )
    )


def _matches(silence: AlertSilence, alert: ModelAlert) -> bool:
    """The rule of :func:`conditions.silence_for`: a silence's None field matches anything."""
    return (
        silence.machine_id in (None, alert.machine_id)
        and silence.model_type in (None, alert.model_type)
        and silence.alert_type in (None, alert.alert_type)
    )


def _read(
    alert: ModelAlert, machine_name: str, version: int | None, silenced: bool
) -> dict[str, Any]:
    fields = {name: getattr(alert, name) for name in _COLUMNS}
    return fields | {"machine_name": machine_name, "model_version": version, "silenced": silenced}


def _reads(
    session: Session, rows: Sequence[tuple[ModelAlert, str, int | None]], now: datetime
) -> list[AlertRead]:
    silences = _active_silences(session, now) if rows else []
    return [
        AlertRead.model_validate(
            _read(alert, name, version, any(_matches(s, alert) for s in silences))
        )
        for alert, name, version in rows
    ]


def list_active(
    *,
    session: Session,
    now: datetime,
    machine_id: int | None = None,
    model_type: str | None = None,
    severity: str | None = None,
) -> list[AlertRead]:
    """Unresolved alerts, critical before warning, then oldest first."""
    rank = case((ModelAlert.severity == "critical", 0), else_=1)
    query = _filtered(
        _alerts().where(ModelAlert.state.in_(UNRESOLVED_STATES)),
        machine_id=machine_id,
        model_type=model_type,
        severity=severity,
    ).order_by(rank, ModelAlert.created_at, ModelAlert.id)
    return _reads(session, session.execute(query).all(), now)


def history(
    *,
    session: Session,
    now: datetime,
    state: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    machine_id: int | None = None,
    model_type: str | None = None,
    alert_type: str | None = None,
    limit: int = 100,
) -> list[AlertRead]:
    """Alerts of any state created in ``[start, end)``, newest first (at most ``limit``)."""
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"limit: must be between 1 and {MAX_LIMIT}, not {limit}")
    if start is not None and end is not None and start >= end:
        raise InvalidInput(f"from: {start.isoformat()} is not before to: {end.isoformat()}")
    query = _filtered(
        _alerts(), machine_id=machine_id, model_type=model_type, alert_type=alert_type
    )
    chosen = _choice(state, STATE_FILTERS, "state")
    if chosen == "unresolved":
        query = query.where(ModelAlert.state.in_(UNRESOLVED_STATES))
    elif chosen is not None:
        query = query.where(ModelAlert.state == chosen)
    if start is not None:
        query = query.where(ModelAlert.created_at >= start)
    if end is not None:
        query = query.where(ModelAlert.created_at < end)
    query = query.order_by(ModelAlert.created_at.desc(), ModelAlert.id.desc()).limit(limit)
    return _reads(session, session.execute(query).all(), now)


def events(*, session: Session, alert_id: int) -> list[AlertEvent]:
    """The alert's transitions (audit rows), oldest first."""
    rows = session.scalars(
        select(AuditLog)
        .where(AuditLog.entity_type == conditions.ALERT_ENTITY, AuditLog.entity_id == str(alert_id))
        .order_by(AuditLog.at, AuditLog.id)
    )
    return [
        AlertEvent(
            at=row.at, rule=row.action, actor=row.actor, reason=row.reason, details=row.details
        )
        for row in rows
    ]


def get(*, session: Session, alert_id: int, now: datetime) -> AlertDetail:
    """One alert with its transition history and whether a silence covers it now."""
    row = session.execute(_alerts().where(ModelAlert.id == alert_id)).one_or_none()
    if row is None:
        raise NotFound(f"no alert with id {alert_id}")
    alert, name, version = row
    silence = conditions.silence_for(
        session,
        machine_id=alert.machine_id,
        model_type=alert.model_type,
        alert_type=alert.alert_type,
        now=now,
    )
    fields = _read(alert, name, version, silence is not None)
    return AlertDetail.model_validate(
        fields | {"history": events(session=session, alert_id=alert_id)}
    )


def acknowledge(
    *, session: Session, alert_id: int, by: str, note: str | None, now: datetime
) -> AlertDetail:
    """``open → acknowledged`` (rule ``acknowledged``); Conflict (409) from any other state."""
    rules.acknowledge(session, alert_id=alert_id, by=by, note=note, now=now)
    return get(session=session, alert_id=alert_id, now=now)


def resolve(*, session: Session, alert_id: int, by: str, note: str, now: datetime) -> AlertDetail:
    """``open | acknowledged → resolved`` (rule ``resolved_by_user``); Conflict when resolved."""
    rules.resolve_by_user(session, alert_id=alert_id, by=by, note=note, now=now)
    return get(session=session, alert_id=alert_id, now=now)


def _silence_read(session: Session, silence: AlertSilence, now: datetime) -> SilenceRead:
    name = None
    if silence.machine_id is not None:
        machine = session.get(Machine, silence.machine_id)
        name = machine.name if machine is not None else None
    active = silence.ended_at is None and silence.created_at <= now < silence.expires_at
    return SilenceRead(
        id=silence.id,
        machine_id=silence.machine_id,
        machine_name=name,
        model_type=silence.model_type,
        alert_type=silence.alert_type,
        author=silence.author,
        reason=silence.reason,
        created_at=silence.created_at,
        expires_at=silence.expires_at,
        ended_at=silence.ended_at,
        active=active,
    )


def _audit_silence(
    session: Session, *, silence: AlertSilence, rule: str, actor: str, at: datetime, reason: str
) -> None:
    session.add(
        AuditLog(
            at=at,
            actor=actor,
            action=rule,
            entity_type=SILENCE_ENTITY,
            entity_id=str(silence.id),
            machine_id=silence.machine_id,
            reason=reason,
            details={
                "model_type": silence.model_type,
                "alert_type": silence.alert_type,
                "expires_at": silence.expires_at.isoformat(),
            },
        )
    )


def create_silence(
    *,
    session: Session,
    machine_id: int | None,
    model_type: str | None,
    alert_type: str | None,
    author: str,
    reason: str,
    expires_at: datetime,
    now: datetime,
) -> SilenceRead:
    """Mute notifications of matching alerts (None matches anything) until ``expires_at``."""
    who = (author or "").strip()
    why = (reason or "").strip()
    if not who:
        raise InvalidInput("author: must not be empty")
    if not why:
        raise InvalidInput("reason: must not be empty")
    if expires_at <= now:
        raise InvalidInput(
            f"expires_at: {expires_at.isoformat()} is not in the future (now {now.isoformat()})"
        )
    _choice(model_type, MODEL_TYPE_NAMES, "model_type")
    _choice(alert_type, ALERT_TYPES, "alert_type")
    if machine_id is not None and session.get(Machine, machine_id) is None:
        raise NotFound(f"machine_id: no machine with id {machine_id}")
    silence = AlertSilence(
        machine_id=machine_id,
        model_type=model_type,
        alert_type=alert_type,
        author=who,
        reason=why,
        created_at=now,
        expires_at=expires_at,
    )
    session.add(silence)
    session.flush()
    _audit_silence(session, silence=silence, rule="silence_created", actor=who, at=now, reason=why)
    return _silence_read(session, silence, now)


def list_silences(*, session: Session, active_only: bool, now: datetime) -> list[SilenceRead]:
    """Silences, newest first (only those in force now with ``active_only``)."""
    if active_only:
        found = sorted(_active_silences(session, now), key=lambda s: s.id, reverse=True)
    else:
        found = list(
            session.scalars(select(AlertSilence).order_by(AlertSilence.id.desc()).limit(MAX_LIMIT))
        )
    return [_silence_read(session, silence, now) for silence in found]


def end_silence(*, session: Session, silence_id: int, by: str | None, now: datetime) -> SilenceRead:
    """End a silence now (rule ``silence_ended``); Conflict when it already ended or expired."""
    result = session.execute(
        update(AlertSilence)
        .where(
            AlertSilence.id == silence_id,
            AlertSilence.ended_at.is_(None),
            AlertSilence.expires_at > now,
        )
        .values(ended_at=now)
        .execution_options(synchronize_session=False)
    )
    assert isinstance(result, CursorResult)
    session.expire_all()
    silence = session.get(AlertSilence, silence_id)
    if silence is None:
        raise NotFound(f"no alert silence with id {silence_id}")
    if result.rowcount != 1:
        when = silence.ended_at or silence.expires_at
        how = "ended" if silence.ended_at is not None else "expired"
        raise Conflict(f"alert silence {silence_id} already {how} at {when.isoformat()}")
    who = (by or "").strip() or "unknown"
    _audit_silence(
        session, silence=silence, rule="silence_ended", actor=who, at=now, reason="ended early"
    )
    return _silence_read(session, silence, now)
