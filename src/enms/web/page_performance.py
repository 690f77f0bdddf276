"""The Model performance page (``/ui/model-performance``) and its JSON (``/ui/api/performance``).

The page: machine, model-type, range and windows selectors; metric trend charts with version
changes, drift markers and the projection; the latest evaluation; unresolved alerts; the
training jobs with live progress and "Trigger retraining" (the public trigger API). Its
charts fetch ``/ui/api/performance/trend`` (compact, downsampled in the database) and its
side panel ``/ui/api/performance/panel``; the selection lives in the URL (replaceState).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from enms.api.deps import SessionDep, SettingsDep, ViewClockDep
from enms.core.ids import Id
from enms.core.model_types import MODEL_TYPE_NAMES, check_model_type
from enms.readings import service as readings
from enms.web import performance_data as data
from enms.web.templating import not_found, render

router = APIRouter(include_in_schema=False)
TREND_URL = "/ui/api/performance/trend"
Days = Annotated[float | None, Query(description="Range: days back from the server's now.")]


@router.get("/ui/model-performance", response_class=HTMLResponse)
def page(
    request: Request,
    session: SessionDep,
    clock: ViewClockDep,
    machine_id: Id | None = None,
    model_type: str = "baseline",
    days: Days = None,
    windows: str = "daily",
) -> HTMLResponse:
    """The page for one machine's model type (default: the first machine's baseline)."""
    check_model_type(model_type)
    span = data.parse_days(days)
    data.parse_windows(windows)
    machines = readings.list_machines(session=session)
    if machine_id is not None and all(m.id != machine_id for m in machines):
        return not_found(
            request, f"Machine {machine_id} does not exist.", active="model-performance"
        )
    selected = machine_id if machine_id is not None else (machines[0].id if machines else None)
    page_data: dict[str, Any] = {
        "now": clock.now().isoformat(),
        "machines": [{"id": m.id, "name": m.name} for m in machines],
        "model_types": list(MODEL_TYPE_NAMES),
        "ranges": list(data.RANGES),
        "windows_choices": list(data.WINDOW_SOURCES),
        "selection": {
            "machine_id": selected,
            "model_type": model_type,
            "days": span,
            "windows": windows,
        },
    }
    # The charts' request starts with the page (in parallel with plotly's download and parse)
    # and the script's fetch of the same URL takes the preloaded answer.
    preload = (
        f"{TREND_URL}?machine_id={selected}&model_type={model_type}&days={span:g}&windows={windows}"
        if selected is not None
        else None
    )
    return render(
        request,
        "model_performance.html",
        preload=preload,
        title="Model performance",
        active="model-performance",
        charts=True,
        data=page_data,
    )


def _machine(session: SessionDep, machine_id: int) -> None:
    readings.get_machine(session=session, machine_id=machine_id)  # NotFound → 404 naming it


@router.get(TREND_URL)
def trend_json(
    session: SessionDep,
    settings: SettingsDep,
    clock: ViewClockDep,
    machine_id: Id,
    model_type: str,
    days: Days = None,
    windows: str = "daily",
) -> dict[str, Any]:
    """The charts' data: every metric of the type, version changes, drift, projections."""
    check_model_type(model_type)
    _machine(session, machine_id)
    parts = data.read_chart_trend(
        session=session,
        settings=settings,
        machine_id=machine_id,
        model_type=model_type,
        days=data.parse_days(days),
        windows=windows,
        now=clock.now(),
    )
    session.rollback()  # a read-only session: the transaction ends before the statistics
    return data.compact_trend(parts, settings)


@router.get("/ui/api/performance/panel")
def panel_json(
    session: SessionDep, clock: ViewClockDep, machine_id: Id, model_type: str
) -> dict[str, Any]:
    """Champion, latest evaluation, unresolved alerts, jobs and running tests."""
    check_model_type(model_type)
    _machine(session, machine_id)
    return data.panel(session, machine_id=machine_id, model_type=model_type, now=clock.now())
