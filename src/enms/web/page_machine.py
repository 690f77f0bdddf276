"""The Machines pages: the list (``/ui/machines``), one machine's energy page
(``/ui/machines/{id}``) and its chart JSON (``/ui/api/machines/{id}/series``).

``/machines/{id}`` (the address people type from a machine's name) redirects (307) to the
machine page. The series are assembled by :mod:`enms.web.machine_data` (short read sessions,
no model work) and :mod:`enms.web.machine_payload`; the page script draws them.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.orm import Session

from enms.api.deps import SessionDep, get_view_clock
from enms.core.clock import Clock
from enms.core.db import SessionFactory, session_scope
from enms.core.ids import Id
from enms.core.model_types import MODEL_TYPE_NAMES
from enms.readings import service as readings
from enms.readings.models import Machine
from enms.registry import service as registry
from enms.web.machine_data import read_inputs
from enms.web.machine_payload import payload
from enms.web.machine_window import DEFAULT_DAYS, MAX_DAYS, resolve
from enms.web.templating import not_found, render

router = APIRouter(include_in_schema=False)
RANGES = (7, 30, 90, 365)


@router.get("/machines/{machine_id}")
def machine_redirect(machine_id: Id) -> RedirectResponse:
    """A machine's short address: its dashboard page."""
    return RedirectResponse(f"/ui/machines/{machine_id}", status_code=307)


@router.get("/ui/machines", response_class=HTMLResponse)
def machines(request: Request, session: SessionDep) -> HTMLResponse:
    """Every machine with its readings, span and champion versions, linking to its page."""
    return render(
        request,
        "machines.html",
        title="Machines",
        active="machines",
        rows=machine_rows(session),
        model_types=MODEL_TYPE_NAMES,
        head_css=True,
    )


def machine_rows(session: Session) -> list[dict[str, Any]]:
    """Every machine with its champion version number per model type."""
    champions: dict[int, dict[str, int]] = {}
    for model_type in MODEL_TYPE_NAMES:
        for version in registry.champions(session=session, model_type=model_type):
            champions.setdefault(version.machine_id, {})[model_type] = version.version
    return [
        {"machine": m, "champions": champions.get(m.id, {})}
        for m in readings.list_machines(session=session)
    ]


@router.get("/ui/machines/{machine_id}", response_class=HTMLResponse)
def machine_page(request: Request, machine_id: Id, session: SessionDep) -> HTMLResponse:
    """One machine: energy against its baseline, forecast, heatmap, anomalies, CUSUM, KPIs."""
    machine = session.get(Machine, machine_id)
    if machine is None:
        return not_found(request, f"Machine {machine_id} does not exist.", active="machines")
    clock: Clock = get_view_clock(request)
    models = []
    for model_type in MODEL_TYPE_NAMES:
        champion = registry.champion(session=session, machine_id=machine_id, model_type=model_type)
        versions = registry.list_versions(
            session=session, machine_id=machine_id, model_type=model_type
        )
        if versions:
            models.append(
                {
                    "type": model_type,
                    "champion": champion.version if champion else None,
                    "versions": len(versions),
                }
            )
    stats = {m.id: m for m in readings.list_machines(session=session)}[machine_id]
    data: dict[str, Any] = {
        "machine": {"id": machine.id, "name": machine.name, "timezone": machine.timezone},
        "now": clock.now().isoformat(),
        "default_days": DEFAULT_DAYS,
        "max_days": MAX_DAYS,
        "ranges": list(RANGES),
        "series_url": f"/ui/api/machines/{machine.id}/series",
    }
    return render(
        request,
        "machine.html",
        title=machine.name,
        active="machines",
        charts=True,
        machine=stats,
        models=models,
        data=data,
    )


@router.get("/ui/api/machines/{machine_id}/series")
def machine_series(
    request: Request,
    machine_id: Id,
    start: Annotated[str | None, Query(alias="from", description="ISO 8601, inclusive")] = None,
    end: Annotated[str | None, Query(alias="to", description="ISO 8601, exclusive")] = None,
    days: Annotated[int | None, Query(description="Window length up to `to` (default 30)")] = None,
) -> dict[str, Any]:
    """The machine page's chart data for ``[from, to)`` (default: the 30 days up to now)."""
    factory: SessionFactory = request.app.state.session_factory
    clock: Clock = get_view_clock(request)
    now = clock.now()
    window = resolve(start=start, end=end, days=days, now=now)
    with session_scope(factory) as session:
        machine = readings.get_machine(session=session, machine_id=machine_id)
        name, timezone = machine.name, machine.timezone
    inputs = read_inputs(factory, machine_id=machine_id, window=window, clock=clock)
    return payload(
        inputs, machine_id=machine_id, name=name, timezone=timezone, window=window, now=now
    )
