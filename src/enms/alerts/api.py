"""HTTP front door of the alert lifecycle: active alerts, history, transitions, silences.

``GET /model-performance/alerts/active`` (the seed's contract: a JSON array ordered by
severity, then age), ``GET /alerts`` (history), ``GET /alerts/{id}``, ``POST
/alerts/{id}/acknowledge|resolve``, and ``/alert-silences`` (create, list, end). Thin
handlers over :mod:`enms.alerts.service`; bad query values are 422s naming the parameter.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from enms.alerts import service
from enms.alerts.schemas import (
    AcknowledgeRequest,
    AlertDetail,
    AlertRead,
    ResolveRequest,
    SilenceCreate,
    SilenceRead,
)
from enms.api.deps import ClockDep, SessionDep
from enms.auth.deps import PrincipalDep, acting_as, requires
from enms.auth.roles import Role
from enms.core.ids import Id
from enms.core.timewindow import parse_instant

router = APIRouter(tags=["alerts"])


@router.get("/model-performance/alerts/active")
def active_alerts(
    session: SessionDep,
    clock: ClockDep,
    machine_id: Id | None = None,
    model_type: str | None = None,
    severity: str | None = None,
) -> list[AlertRead]:
    """Unresolved alerts, critical first, then oldest first (``[]`` when none)."""
    return service.list_active(
        session=session,
        now=clock.now(),
        machine_id=machine_id,
        model_type=model_type,
        severity=severity,
    )


@router.get("/alerts")
def alert_history(
    session: SessionDep,
    clock: ClockDep,
    state: str | None = None,
    start: Annotated[str | None, Query(alias="from")] = None,
    end: Annotated[str | None, Query(alias="to")] = None,
    machine_id: Id | None = None,
    model_type: str | None = None,
    alert_type: str | None = None,
    limit: Annotated[int, Query(ge=1, le=service.MAX_LIMIT)] = 100,
) -> list[AlertRead]:
    """Alerts of any state (``unresolved`` = open or acknowledged) created in [from, to),
    newest first."""
    return service.history(
        session=session,
        now=clock.now(),
        state=state,
        start=parse_instant(start, field="from") if start else None,
        end=parse_instant(end, field="to") if end else None,
        machine_id=machine_id,
        model_type=model_type,
        alert_type=alert_type,
        limit=limit,
    )


@router.get("/alerts/{alert_id}")
def get_alert(alert_id: Id, session: SessionDep, clock: ClockDep) -> AlertDetail:
    """One alert with its transitions (named rules, who, when) and whether it is silenced."""
    return service.get(session=session, alert_id=alert_id, now=clock.now())


@router.post("/alerts/{alert_id}/acknowledge", dependencies=[requires(Role.operator)])
def acknowledge(
    alert_id: Id,
    body: AcknowledgeRequest,
    session: SessionDep,
    clock: ClockDep,
    principal: PrincipalDep,
) -> AlertDetail:
    """``open → acknowledged``; 409 naming the current state otherwise."""
    return service.acknowledge(
        session=session,
        alert_id=alert_id,
        by=acting_as(principal, body.by),
        note=body.note,
        now=clock.now(),
    )


@router.post("/alerts/{alert_id}/resolve", dependencies=[requires(Role.operator)])
def resolve(
    alert_id: Id,
    body: ResolveRequest,
    session: SessionDep,
    clock: ClockDep,
    principal: PrincipalDep,
) -> AlertDetail:
    """``open | acknowledged → resolved`` with who and why; 409 when already resolved."""
    return service.resolve(
        session=session,
        alert_id=alert_id,
        by=acting_as(principal, body.by),
        note=body.note,
        now=clock.now(),
    )


@router.post("/alert-silences", dependencies=[requires(Role.operator)], status_code=201)
def create_silence(
    body: SilenceCreate, session: SessionDep, clock: ClockDep, principal: PrincipalDep
) -> SilenceRead:
    """Mute notifications of matching alerts (fields left out match anything) until expiry."""
    now = clock.now()
    return service.create_silence(
        session=session,
        machine_id=body.machine_id,
        model_type=body.model_type,
        alert_type=body.alert_type,
        author=acting_as(principal, body.author),
        reason=body.reason,
        expires_at=body.expiry(now),
        now=now,
    )


@router.get("/alert-silences")
def list_silences(session: SessionDep, clock: ClockDep, active: bool = True) -> list[SilenceRead]:
    """Silences, newest first; ``active=false`` includes ended and expired ones."""
    return service.list_silences(session=session, active_only=active, now=clock.now())


@router.delete("/alert-silences/{silence_id}", dependencies=[requires(Role.operator)])
def end_silence(
    silence_id: Id,
    session: SessionDep,
    clock: ClockDep,
    principal: PrincipalDep,
    by: str | None = None,
) -> SilenceRead:
    """End a silence now (it stays in the list as ended); 409 if it already ended."""
    return service.end_silence(
        session=session,
        silence_id=silence_id,
        by=by if principal.kind == "desk" else principal.name,
        now=clock.now(),
    )
