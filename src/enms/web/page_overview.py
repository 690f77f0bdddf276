"""The overview page (``/``): the fleet at a glance."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from enms.api.deps import SessionDep
from enms.web.overview import plant_overview
from enms.web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
def index(request: Request, session: SessionDep) -> HTMLResponse:
    """The plant overview: machines, their champion models, the latest training jobs."""
    overview = plant_overview(session)
    return render(
        request,
        "index.html",
        title="Machines",
        active="overview",
        overview=overview,
        machines=[r.machine for r in overview.rows],
    )
