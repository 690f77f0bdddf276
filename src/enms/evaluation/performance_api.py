"""JSON routes under ``/model-performance/metrics``: record rows, read trends.

The request dependencies mirror :mod:`enms.api.deps` (one transaction per request through
:func:`enms.core.db.request_scope`, the app's clock and settings): the import contract lets
only modules named ``api`` import that module.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query, Request
from sqlalchemy.orm import Session

from enms.core.clock import Clock
from enms.core.config import Settings
from enms.core.db import SessionFactory, request_scope
from enms.evaluation import record as recording
from enms.evaluation import trend as trends
from enms.evaluation.performance_schemas import RecordResult, TrendRead


async def _session(request: Request) -> AsyncIterator[Session]:
    factory: SessionFactory = request.app.state.session_factory
    async with request_scope(factory, write=request.method not in ("GET", "HEAD")) as session:
        yield session


def _clock(request: Request) -> Clock:
    clock: Clock = request.app.state.clock
    return clock


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


# scope="function": committed before the response is sent (as enms.api.deps.SessionDep).
SessionDep = Annotated[Session, Depends(_session, scope="function")]
ClockDep = Annotated[Clock, Depends(_clock)]
SettingsDep = Annotated[Settings, Depends(_settings)]

router = APIRouter(prefix="/model-performance/metrics", tags=["model-performance"])


@router.post("/record", status_code=201)
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
    machine_id: int,
    model_type: str,
    days: float | None = None,
    start: Annotated[str | None, Query(alias="from")] = None,
    end: Annotated[str | None, Query(alias="to")] = None,
    metric: Annotated[list[str] | None, Query()] = None,
    version: Annotated[int | None, Query(ge=1)] = None,
    source: Annotated[list[str] | None, Query()] = None,
) -> TrendRead:
    """Series per metric (downsampled), version changes, drift markers and projections."""
    return trends.trend(
        session=session,
        machine_id=machine_id,
        model_type=model_type,
        window=trends.resolve_window(days=days, start=start, end=end, clock=clock),
        metrics=trends.parse_metrics(metric, model_type),
        version=version,
        settings=settings,
        sources=trends.parse_sources(source),
    )
