"""HTML pages. Thin: each calls one service and renders a template.

plotly.js is served from the installed ``plotly`` package at ``/static/plotly.min.js`` so the
dashboard works on machines without internet access.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from enms import __version__
from enms.api.deps import SessionDep
from enms.web.overview import plant_overview

HERE = Path(__file__).resolve().parent
templates = Jinja2Templates(directory=str(HERE / "templates"))
router = APIRouter(include_in_schema=False)


def _plotly_js() -> Path:
    import plotly

    return Path(plotly.__file__).resolve().parent / "package_data" / "plotly.min.js"


@router.get("/", response_class=HTMLResponse)
def index(request: Request, session: SessionDep) -> HTMLResponse:
    """The plant overview: machines, their champion models, the latest training jobs."""
    overview = plant_overview(session)
    return templates.TemplateResponse(
        request,
        "index.html",
        {
            "overview": overview,
            "machines": [r.machine for r in overview.rows],
            "version": __version__,
            "active": "machines",
        },
    )


@router.get("/static/plotly.min.js")
def plotly_js() -> FileResponse:
    """plotly.js from the installed Python package (no CDN)."""
    return FileResponse(_plotly_js(), media_type="application/javascript")


def mount_web(app: FastAPI) -> None:
    """Attach the pages and static files to ``app``."""
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
