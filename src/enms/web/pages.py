"""The dashboard: mounts every page's router and the static files.

Each page lives in its own ``page_*`` module (a router, its data assembly, its template and
its script ``static/page-*.js``); the shared layout is :mod:`enms.web.templating`. plotly.js
is served from the installed ``plotly`` package at ``/static/plotly.min.js`` so the dashboard
works on machines without internet access.
"""

from __future__ import annotations

import gzip
from functools import cache
from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import FileResponse, Response
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


@cache
def _plotly_js_gzip() -> bytes:
    """plotly.min.js gzipped once per process (≈ 4.8 MB → ≈ 1.5 MB)."""
    return gzip.compress(_plotly_js().read_bytes(), compresslevel=6, mtime=0)


PLOTLY_HEADERS = {"cache-control": "public, max-age=86400", "vary": "Accept-Encoding"}


def _accepts_gzip(request: Request) -> bool:
    """True when ``Accept-Encoding`` offers gzip with a quality above 0."""
    for offer in request.headers.get("accept-encoding", "").lower().split(","):
        name, _, params = offer.partition(";")
        if name.strip() == "gzip":
            quality = params.strip().removeprefix("q=") or "1"
            try:
                return float(quality) > 0
            except ValueError:
                return False
    return False


@router.get("/static/plotly.min.js", response_model=None)
def plotly_js(request: Request) -> Response | FileResponse:
    """plotly.js from the installed Python package (no CDN), gzipped when the client takes it."""
    if _accepts_gzip(request):
        return Response(
            _plotly_js_gzip(),
            media_type="application/javascript",
            headers={**PLOTLY_HEADERS, "content-encoding": "gzip"},
        )
    return FileResponse(_plotly_js(), media_type="application/javascript", headers=PLOTLY_HEADERS)


def mount_web(app: FastAPI) -> None:
    """Attach the pages and static files to ``app``."""
    app.include_router(router)
    login.install(app)
    for page in PAGES:
        app.include_router(page.router, dependencies=PAGE_ACCESS)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
