"""The alert lifecycle: open → acknowledged → resolved by named rules, audited; hysteresis
(auto-resolve only after clear_hours of a clear condition); a new raise after resolution
opens a new alert."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from enms.alerts import service
from enms.alerts.conditions import raise_condition, report_clear
from enms.alerts.maintenance import auto_resolve
from enms.alerts.models import ModelAlert
from enms.core.clock import FrozenClock
from enms.core.config import Settings
from enms.core.db import SessionFactory, session_scope
from enms.core.errors import Conflict, InvalidInput, NotFound
from tests.factories import make_machine


def _raise(factory: SessionFactory, clock: FrozenClock, machine_id: int, **extra: str) -> int:
    with session_scope(factory, write=True) as session:
        return raise_condition(
            session,
            machine_id=machine_id,
            model_type=extra.get("model_type", "baseline"),
            alert_type=extra.get("alert_type", "drift"),
            severity=extra.get("severity", "warning"),
            message="residual mean shifted by 9 %",
            details={"drift_score": 0.5},
            now=clock.now(),
        ).alert_id


def _clear(factory: SessionFactory, clock: FrozenClock, machine_id: int) -> int | None:
    with session_scope(factory, write=True) as session:
        return report_clear(
            session,
            machine_id=machine_id,
            model_type="baseline",
            alert_type="drift",
            now=clock.now(),
        )


def _machine(factory: SessionFactory, clock: FrozenClock) -> int:
    with session_scope(factory, write=True) as session:
        return make_machine(session, clock).id


def test_open_acknowledge_resolve_each_audited_by_its_rule(
    session_factory: SessionFactory, clock: FrozenClock
) -> None:
    machine_id = _machine(session_factory, clock)
    alert_id = _raise(session_factory, clock, machine_id)
    clock.advance(timedelta(minutes=10))
    with session_scope(session_factory, write=True) as session:
        acked = service.acknowledge(
            session=session, alert_id=alert_id, by="ana", note="looking", now=clock.now()
        )
    assert acked.state == "acknowledged"
    assert acked.acknowledged_by == "ana"
    assert acked.acknowledged_note == "looking"
    clock.advance(timedelta(hours=1))
    with (
        session_scope(session_factory, write=True) as session,
        pytest.raises(Conflict, match="is acknowledged: acknowledged applies only to open"),
    ):
        service.acknowledge(
            session=session, alert_id=alert_id, by="ben", note=None, now=clock.now()
        )
    with (
        session_scope(session_factory, write=True) as session,
        pytest.raises(InvalidInput, match="note: must not be empty"),
    ):
        service.resolve(session=session, alert_id=alert_id, by="ana", note="  ", now=clock.now())
    with session_scope(session_factory, write=True) as session:
        done = service.resolve(
            session=session, alert_id=alert_id, by="ana", note="valve replaced", now=clock.now()
        )
    assert done.state == "resolved"
    assert (done.resolved_by, done.resolution_note) == ("ana", "valve replaced")
    assert done.resolved_at == clock.now()
    assert [(e.rule, e.actor) for e in done.history] == [
        ("alert_opened", "system"),
        ("acknowledged", "ana"),
        ("resolved_by_user", "ana"),
    ]
    assert done.history[1].reason == "looking"
    with session_scope(session_factory, write=True) as session:
        with pytest.raises(Conflict, match=f"alert {alert_id} is resolved"):
            service.resolve(
                session=session, alert_id=alert_id, by="ben", note="again", now=clock.now()
            )
        with pytest.raises(NotFound, match="no alert with id 999"):
            service.resolve(session=session, alert_id=999, by="ben", note="x", now=clock.now())


def test_hysteresis_a_flapping_condition_stays_one_alert_until_clear_long_enough(
    session_factory: SessionFactory, clock: FrozenClock, settings: Settings
) -> None:
    hours = settings.alerts.clear_hours
    machine_id = _machine(session_factory, clock)
    alert_id = _raise(session_factory, clock, machine_id)
    t0 = clock.now()
    assert _clear(session_factory, clock, machine_id) == alert_id
    clock.advance(timedelta(hours=hours) - timedelta(minutes=1))
    summary = auto_resolve(factory=session_factory, settings=settings, clock=clock)
    assert summary["resolved"] == 0
    # a second report does not move the clock that started at t0
    assert _clear(session_factory, clock, machine_id) == alert_id
    with session_scope(session_factory) as session:
        alert = session.get(ModelAlert, alert_id)
        assert alert is not None
        assert (alert.state, alert.clear_since) == ("open", t0)
    # the condition comes back just before the wait is over: the clock restarts
    assert _raise(session_factory, clock, machine_id) == alert_id
    t1 = clock.advance(timedelta(hours=1)).now()
    assert _clear(session_factory, clock, machine_id) == alert_id
    clock.advance(timedelta(hours=hours) - timedelta(seconds=1))
    assert auto_resolve(factory=session_factory, settings=settings, clock=clock)["resolved"] == 0
    clock.advance(timedelta(seconds=1))  # t1 + clear_hours
    summary = auto_resolve(factory=session_factory, settings=settings, clock=clock)
    assert summary == {"due": 1, "resolved": 1, "alert_ids": [alert_id], "more": False}
    with session_scope(session_factory) as session:
        detail = service.get(session=session, alert_id=alert_id, now=clock.now())
    assert detail.state == "resolved"
    assert detail.resolved_by == "system"
    assert detail.occurrences == 2
    assert f"since {t1:%Y-%m-%d %H:%M} UTC" in (detail.resolution_note or "")
    assert [e.rule for e in detail.history] == ["alert_opened", "condition_cleared"]
    assert detail.history[-1].at == clock.now()
    # nothing left to do on the next pass
    assert auto_resolve(factory=session_factory, settings=settings, clock=clock)["resolved"] == 0
    # the condition returns: a NEW alert; the history keeps both
    clock.advance(timedelta(hours=2))
    again = _raise(session_factory, clock, machine_id)
    assert again != alert_id
    with session_scope(session_factory) as session:
        states = session.execute(select(ModelAlert.id, ModelAlert.state).order_by(ModelAlert.id))
        assert [tuple(row) for row in states] == [(alert_id, "resolved"), (again, "open")]
        listed = service.history(session=session, now=clock.now())
    assert [a.id for a in listed] == [again, alert_id]


def test_only_alerts_reported_clear_auto_resolve(
    session_factory: SessionFactory, clock: FrozenClock, settings: Settings
) -> None:
    machine_id = _machine(session_factory, clock)
    informational = _raise(session_factory, clock, machine_id, alert_type="ab_test_completed")
    acknowledged = _raise(session_factory, clock, machine_id)
    with session_scope(session_factory, write=True) as session:
        service.acknowledge(
            session=session, alert_id=acknowledged, by="ana", note=None, now=clock.now()
        )
    _clear(session_factory, clock, machine_id)  # the drift condition only
    clock.advance(timedelta(hours=settings.alerts.clear_hours * 10))
    summary = auto_resolve(factory=session_factory, settings=settings, clock=clock)
    assert summary["alert_ids"] == [acknowledged]
    with session_scope(session_factory) as session:
        assert service.get(session=session, alert_id=informational, now=clock.now()).state == "open"
        done = service.get(session=session, alert_id=acknowledged, now=clock.now())
    assert done.state == "resolved"
    assert [e.rule for e in done.history] == ["alert_opened", "acknowledged", "condition_cleared"]
