"""The Alerts page (``/ui/alerts``) and its JSON (``/ui/api/alerts``, ``/ui/api/alerts/{id}``).

Active alerts (open or acknowledged, critical first) and past ones (resolved, newest first,
within the chosen number of days before the server's clock), filtered by machine, model
type, state and severity; acknowledge / resolve with a note and silences go through the
public API (``/api/v1/alerts/...``, ``/api/v1/alert-silences``) from the page script. One
alert's JSON adds what the public API lacks: its details rendered readably
(:mod:`enms.web.alerts_details`, with the full results of its drift check when stored) and
the notification deliveries that covered it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from enms.alerts import service
from enms.alerts.models import ALERT_TYPES, SEVERITIES, STATES
from enms.alerts.notify import deliveries
from enms.alerts.schemas import AlertRead
from enms.api.deps import SessionDep, ViewClockDep
from enms.core.errors import InvalidInput
from enms.core.ids import Id
from enms.core.model_types import MODEL_TYPE_NAMES
from enms.core.timewindow import Window
from enms.evaluation.models import PerformanceMetric
from enms.readings import service as readings
from enms.web.alerts_details import render_details
from enms.web.templating import not_found, render

router = APIRouter(include_in_schema=False)
STATE_CHOICES = ("unresolved", *STATES)
DAY_CHOICES = (7, 30, 90, 365)
DEFAULT_DAYS = 90
#: Past alerts listed at most (newest first).
PAST_LIMIT = 500
#: Notification deliveries shown with one alert at most (newest first).
DELIVERIES_SHOWN = 20


def _check(value: str | None, allowed: tuple[str, ...], field: str) -> str | None:
    if not value:
        return None
    if value not in allowed:
        raise InvalidInput(f"{field}: {value!r} is not one of {', '.join(allowed)}")
    return value


@dataclass(frozen=True)
class AlertFilters:
    """The Alerts page's filters: query parameters of the page and of its JSON alike."""

    machine_id: int | None = None
    model_type: str | None = None
    state: str | None = None
    severity: str | None = None
    days: int = DEFAULT_DAYS

    def shown(self) -> dict[str, Any]:
        """The filters as the page's form shows them (empty for "any")."""
        return {
            "machine_id": self.machine_id,
            "model_type": self.model_type or "",
            "state": self.state or "",
            "severity": self.severity or "",
            "days": self.days,
        }


AlertFiltersDep = Annotated[AlertFilters, Depends()]


def find_alerts(
    session: Session, *, now: datetime, filters: AlertFilters
) -> dict[str, list[AlertRead]]:
    """``active``: unresolved alerts (any age); ``past``: resolved ones created in the last
    ``days`` days. A ``state`` filter empties the list it excludes."""
    machine_id, days = filters.machine_id, filters.days
    if machine_id is not None:
        readings.get_machine(session=session, machine_id=machine_id)
    model_type = _check(filters.model_type, MODEL_TYPE_NAMES, "model_type")
    state = _check(filters.state, STATE_CHOICES, "state")
    severity = _check(filters.severity, SEVERITIES, "severity")
    if not 1 <= days <= 3650:
        raise InvalidInput(f"days: must be between 1 and 3650, not {days}")
    active: list[AlertRead] = []
    past: list[AlertRead] = []
    if state != "resolved":
        active = service.list_active(
            session=session,
            now=now,
            machine_id=machine_id,
            model_type=model_type,
            severity=severity,
        )
        if state in STATES:
            active = [a for a in active if a.state == state]
    if state in (None, "resolved"):
        past = service.history(
            session=session,
            now=now,
            state="resolved",
            start=now - timedelta(days=days),
            machine_id=machine_id,
            model_type=model_type,
            limit=PAST_LIMIT,
        )
        if severity:
            past = [a for a in past if a.severity == severity]
    return {"active": active, "past": past}


def _lists_json(found: dict[str, list[AlertRead]]) -> dict[str, list[dict[str, Any]]]:
    return {key: [a.model_dump(mode="json") for a in rows] for key, rows in found.items()}


def drift_check_details(session: Session, details: dict[str, Any]) -> dict[str, Any] | None:
    """The full results of the drift check an alert names (None when gone or not named)."""
    check_id = details.get("check_id")
    if not isinstance(check_id, int):
        return None
    row = session.get(PerformanceMetric, check_id)
    return row.drift_details if row is not None else None


def deliveries_of(session: Session, alert: AlertRead) -> list[dict[str, Any]]:
    """The notifications that covered ``alert`` (newest first, without their payloads)."""
    logged = deliveries.list_deliveries(
        session, window=Window(alert.first_seen, None), limit=deliveries.MAX_LIMIT
    )
    covering = [d for d in logged.items if alert.id in d.alert_ids][:DELIVERIES_SHOWN]
    return [d.model_dump(mode="json", exclude={"payload"}) for d in covering]


@router.get("/ui/api/alerts")
def alerts_json(
    session: SessionDep, clock: ViewClockDep, filters: AlertFiltersDep
) -> dict[str, Any]:
    """Active and past alerts under the filters, with the server's clock."""
    now = clock.now()
    found = find_alerts(session, now=now, filters=filters)
    return {"now": now.isoformat(), **_lists_json(found)}


@router.get("/ui/api/alerts/{alert_id}")
def alert_json(alert_id: Id, session: SessionDep, clock: ViewClockDep) -> dict[str, Any]:
    """One alert with its history, its details rendered as facts and tables, and the
    notifications sent about it."""
    alert = service.get(session=session, alert_id=alert_id, now=clock.now())
    check = drift_check_details(session, alert.details) if alert.alert_type == "drift" else None
    return {
        "now": clock.now().isoformat(),
        "alert": alert.model_dump(mode="json"),
        "view": render_details(alert.alert_type, alert.details, check),
        "deliveries": deliveries_of(session, alert),
    }


@router.get("/ui/alerts", response_class=HTMLResponse)
def page(
    request: Request, session: SessionDep, clock: ViewClockDep, filters: AlertFiltersDep
) -> HTMLResponse:
    """Active and past alerts with filters, actions and silences."""
    machines = readings.list_machines(session=session)
    machine_id = filters.machine_id
    if machine_id is not None and all(m.id != machine_id for m in machines):
        return not_found(request, f"Machine {machine_id} does not exist.", active="alerts")
    now = clock.now()
    found = find_alerts(session, now=now, filters=filters)
    silences = service.list_silences(session=session, active_only=True, now=now)
    data = {
        "now": now.isoformat(),
        "filters": filters.shown(),
        **_lists_json(found),
        "silences": [s.model_dump(mode="json") for s in silences],
        "machines": [{"id": m.id, "name": m.name} for m in machines],
    }
    return render(
        request,
        "alerts.html",
        title="Alerts",
        active="alerts",
        machines=machines,
        model_types=MODEL_TYPE_NAMES,
        states=STATE_CHOICES,
        severities=SEVERITIES,
        alert_types=ALERT_TYPES,
        day_choices=sorted({*DAY_CHOICES, filters.days}),
        filters=filters.shown(),
        data=data,
    )
