"""``POST /api/v1/model-performance/drift/check``: run and record a drift check.

The route does not take the request's transaction: the drift-check service reads, computes
outside any transaction and writes in its own short units of work.
"""

from __future__ import annotations

from fastapi import APIRouter, Request

from enms.api.deps import ClockDep, SettingsDep
from enms.auth.deps import rate_limited, requires
from enms.auth.roles import Role
from enms.core.db import SessionFactory
from enms.core.timewindow import Window
from enms.drift import service
from enms.drift.schemas import DriftCheckRead, DriftCheckRequest

router = APIRouter(prefix="/model-performance/drift", tags=["drift"])


@router.post(
    "/check", dependencies=[requires(Role.operator), rate_limited("training")], status_code=201
)
def check(
    body: DriftCheckRequest, request: Request, clock: ClockDep, settings: SettingsDep
) -> DriftCheckRead:
    """Data drift, concept drift and degradation of a version (default: the champion), recorded
    in model_performance_metrics (the same document as ``enms drift check --json``)."""
    factory: SessionFactory = request.app.state.session_factory
    return service.check_drift(
        factory=factory,
        settings=settings,
        clock=clock,
        machine_id=body.machine_id,
        model_type=body.model_type,
        version=body.version,
        reference=Window.parse(
            body.reference_from, body.reference_to, names=("reference_from", "reference_to")
        ),
        current=Window.parse(
            body.current_from, body.current_to, names=("current_from", "current_to")
        ),
    )
