"""JSON routes under ``/model-performance/metrics``: record rows, read trends."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query

from enms.api.deps import ClockDep, SessionDep, SettingsDep
from enms.auth.deps import requires
from enms.auth.roles import Role
from enms.core.ids import Id
from enms.evaluation import record as recording
from enms.evaluation import trend as trends
from enms.evaluation.performance_schemas import RecordResult, TrendRead

router = APIRouter(prefix="/model-performance/metrics", tags=["model-performance"])


@router.post("/record", dependencies=[requires(Role.operator)], status_code=201)
def record_metrics(
    session: SessionDep, clock: ClockDep, body: Annotated[Any, Body()] = None
) -> RecordResult:
    """Record one metrics row or a batch ``{"metrics": [...]}`` (all or nothing)."""
    items, batch = recording.parse(body)
    ids = recording.record(session=session, items=items, batch=batch, clock=clock)
    return RecordResult(ids=ids, count=len(ids))


@router.get("/trend")
def metrics_trend(
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
    machine_id: Id,
    model_type: str,
    days: float | None = None,
    start: Annotated[str | None, Query(alias="from")] = None,
    end: Annotated[str | None, Query(alias="to")] = None,
    metric: Annotated[list[str] | None, Query()] = None,
    version: Id | None = None,
    source: Annotated[list[str] | None, Query()] = None,
) -> TrendRead:
    """Series per metric (downsampled), version changes, drift markers and projections."""
    parts = trends.read_trend(
        session=session,
        machine_id=machine_id,
        model_type=model_type,
        window=trends.resolve_window(days=days, start=start, end=end, clock=clock),
        metrics=trends.parse_metrics(metric, model_type),
        version=version,
        settings=settings,
        sources=trends.parse_sources(source),
    )
    session.rollback()  # a read-only session: the transaction ends before the statistics
    return trends.with_projections(parts, settings)
