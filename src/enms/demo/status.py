"""The replay's weekly status line: drift flagged, energy off baseline, alerts and retrains.

Owns :func:`drift_now` (each (machine, model type)'s newest drift check up to the replay's
"now"), :func:`alerts_now` (alerts opened / resolved and automatic retrains so far) and
:func:`ab_tests_now` (A/B tests started, completed, won by B and promoted so far).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from enms.alerts.models import ModelAlert
from enms.evaluation.models import PerformanceMetric
from enms.experiments.models import ABTest
from enms.readings.models import Machine
from enms.registry.models import ModelAlias
from enms.training.models import TrainingJob


def alerts_now(session: Session, now: datetime) -> str:
    """``alerts: N opened, M resolved, K open (…); automatic retrains: J (C completed)``
    up to ``now``, or "" while there is none."""
    rows = session.execute(
        select(Machine.name, ModelAlert.alert_type, ModelAlert.state, ModelAlert.resolved_at)
        .join(Machine, Machine.id == ModelAlert.machine_id)
        .where(ModelAlert.created_at <= now)
    ).all()
    jobs = session.execute(
        select(TrainingJob.training_status).where(
            TrainingJob.trigger_type.in_(("drift", "degradation")), TrainingJob.created_at <= now
        )
    ).all()
    if not rows and not jobs:
        return ""
    resolved = sum(1 for r in rows if r.state == "resolved")
    still = [r for r in rows if r.state != "resolved"]
    kinds = sorted({f"{r.name} {r.alert_type}" for r in still})
    shown = f" ({', '.join(kinds[:6])}{', …' if len(kinds) > 6 else ''})" if kinds else ""
    completed = sum(1 for (status,) in jobs if status == "completed")
    return (
        f"; alerts: {len(rows)} opened, {resolved} resolved, {len(still)} open{shown}; "
        f"automatic retrains: {len(jobs)} ({completed} completed)"
    )


def ab_tests_now(session: Session, now: datetime) -> str:
    """``; A/B tests: N (R running, C completed: W won by B, P promoted)`` of the tests started
    up to ``now``, or "" while there is none."""
    rows = session.execute(
        select(ABTest.status, ABTest.winner, ABTest.promotion).where(ABTest.start_date <= now)
    ).all()
    if not rows:
        return ""
    running = sum(1 for r in rows if r.status == "running")
    completed = [r for r in rows if r.status == "completed"]
    won = sum(1 for r in completed if r.winner == "b")
    promoted = sum(1 for r in completed if (r.promotion or "").startswith("promoted"))
    return (
        f"; A/B tests: {len(rows)} ({running} running, {len(completed)} completed: "
        f"{won} won by B, {promoted} promoted)"
    )


def drift_now(session: Session, now: datetime) -> str:
    """``drift on: M (since D), …`` from each (machine, model type)'s newest drift check of
    its champion (challengers are checked too, but alerts come from champions) up to the
    replay's ``now`` (the server's own wall-clock runs may have written later ones)."""
    champions = select(ModelAlias.model_version_id).where(ModelAlias.alias == "champion")
    checks = (
        (PerformanceMetric.source == "drift_check")
        & (PerformanceMetric.evaluation_end <= now)
        & PerformanceMetric.model_id.in_(champions)
    )
    newest = (
        select(
            PerformanceMetric.machine_id,
            PerformanceMetric.model_type,
            func.max(PerformanceMetric.evaluation_end).label("end"),
        )
        .where(checks)
        .group_by(PerformanceMetric.machine_id, PerformanceMetric.model_type)
        .subquery()
    )
    latest = session.execute(
        select(
            Machine.name,
            PerformanceMetric.model_type,
            PerformanceMetric.drift_detected,
            PerformanceMetric.drift_details,
            PerformanceMetric.evaluation_end,
        )
        .join(Machine, Machine.id == PerformanceMetric.machine_id)
        .join(
            newest,
            (newest.c.machine_id == PerformanceMetric.machine_id)
            & (newest.c.model_type == PerformanceMetric.model_type)
            & (newest.c.end == PerformanceMetric.evaluation_end),
        )
        .where(checks)
    ).all()
    if not latest:
        return "no drift check has run yet"
    since: dict[str, datetime] = {}
    for name, _kind, detected, details, end in latest:
        if detected:
            at = _change_point(details) or end
            since[name] = min(since.get(name, at), at)
    flagged = ", ".join(f"{name} (since {at:%Y-%m-%d})" for name, at in sorted(since.items()))
    text = f"drift on: {flagged}" if since else "no drift flagged"
    excess = sorted(
        f"{name} {pct:+.0f} %"
        for name, kind, _detected, details, _end in latest
        if kind == "baseline" and (pct := _energy_excess(details)) is not None
    )
    return text + (f"; energy off its baseline: {', '.join(excess)}" if excess else "")


def _energy_excess(details: Any) -> float | None:
    """The energy-grade degradation's percent when the check found it degraded, else None."""
    try:
        energy = details["degradation"]["energy"]
    except (KeyError, TypeError):
        return None
    pct = energy.get("since_pct") if isinstance(energy, dict) else None
    return float(pct) if energy.get("degraded") and isinstance(pct, int | float) else None


def _change_point(details: Any) -> datetime | None:
    """The earliest ``change_point`` timestamp anywhere in a drift check's details."""
    found: list[datetime] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "change_point" and isinstance(value, str):
                    try:
                        at = datetime.fromisoformat(value)
                    except ValueError:
                        continue
                    found.append(at if at.tzinfo else at.replace(tzinfo=UTC))
                else:
                    walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(details)
    return min(found) if found else None
