"""JSON routes for model versions, their alias history and external versions.

Promotion and rollback (same paths) live in :mod:`enms.promotion.api`: they apply the gate."""

from __future__ import annotations

from fastapi import APIRouter

from enms.api.deps import ClockDep, SessionDep
from enms.auth.deps import requires
from enms.auth.roles import Role
from enms.core.ids import Id
from enms.core.timewindow import as_utc
from enms.readings import service as readings
from enms.registry import external, service
from enms.registry.schemas import AliasEvent, ExternalVersionCreate, VersionRead

router = APIRouter(prefix="/machines/{machine_id}/models/{model_type}", tags=["registry"])


@router.get("/versions")
def list_versions(machine_id: Id, model_type: str, session: SessionDep) -> list[VersionRead]:
    """Every version, newest first, with its aliases and metrics."""
    readings.get_machine(session=session, machine_id=machine_id)
    return service.list_versions(session=session, machine_id=machine_id, model_type=model_type)


@router.get("/versions/{version}")
def get_version(machine_id: Id, model_type: str, version: Id, session: SessionDep) -> VersionRead:
    """One version."""
    row = service.get_version(
        session=session, machine_id=machine_id, model_type=model_type, version=version
    )
    return service.read(session, row)


@router.get("/aliases/history")
def alias_history(machine_id: Id, model_type: str, session: SessionDep) -> list[AliasEvent]:
    """Every alias move: who, when, why, from which version."""
    return service.alias_history(session=session, machine_id=machine_id, model_type=model_type)


@router.post("/external-versions", dependencies=[requires(Role.operator)], status_code=201)
def register_external(
    machine_id: Id,
    model_type: str,
    body: ExternalVersionCreate,
    session: SessionDep,
    clock: ClockDep,
) -> VersionRead:
    """Register a model trained elsewhere (no artifact) so its metrics can be tracked."""
    row = external.register_external(
        session=session,
        new=external.NewExternal(
            machine_id=machine_id,
            model_type=model_type,
            name=body.name,
            metadata=body.metadata,
            training_start=as_utc(body.training_start) if body.training_start else None,
            training_end=as_utc(body.training_end) if body.training_end else None,
            metrics_holdout=dict(body.metrics_holdout),
            make_champion=body.make_champion,
            actor=body.actor,
            reason=body.reason,
        ),
        clock=clock,
    )
    return service.read(session, row)
