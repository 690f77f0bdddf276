"""The overview page (``/``) and its live refresh (``/ui/api/overview``): the fleet at a glance."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from enms.api.deps import SessionDep, SettingsDep, ViewClockDep
from enms.web.overview import plant_overview
from enms.web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
def index(
    request: Request, session: SessionDep, settings: SettingsDep, clock: ViewClockDep
) -> HTMLResponse:
    """Per machine and model type: champion, key metric with sparkline, ASHRAE 14, alerts,
    jobs and tests; every cell links to its detail page."""
    data = plant_overview(session, settings=settings, now=clock.now())
    return render(
        request, "index.html", title="Overview", active="overview", data=data, charts=True
    )


@router.get("/ui/api/overview")
def overview_json(
    session: SessionDep, settings: SettingsDep, clock: ViewClockDep
) -> dict[str, Any]:
    """The same document the page starts from, for its refresh every few seconds."""
    return plant_overview(session, settings=settings, now=clock.now())
