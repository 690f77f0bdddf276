"""The A/B tests page (``/ui/ab-tests?machine_id=&model_type=``): the start form, running
tests with live per-arm results and the confidence interval of the difference B − A, and
finished tests with their verdict and the promotion it led to.

Starting and stopping go through the public A/B API; the page script refreshes the list
from ``/api/v1/model-performance/ab-tests`` and polls results of running tests only.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from enms.api.deps import SessionDep, SettingsDep, ViewClockDep
from enms.core.ids import Id
from enms.core.model_types import MODEL_TYPE_NAMES
from enms.readings.models import Machine
from enms.web.abtests_view import abtests_page_data
from enms.web.templating import not_found, render

router = APIRouter(include_in_schema=False)


@router.get("/ui/ab-tests", response_class=HTMLResponse)
def page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    clock: ViewClockDep,
    machine_id: Id | None = None,
    model_type: str | None = None,
) -> HTMLResponse:
    """A/B tests, optionally of one machine and/or model type (404 page if unknown)."""
    if machine_id is not None and session.get(Machine, machine_id) is None:
        return not_found(request, f"Machine {machine_id} does not exist.", active="ab-tests")
    if model_type == "":
        model_type = None
    if model_type is not None and model_type not in MODEL_TYPE_NAMES:
        known = ", ".join(MODEL_TYPE_NAMES)
        return not_found(
            request, f"Unknown model type {model_type!r}; one of {known}.", active="ab-tests"
        )
    data = abtests_page_data(session, settings, clock.now(), machine_id, model_type)
    return render(
        request, "ab_tests.html", title="A/B tests", active="ab-tests", charts=True, data=data
    )
