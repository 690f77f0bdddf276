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
