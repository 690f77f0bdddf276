"""JSON routes of A/B tests (``/api/v1/model-performance/ab-test…``).

``POST /ab-test/start`` (201), ``GET /ab-test/{id}/results``, ``POST /ab-test/{id}/stop``,
``GET /ab-tests?status=&machine_id=&model_type=``. Thin handlers over
:mod:`enms.experiments.service`; its domain errors become 404/409/422 naming the field.
"""

from __future__ import annotations

from fastapi import APIRouter

from enms.api.deps import ClockDep, SessionDep, SettingsDep
from enms.auth.deps import PrincipalDep, acting_as, requires
from enms.auth.roles import Role
from enms.core.ids import Id
from enms.experiments import service
from enms.experiments.schemas import ABTestRead, ABTestResults, ABTestStart, ABTestStop

router = APIRouter(prefix="/model-performance", tags=["ab-tests"])


@router.post("/ab-test/start", dependencies=[requires(Role.operator)], status_code=201)
def start_test(
    body: ABTestStart,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    principal: PrincipalDep,
) -> ABTestRead:
    """Start an A/B test (defaults: A = champion, B = challenger, settings' design)."""
    body = body.model_copy(update={"created_by": acting_as(principal, body.created_by)})
    test = service.start(session=session, data=body, settings=settings, clock=clock)
    return service.read(session, test)


@router.get("/ab-test/{test_id}/results")
def test_results(
    test_id: Id, session: SessionDep, settings: SettingsDep, clock: ClockDep
) -> ABTestResults:
    """Per-arm figures, the arm test, SRM, the paired test, sample size and verdict."""
    return service.results(session=session, test_id=test_id, settings=settings, clock=clock)


@router.post("/ab-test/{test_id}/stop", dependencies=[requires(Role.operator)])
def stop_test(
    test_id: Id, body: ABTestStop, session: SessionDep, clock: ClockDep, principal: PrincipalDep
) -> ABTestRead:
    """Stop a running test early (no verdict, no promotion)."""
    body = body.model_copy(update={"actor": acting_as(principal, body.actor)})
    test = service.stop(session=session, test_id=test_id, data=body, clock=clock)
    return service.read(session, test)


@router.get("/ab-tests")
def list_tests(
    session: SessionDep,
    status: str | None = None,
    machine_id: Id | None = None,
    model_type: str | None = None,
) -> list[ABTestRead]:
    """Tests newest first, filtered by status (running|completed|stopped), machine, type."""
    rows = service.list_tests(
        session=session, status=status, machine_id=machine_id, model_type=model_type
    )
    return [service.read(session, t) for t in rows]
