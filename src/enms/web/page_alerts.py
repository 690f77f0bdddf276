"""The Alerts page (stub: being built)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from enms.web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/ui/alerts", response_class=HTMLResponse)
def page(request: Request) -> HTMLResponse:
    """Placeholder."""
    return render(request, "stub.html", title="Alerts", active="alerts")
