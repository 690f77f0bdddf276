"""Smoke test of the skeleton's raise/clear on both dialects (the lifecycle branch adds more)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from enms.alerts.conditions import raise_condition, report_clear
from enms.alerts.models import ModelAlert
from enms.core.clock import FrozenClock
from tests.factories import make_machine


def test_a_repeat_counts_instead_of_duplicating(session: Session, clock: FrozenClock) -> None:
    machine = make_machine(session, clock)
    common: dict[str, Any] = {
        "machine_id": machine.id,
        "model_type": "baseline",
        "alert_type": "drift",
        "details": {},
        "now": clock.now(),
    }
    first = raise_condition(session, severity="warning", message="a", **common)
    second = raise_condition(session, severity="critical", message="b", **common)
    third = raise_condition(session, severity="warning", message="c", **common)
    assert first.opened
    assert not second.opened
    assert second.escalated
    assert not third.escalated
    assert first.alert_id == second.alert_id == third.alert_id
    rows = session.scalars(select(ModelAlert)).all()
    assert len(rows) == 1
    assert rows[0].occurrences == 3
    assert rows[0].severity == "critical"
    assert (
        report_clear(
            session,
            machine_id=machine.id,
            model_type="baseline",
            alert_type="drift",
            now=clock.now(),
        )
        == first.alert_id
    )


def test_many_raises_on_one_connection_keep_upserting(session: Session, clock: FrozenClock) -> None:
    """PostgreSQL switches a statement prepared five times to a generic plan; the upsert must
    still infer the partial unique index then (it failed with "no unique or exclusion
    constraint matching the ON CONFLICT specification" in the demo's replay)."""
    machine = make_machine(session, clock)
    for i in range(12):
        raise_condition(
            session,
            machine_id=machine.id,
            model_type="baseline",
            alert_type=("drift", "degradation")[i % 2],
            severity="warning",
            message=f"raise {i}",
            details={},
            now=clock.now(),
        )
    rows = session.scalars(select(ModelAlert).order_by(ModelAlert.alert_type)).all()
    assert [(r.alert_type, r.occurrences) for r in rows] == [("degradation", 6), ("drift", 6)]
