"""``enms alerts list|show|ack|resolve|silence|silences|unsilence``.

``--json`` prints the same documents as the HTTP API (:mod:`enms.alerts.schemas`); the text
form is a table (list, silences) or a short report (show). Domain errors (no such alert, an
alert already resolved) become one ``error: …`` line and exit 1.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import click

from enms.alerts.models import ALERT_TYPES
from enms.alerts.schemas import AlertDetail, AlertRead, SilenceRead
from enms.core.cli_context import AppContext, emit, json_option, pass_app
from enms.core.db import session_scope
from enms.core.model_types import MODEL_TYPE_NAMES
from enms.core.timewindow import parse_instant

MESSAGE_WIDTH = 60
STATE_CHOICES = ("open", "acknowledged", "resolved", "unresolved")


@click.group("alerts")
def alerts_group() -> None:
    """Alerts: list, show, acknowledge, resolve, silence."""


def _age(since: datetime, now: datetime) -> str:
    """``45m``, ``5h``, ``3d 4h``.

    >>> from datetime import UTC
    >>> t = datetime(2026, 1, 1, tzinfo=UTC)
    >>> _age(t, t + timedelta(days=3, hours=4, minutes=5)), _age(t, t + timedelta(minutes=7))
    ('3d 4h', '7m')
    """
    minutes = max(int((now - since).total_seconds() // 60), 0)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    return f"{hours}h" if hours else f"{mins}m"


def _short(text: str, width: int = MESSAGE_WIDTH) -> str:
    line = " ".join(text.split())
    return line if len(line) <= width else line[: width - 1] + "…"


def alerts_table(alerts: list[AlertRead], now: datetime) -> str:
    """The alerts as a table (age since first seen)."""
    if not alerts:
        return "no alerts"
    lines = [
        f"{'ID':>5}  {'STATE':<12} {'SEVERITY':<8} {'MACHINE':<20} {'MODEL TYPE':<16} "
        f"{'TYPE':<17} {'AGE':>7} {'OCC':>4}  MESSAGE"
    ]
    for a in alerts:
        silenced = " (silenced)" if a.silenced else ""
        lines.append(
            f"{a.id:>5}  {a.state:<12} {a.severity:<8} {_short(a.machine_name, 20):<20} "
            f"{a.model_type or '-':<16} {a.alert_type:<17} {_age(a.first_seen, now):>7} "
            f"{a.occurrences:>4}  {_short(a.message)}{silenced}"
        )
    return "\n".join(lines)


def _when(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC" if moment is not None else "-"


def detail_text(alert: AlertDetail) -> str:
    """One alert as a short report with its history."""
    version = f" v{alert.model_version}" if alert.model_version is not None else ""
    lines = [
        f"alert {alert.id}: {alert.severity} {alert.alert_type} on {alert.machine_name}, "
        f"{alert.model_type or 'machine-level'}{version} — {alert.state}"
        + (" (silenced)" if alert.silenced else ""),
        f"  {alert.message}",
        f"  first seen {_when(alert.first_seen)}, last seen {_when(alert.last_seen)}, "
        f"{alert.occurrences} occurrence(s)",
    ]
    if alert.clear_since is not None and alert.state != "resolved":
        lines.append(f"  condition clear since {_when(alert.clear_since)}")
    if alert.acknowledged_at is not None:
        note = f": {alert.acknowledged_note}" if alert.acknowledged_note else ""
        lines.append(
            f"  acknowledged {_when(alert.acknowledged_at)} by {alert.acknowledged_by}{note}"
        )
    if alert.resolved_at is not None:
        lines.append(
            f"  resolved {_when(alert.resolved_at)} by {alert.resolved_by}: "
            f"{alert.resolution_note or ''}"
        )
    if alert.auto_action:
        job = f" (job {alert.action_job_id})" if alert.action_job_id is not None else ""
        lines.append(
            f"  automatic action: {alert.auto_action}{job}: {alert.auto_action_result or ''}"
        )
    lines.append("history:")
    for event in alert.history:
        why = f": {_short(event.reason, 80)}" if event.reason else ""
        lines.append(f"  {_when(event.at)}  {event.rule:<17} by {event.actor}{why}")
    return "\n".join(lines)


def silences_table(silences: list[SilenceRead]) -> str:
    """Silences as a table."""
    if not silences:
        return "no silences"
    lines = [
        f"{'ID':>4}  {'MACHINE':<20} {'MODEL TYPE':<16} {'TYPE':<17} {'EXPIRES':<20} "
        f"{'STATUS':<8} {'BY':<12} REASON"
    ]
    for s in silences:
        status = "active" if s.active else ("ended" if s.ended_at else "expired")
        lines.append(
            f"{s.id:>4}  {_short(s.machine_name or 'any', 20):<20} {s.model_type or 'any':<16} "
            f"{s.alert_type or 'any':<17} {_when(s.expires_at):<20} {status:<8} "
            f"{_short(s.author, 12):<12} {_short(s.reason, 40)}"
        )
    return "\n".join(lines)


def _machine_id(app: AppContext, name: str | None) -> int | None:
    if name is None:
        return None
    from enms.readings import service as readings

    with session_scope(app.session_factory) as session:
        return readings.get_machine_by_name(session=session, name=name).id


@alerts_group.command("list")
@click.option(
    "--state",
    type=click.Choice(STATE_CHOICES),
    default="unresolved",
    show_default=True,
    help="unresolved = open or acknowledged (ordered critical first, then oldest).",
)
@click.option("--machine", default=None, help="Machine name.")
@click.option("--model-type", type=click.Choice(MODEL_TYPE_NAMES), default=None)
@click.option("--limit", type=click.IntRange(1, 1000), default=100, show_default=True)
@json_option
@pass_app
def list_alerts(
    app: AppContext,
    state: str,
    machine: str | None,
    model_type: str | None,
    limit: int,
    as_json: bool,
) -> None:
    """List alerts (default: the unresolved ones)."""
    from enms.alerts import service

    machine_id = _machine_id(app, machine)
    now = app.clock.now()
    with session_scope(app.session_factory) as session:
        if state == "unresolved":
            found = service.list_active(
                session=session, now=now, machine_id=machine_id, model_type=model_type
            )[:limit]
        else:
            found = service.history(
                session=session,
                now=now,
                state=state,
                machine_id=machine_id,
                model_type=model_type,
                limit=limit,
            )
    emit(found, as_json, lambda alerts: alerts_table(alerts, now))


@alerts_group.command("show")
@click.argument("alert_id", type=int)
@json_option
@pass_app
def show(app: AppContext, alert_id: int, as_json: bool) -> None:
    """Show alert ALERT_ID with its history."""
    from enms.alerts import service

    with session_scope(app.session_factory) as session:
        alert = service.get(session=session, alert_id=alert_id, now=app.clock.now())
    emit(alert, as_json, detail_text)


@alerts_group.command("ack")
@click.argument("alert_id", type=int)
@click.option("--by", required=True, help="Who acknowledges.")
@click.option("--note", default=None, help="What is being done.")
@json_option
@pass_app
def ack(app: AppContext, alert_id: int, by: str, note: str | None, as_json: bool) -> None:
    """Acknowledge open alert ALERT_ID."""
    from enms.alerts import service

    with session_scope(app.session_factory, write=True) as session:
        alert = service.acknowledge(
            session=session, alert_id=alert_id, by=by, note=note, now=app.clock.now()
        )
    emit(alert, as_json, lambda a: f"alert {a.id} acknowledged by {a.acknowledged_by}")


@alerts_group.command("resolve")
@click.argument("alert_id", type=int)
@click.option("--by", required=True, help="Who resolves.")
@click.option("--note", required=True, help="Why it is resolved.")
@json_option
@pass_app
def resolve(app: AppContext, alert_id: int, by: str, note: str, as_json: bool) -> None:
    """Resolve alert ALERT_ID (open or acknowledged)."""
    from enms.alerts import service

    with session_scope(app.session_factory, write=True) as session:
        alert = service.resolve(
            session=session, alert_id=alert_id, by=by, note=note, now=app.clock.now()
        )
    emit(alert, as_json, lambda a: f"alert {a.id} resolved by {a.resolved_by}")


@alerts_group.command("silence")
@click.option("--machine", default=None, help="Machine name (default: any machine).")
@click.option("--model-type", type=click.Choice(MODEL_TYPE_NAMES), default=None)
@click.option("--alert-type", type=click.Choice(ALERT_TYPES), default=None)
@click.option("--hours", type=click.FloatRange(min=0, min_open=True), default=None)
@click.option("--until", default=None, help="ISO 8601 expiry (naive means UTC).")
@click.option("--reason", required=True)
@click.option("--by", required=True, help="Who silences.")
@json_option
@pass_app
def silence(
    app: AppContext,
    machine: str | None,
    model_type: str | None,
    alert_type: str | None,
    hours: float | None,
    until: str | None,
    reason: str,
    by: str,
    as_json: bool,
) -> None:
    """Mute notifications of matching alerts for --hours or --until a time."""
    from enms.alerts import service

    if (hours is None) == (until is None):
        raise click.UsageError("give exactly one of --hours and --until")
    now = app.clock.now()
    expires = now + timedelta(hours=hours) if hours else parse_instant(str(until), field="--until")
    machine_id = _machine_id(app, machine)
    with session_scope(app.session_factory, write=True) as session:
        created = service.create_silence(
            session=session,
            machine_id=machine_id,
            model_type=model_type,
            alert_type=alert_type,
            author=by,
            reason=reason,
            expires_at=expires,
            now=now,
        )
    emit(created, as_json, lambda s: f"silence {s.id} active until {_when(s.expires_at)}")


@alerts_group.command("silences")
@click.option("--all", "show_all", is_flag=True, help="Include ended and expired silences.")
@json_option
@pass_app
def silences(app: AppContext, show_all: bool, as_json: bool) -> None:
    """List silences (default: those in force now)."""
    from enms.alerts import service

    with session_scope(app.session_factory) as session:
        found = service.list_silences(
            session=session, active_only=not show_all, now=app.clock.now()
        )
    emit(found, as_json, silences_table)


@alerts_group.command("unsilence")
@click.argument("silence_id", type=int)
@click.option("--by", default=None, help="Who ends the silence.")
@json_option
@pass_app
def unsilence(app: AppContext, silence_id: int, by: str | None, as_json: bool) -> None:
    """End silence SILENCE_ID now."""
    from enms.alerts import service

    with session_scope(app.session_factory, write=True) as session:
        ended = service.end_silence(
            session=session, silence_id=silence_id, by=by, now=app.clock.now()
        )
    emit(ended, as_json, lambda s: f"silence {s.id} ended")
