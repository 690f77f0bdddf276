"""The dashboard's shared rendering: the Jinja2 environment, the navigation and one
``render`` every page calls, so each page template gets the same layout context.

Sections (``NAV``) are what the top bar shows; a page names its section with ``active`` and
the bar highlights it (``aria-current="page"``). "Visualizations" is a menu, as in the seed
system, holding "Model Performance" and the machine pages.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from enms import __version__
from enms.auth.principal import Principal

HERE = Path(__file__).resolve().parent
templates = Jinja2Templates(directory=str(HERE / "templates"))


@dataclass(frozen=True)
class NavItem:
    """One entry of the top bar (``children`` makes it a menu)."""

    key: str
    label: str
    href: str
    children: tuple[NavItem, ...] = ()


NAV: tuple[NavItem, ...] = (
    NavItem("overview", "Overview", "/"),
    NavItem(
        "visualizations",
        "Visualizations",
        "/ui/model-performance",
        (
            NavItem("model-performance", "Model Performance", "/ui/model-performance"),
            NavItem("machines", "Machines", "/ui/machines"),
        ),
    ),
    NavItem("training", "Training", "/ui/training"),
    NavItem("alerts", "Alerts", "/ui/alerts"),
    NavItem("ab-tests", "A/B tests", "/ui/ab-tests"),
)


def section_of(active: str) -> str:
    """The top-level section a page key belongs to (a menu child highlights its menu)."""
    for item in NAV:
        if item.key == active or any(child.key == active for child in item.children):
            return item.key
    return active


def render(
    request: Request,
    template: str,
    *,
    title: str,
    active: str,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    """Render ``template`` inside the base layout."""
    return templates.TemplateResponse(
        request,
        template,
        {
            "title": title,
            "active": active,
            "section": section_of(active),
            "nav": NAV,
            "version": __version__,
            "principal": _principal(request),
            **context,
        },
        status_code=status_code,
    )


def _principal(request: Request) -> Principal | None:
    """Who the page is rendered for (set by the pages' access check; None on the login)."""
    principal = getattr(request.state, "principal", None)
    return principal if isinstance(principal, Principal) else None


def not_found(request: Request, message: str, *, active: str = "overview") -> HTMLResponse:
    """A 404 page in the layout, saying what was not found and where to go instead."""
    return render(
        request,
        "not_found.html",
        title="Not found",
        active=active,
        status_code=404,
        message=message,
    )
