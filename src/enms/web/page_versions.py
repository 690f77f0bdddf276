"""The Versions page (``/ui/machines/{id}/models/{type}``): one machine's versions of one model
type side by side — metrics, gate verdicts, what each model recorded about itself — the alias
history, and promote / roll back with confirmation (through the public promotion API).

``/ui/api/versions/{id}/{type}`` is the same data as JSON, which the page script fetches
after a promotion or rollback to show the new champion without a reload.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse

from enms.api.deps import SessionDep, ViewClockDep
from enms.core.ids import Id
from enms.core.model_types import MODEL_TYPE_NAMES
from enms.readings.models import Machine
from enms.web.templating import not_found, render
from enms.web.versions_view import versions_page_data

router = APIRouter(include_in_schema=False)


@router.get("/ui/machines/{machine_id}/models/{model_type}", response_class=HTMLResponse)
def page(
    request: Request, machine_id: Id, model_type: str, session: SessionDep, clock: ViewClockDep
) -> HTMLResponse:
    """The versions of ``model_type`` for machine ``machine_id`` (404 page if unknown)."""
    machine = session.get(Machine, machine_id)
    if machine is None:
        return not_found(request, f"Machine {machine_id} does not exist.", active="machines")
    if model_type not in MODEL_TYPE_NAMES:
        known = ", ".join(MODEL_TYPE_NAMES)
        return not_found(
            request, f"Unknown model type {model_type!r}; one of {known}.", active="machines"
        )
    data = versions_page_data(session, machine, model_type, clock.now())
    return render(
        request,
        "versions.html",
        title=f"{machine.name} · {model_type} versions",
        active="machines",
        data=data,
        machine=machine,
        model_type=model_type,
        model_types=MODEL_TYPE_NAMES,
    )


@router.get("/ui/api/versions/{machine_id}/{model_type}")
def page_json(
    machine_id: Id, model_type: str, session: SessionDep, clock: ViewClockDep
) -> dict[str, Any]:
    """The page's data as JSON (404 naming the unknown machine or model type)."""
    machine = session.get(Machine, machine_id)
    if machine is None:
        raise HTTPException(404, f"Machine {machine_id} does not exist.")
    if model_type not in MODEL_TYPE_NAMES:
        known = ", ".join(MODEL_TYPE_NAMES)
        raise HTTPException(404, f"Unknown model type {model_type!r}; one of {known}.")
    return versions_page_data(session, machine, model_type, clock.now())
