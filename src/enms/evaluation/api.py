"""JSON routes for evaluations: run one on a window, list the recorded ones.

``POST …/evaluate`` does not take the request's transaction: the evaluation service reads,
scores outside any transaction and writes in its own short units of work.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from enms.api.deps import ClockDep, SessionDep
from enms.auth.deps import rate_limited, requires
from enms.auth.roles import Role
from enms.core.db import SessionFactory
from enms.core.ids import Id
from enms.core.timewindow import Window
from enms.evaluation import service
from enms.evaluation.schemas import EvaluationRead
from enms.readings import service as readings

router = APIRouter(prefix="/machines/{machine_id}/models/{model_type}", tags=["evaluation"])


class EvaluateRequest(BaseModel):
    """The window ``[from, to)`` and the version (default: the champion)."""

    start: str = Field(alias="from", description="ISO 8601, inclusive.")
    end: str = Field(alias="to", description="ISO 8601, exclusive.")
    version: Id | None = None


@router.post(
    "/evaluate", dependencies=[requires(Role.operator), rate_limited("training")], status_code=201
)
def evaluate(
    machine_id: Id, model_type: str, body: EvaluateRequest, request: Request, clock: ClockDep
) -> EvaluationRead:
    """Score a version on readings it did not train on and record the metrics (the same
    document as ``enms evaluate --json``)."""
    factory: SessionFactory = request.app.state.session_factory
    return service.evaluate(
        factory=factory,
        machine_id=machine_id,
        model_type=model_type,
        window=Window.parse(body.start, body.end),
        version=body.version,
        clock=clock,
    )


@router.get("/evaluations")
def list_evaluations(
    machine_id: Id,
    model_type: str,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[EvaluationRead]:
    """Recorded evaluations, newest first."""
    readings.get_machine(session=session, machine_id=machine_id)
    return service.list_evaluations(
        session=session, machine_id=machine_id, model_type=model_type, limit=limit
    )
