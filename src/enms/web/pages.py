"""The dashboard: mounts every page's router and the static files.

Each page lives in its own ``page_*`` module (a router, its data assembly, its template and
its script ``static/page-*.js``); the shared layout is :mod:`enms.web.templating`. plotly.js
is served from the installed ``plotly`` package at ``/static/plotly.min.js`` so the dashboard
works on machines without internet access.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from enms.auth.deps import PAGE_ACCESS
from enms.web import (
    login,
    page_abtests,
    page_alerts,
    page_machine,
    page_overview,
    page_performance,
    page_training,
    page_versions,
)
from enms.web.templating import HERE

router = APIRouter(include_in_schema=False)
PAGES = (
    page_overview,
    page_performance,
    page_training,
    page_alerts,
    page_versions,
    page_machine,
    page_abtests,
)


def _plotly_js() -> Path:
    import plotly

    return Path(plotly.__file__).resolve().parent / "package_data" / "plotly.min.js"


@router.get("/static/plotly.min.js")
def plotly_js() -> FileResponse:
    """plotly.js from the installed Python package (no CDN)."""
    return FileResponse(
        _plotly_js(),
        media_type="application/javascript",
        headers={"cache-control": "public, max-age=86400"},
    )


def mount_web(app: FastAPI) -> None:
    """Attach the pages and static files to ``app``."""
    app.include_router(router)
    login.install(app)
    for page in PAGES:
        app.include_router(page.router, dependencies=PAGE_ACCESS)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
