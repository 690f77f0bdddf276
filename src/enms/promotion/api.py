"""JSON routes of the promotion policy: promote (with the gate), roll back, the gate's verdicts,
promotion watches. Paths and request shapes are the registry's former ones (moved here so the
registry never imports the policy); ``override`` is new."""

from __future__ import annotations

from fastapi import APIRouter

from enms.api.deps import ClockDep, SessionDep, SettingsDep
from enms.auth.deps import PrincipalDep, acting_as, requires
from enms.auth.roles import Role
from enms.core.ids import Id
from enms.promotion import service
from enms.promotion.schemas import GateRead, PromoteRequest, PromotionRead, WatchRead
from enms.readings import service as readings
from enms.registry.schemas import AliasChange, VersionRead

router = APIRouter(prefix="/machines/{machine_id}/models/{model_type}", tags=["registry"])


@router.post("/promote", dependencies=[requires(Role.admin)])
def promote(
    machine_id: Id,
    model_type: str,
    body: PromoteRequest,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    principal: PrincipalDep,
) -> PromotionRead:
    """Make a version the champion. A version failing the promotion gate is refused (422,
    the failed rules listed) unless a reason is given; the override is audited."""
    return service.promote(
        session=session,
        machine_id=machine_id,
        model_type=model_type,
        version=body.version,
        actor=acting_as(principal, body.actor),
        reason=body.reason,
        override=body.override,
        settings=settings,
        clock=clock,
    )


@router.post("/rollback", dependencies=[requires(Role.admin)])
def rollback(
    machine_id: Id,
    model_type: str,
    session: SessionDep,
    clock: ClockDep,
    principal: PrincipalDep,
    body: AliasChange | None = None,
) -> VersionRead:
    """Return the champion alias to the previous champion (the body is optional)."""
    body = body or AliasChange()
    return service.rollback(
        session=session,
        machine_id=machine_id,
        model_type=model_type,
        actor=acting_as(principal, body.actor),
        reason=body.reason,
        clock=clock,
    )


@router.get("/versions/{version}/gate")
def gate(
    machine_id: Id, model_type: str, version: Id, session: SessionDep, settings: SettingsDep
) -> GateRead:
    """The gate's verdicts on promoting this version now (without an A/B test)."""
    return service.gate(
        session=session,
        machine_id=machine_id,
        model_type=model_type,
        version=version,
        settings=settings,
    )


@router.get("/promotion-watches")
def watches(
    machine_id: Id, model_type: str, session: SessionDep, open_only: bool = False
) -> list[WatchRead]:
    """Watches after promotions (newest first): watching, passed, rolled back or ended."""
    readings.get_machine(session=session, machine_id=machine_id)
    return service.list_watches(
        session=session, machine_id=machine_id, model_type=model_type, open_only=open_only
    )
