"""Acceptance: concurrent raisers of one condition leave one unresolved alert (both dialects),
and of two concurrent acknowledgements exactly one wins."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from enms.alerts import service
from enms.alerts.conditions import raise_condition
from enms.alerts.models import UNRESOLVED_STATES, ModelAlert
from enms.core.clock import FrozenClock
from enms.core.db import SessionFactory, session_scope
from enms.core.errors import Conflict
from enms.registry.models import AuditLog
from tests.factories import make_machine

THREADS = 8


def _race(
    factory: SessionFactory, threads: int, work: Callable[[Session], Any]
) -> list[tuple[str, Any]]:
    """Run ``work`` in ``threads`` threads at once, each in its own write unit of work;
    returns ("ok", result) or ("error", exception) per thread."""
    barrier = threading.Barrier(threads, timeout=60)
    dialect = factory.kw["bind"].dialect.name

    def one(_index: int) -> tuple[str, Any]:
        try:
            with session_scope(factory, write=True) as session:
                if dialect == "postgresql":
                    # all transactions open before anyone writes: the race is real
                    session.connection()
                # (on SQLite the first statement queues at the write gate: wait before it)
                barrier.wait()
                return "ok", work(session)
        except Exception as exc:
            return "error", exc

    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(one, range(threads)))


def test_concurrent_raisers_leave_one_unresolved_alert(
    session_factory: SessionFactory, clock: FrozenClock
) -> None:
    with session_scope(session_factory, write=True) as session:
        machine_id = make_machine(session, clock).id

    def raise_it(session: Session) -> int:
        return raise_condition(
            session,
            machine_id=machine_id,
            model_type="baseline",
            alert_type="drift",
            severity="warning",
            message="residuals drifted",
            details={},
            now=clock.now(),
        ).alert_id

    outcomes = _race(session_factory, THREADS, raise_it)
    errors = [value for kind, value in outcomes if kind == "error"]
    assert errors == []
    assert len({value for _kind, value in outcomes}) == 1
    with session_scope(session_factory) as session:
        alerts = session.scalars(
            select(ModelAlert).where(ModelAlert.state.in_(UNRESOLVED_STATES))
        ).all()
        assert len(alerts) == 1
        assert alerts[0].occurrences == THREADS
        opened = session.scalar(
            select(func.count()).select_from(AuditLog).where(AuditLog.action == "alert_opened")
        )
        assert opened == 1


def test_of_two_concurrent_acknowledgements_one_wins(
    session_factory: SessionFactory, clock: FrozenClock
) -> None:
    with session_scope(session_factory, write=True) as session:
        machine_id = make_machine(session, clock).id
        alert_id = raise_condition(
            session,
            machine_id=machine_id,
            model_type="baseline",
            alert_type="degradation",
            severity="critical",
            message="CV(RMSE) above its threshold",
            details={},
            now=clock.now(),
        ).alert_id
    names = iter(["ana", "ben"])
    lock = threading.Lock()

    def ack(session: Session) -> str:
        with lock:
            who = next(names)
        service.acknowledge(session=session, alert_id=alert_id, by=who, note=None, now=clock.now())
        return who

    outcomes = _race(session_factory, 2, ack)
    winners = [value for kind, value in outcomes if kind == "ok"]
    losers = [value for kind, value in outcomes if kind == "error"]
    assert len(winners) == 1
    assert len(losers) == 1
    assert isinstance(losers[0], Conflict)
    assert "is acknowledged" in losers[0].message
    with session_scope(session_factory) as session:
        alert = session.get(ModelAlert, alert_id)
        assert alert is not None
        assert alert.acknowledged_by == winners[0]
        acks = session.scalars(select(AuditLog).where(AuditLog.action == "acknowledged")).all()
        assert [row.actor for row in acks] == winners


def test_concurrent_warnings_and_criticals_escalate_once(
    session_factory: SessionFactory, clock: FrozenClock
) -> None:
    """Half the raisers say warning, half critical: one alert, critical, and an escalation
    audited exactly when it was opened as a warning (never twice, never silently)."""
    with session_scope(session_factory, write=True) as session:
        machine_id = make_machine(session, clock).id
    severities = iter(["warning", "critical"] * (THREADS // 2))
    lock = threading.Lock()

    def raise_it(session: Session) -> bool:
        with lock:
            severity = next(severities)
        return raise_condition(
            session,
            machine_id=machine_id,
            model_type="baseline",
            alert_type="drift",
            severity=severity,
            message=severity,
            details={},
            now=clock.now(),
        ).escalated

    outcomes = _race(session_factory, THREADS, raise_it)
    assert [value for kind, value in outcomes if kind == "error"] == []
    escalated = sum(1 for _kind, value in outcomes if value)
    with session_scope(session_factory) as session:
        alert = session.scalars(select(ModelAlert)).one()
        assert alert.severity == "critical"
        assert alert.occurrences == THREADS
        rows = session.scalars(select(AuditLog).order_by(AuditLog.id)).all()
        opened_as = rows[0].details["severity"]
        assert rows[0].action == "alert_opened"
        audited = [row for row in rows if row.action == "alert_escalated"]
        expected = 1 if opened_as == "warning" else 0
        assert len(audited) == expected
        assert escalated == expected
