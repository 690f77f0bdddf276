"""JSON routes: the seed's ``POST /model-performance/retrain/trigger`` and training jobs."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Query, Request, Response, status

from enms.api.deps import ClockDep, SessionDep
from enms.auth.deps import rate_limited, requires
from enms.auth.roles import Role
from enms.core.errors import InvalidInput
from enms.core.ids import Id
from enms.core.model_types import ModelTypeName
from enms.core.timewindow import Window
from enms.training import service
from enms.training.schemas import JobRead, TriggerRequest, TriggerResult, TriggerType

router = APIRouter(tags=["training"])


@router.post(
    "/model-performance/retrain/trigger",
    dependencies=[requires(Role.operator), rate_limited("training")],
    responses={202: {"model": TriggerResult}, 200: {"description": "refused: job in progress"}},
)
def retrain_trigger(
    request: Request,
    response: Response,
    session: SessionDep,
    clock: ClockDep,
    body: Annotated[TriggerRequest | None, Body()] = None,
    machine_id: Id | None = None,
    model_type: ModelTypeName | None = None,
    trigger_type: TriggerType = "manual",
    reason: str | None = None,
) -> TriggerResult:
    """Queue a training job (202), or say which job is already in progress (200,
    ``triggered: false``). Takes a JSON body, or the seed's query parameters. With the queue
    unreachable the job is still recorded (202, ``queue: waiting_for_queue``)."""
    if body is None:
        if machine_id is None or model_type is None:
            raise InvalidInput("give machine_id and model_type (JSON body or query parameters)")
        body = TriggerRequest(
            machine_id=machine_id, model_type=model_type, trigger_type=trigger_type, reason=reason
        )
    runtime = request.app.state.runtime
    result = service.trigger(
        session=session,
        machine_id=body.machine_id,
        model_type=body.model_type,
        trigger_type=body.trigger_type,
        reason=body.reason,
        requested_by=body.requested_by,
        window=Window.parse(body.data_from, body.data_to, names=("data_from", "data_to")),
        hyperparameters=body.hyperparameters,
        clock=clock,
        enqueue=runtime.enqueue_training,
        queue_ready=runtime.queue_ready,
        workers=runtime.workers(),
    )
    response.status_code = status.HTTP_202_ACCEPTED if result.triggered else status.HTTP_200_OK
    return result


@router.get("/training-jobs")
def list_jobs(
    session: SessionDep,
    machine_id: Id | None = None,
    model_type: str | None = None,
    status_: Annotated[str | None, Query(alias="status")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[JobRead]:
    """Training history, newest first."""
    return service.list_jobs(
        session=session, machine_id=machine_id, model_type=model_type, status=status_, limit=limit
    )


@router.get("/training-jobs/{job_id}")
def get_job(job_id: Id, session: SessionDep) -> JobRead:
    """One job with its progress."""
    return service.read(service.get_job(session=session, job_id=job_id))


@router.post("/training-jobs/{job_id}/cancel", dependencies=[requires(Role.operator)])
def cancel_job(job_id: Id, session: SessionDep, clock: ClockDep) -> JobRead:
    """Cancel a pending job, or stop a running one (its fit is terminated within seconds)."""
    return service.cancel(session=session, job_id=job_id, clock=clock)
