"""Acceptance: a stale meter opens a ``data_quality`` alert and no drift alert.

Two compressors with a trained baseline serve April (scored into the prediction log). On
the first the meter then sticks at one value for the last day — the baseline's residuals
shift, so the drift check really detects drift (asserted, or the test would prove nothing);
on the second the energy really rises by the same amount (a leak, with the noise intact).
After ``data_quality_check`` and ``drift_checks`` the stuck meter has a data_quality alert
and no drift (nor degradation) alert; the leaking compressor has a drift alert and no
data_quality alert.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import select

from enms.alerts.data_quality import data_quality_check
from enms.alerts.models import ModelAlert
from enms.core.clock import FrozenClock
from enms.core.config import Settings
from enms.core.db import SessionFactory, session_scope
from enms.core.timewindow import Window
from enms.drift import service as drift
from enms.drift.tasks import drift_checks
from enms.predictions.service import score_versions
from enms.readings import parsing
from enms.readings import service as readings
from enms.readings.models import EnergyReading
from tests.factories import import_demo_machine, train_version

TRAINED_UNTIL = "2025-04-01"
END = datetime(2025, 4, 29, tzinfo=UTC)  # the newest reading of both machines
STUCK_HOURS = 96  # four days: the residual CUSUM clips each day's sum (see the assertion)


def _last_day(factory: SessionFactory, machine_id: int) -> pd.DataFrame:
    with session_scope(factory) as session:
        rows = session.execute(
            select(EnergyReading.ts, EnergyReading.energy_kwh)
            .where(
                EnergyReading.machine_id == machine_id,
                EnergyReading.ts > END - timedelta(hours=STUCK_HOURS),
                EnergyReading.ts <= END,
            )
            .order_by(EnergyReading.ts)
        ).all()
    return pd.DataFrame(rows, columns=["ts", "energy_kwh"])


def _rewrite(factory: SessionFactory, machine_id: int, frame: pd.DataFrame) -> None:
    """Upsert new energy values for the given timestamps (the drivers stay as they are)."""
    csv = pd.DataFrame(
        {
            "timestamp": frame["ts"].map(lambda t: t.strftime("%Y-%m-%dT%H:%M:%SZ")),
            "energy_kwh": frame["energy_kwh"].round(3),
        }
    ).to_csv(index=False)
    with session_scope(factory, write=True) as session:
        target = readings.get_machine(session=session, machine_id=machine_id)
        readings.import_readings(session=session, machine=target, parsed=parsing.parse_csv(csv))


def _machine(factory: SessionFactory, clock: FrozenClock, name: str) -> int:
    with session_scope(factory, write=True) as session:
        machine_id = import_demo_machine(session, clock, index=0, days=120, name=name).id
    with session_scope(factory, write=True) as session:
        readings.delete_readings(
            session=session, machine_id=machine_id, window=Window(END + timedelta(hours=1), None)
        )
    train_version(factory, clock, machine_id, "baseline", TRAINED_UNTIL)
    return machine_id


def _drift(
    factory: SessionFactory, settings: Settings, clock: FrozenClock, machine_id: int, end: datetime
) -> bool | None:
    """The baseline's drift verdict on ``[training end, end)`` (not recorded)."""
    start = datetime.fromisoformat(TRAINED_UNTIL).replace(tzinfo=UTC)
    return drift.check_drift(
        factory=factory,
        settings=settings,
        clock=clock,
        machine_id=machine_id,
        model_type="baseline",
        current=Window(start, end),
        record=False,
    ).drift_detected


def _alert_types(factory: SessionFactory, machine_id: int) -> set[str]:
    with session_scope(factory) as session:
        return set(
            session.scalars(
                select(ModelAlert.alert_type).where(ModelAlert.machine_id == machine_id)
            ).all()
        )


def test_a_stale_meter_opens_a_data_quality_alert_and_no_drift_alert(
    session_factory: SessionFactory, clock: FrozenClock, settings: Settings
) -> None:
    stuck = _machine(session_factory, clock, "Compressor stuck")
    leaking = _machine(session_factory, clock, "Compressor leaking")
    day = _last_day(session_factory, stuck)
    level = float(day["energy_kwh"].mean()) * 1.5
    _rewrite(session_factory, stuck, day.assign(energy_kwh=level))
    _rewrite(session_factory, leaking, day.assign(energy_kwh=day["energy_kwh"] * 1.5))
    now = FrozenClock(END + timedelta(minutes=70))
    while score_versions(factory=session_factory, settings=settings, clock=now)["points_written"]:
        pass

    # the stuck meter really looks like drift to the baseline's drift check (the window
    # drift_checks uses: everything since training), and only because of the stuck days
    assert _drift(session_factory, settings, now, stuck, now.now()) is True
    assert _drift(session_factory, settings, now, leaking, now.now()) is True
    before = END - timedelta(hours=STUCK_HOURS)
    assert _drift(session_factory, settings, now, stuck, before) is False

    quality = data_quality_check(factory=session_factory, settings=settings, clock=now)
    assert quality["conditions"] == {"meter_stopped": 0, "stale": 1, "gaps": 0}
    assert _alert_types(session_factory, stuck) == {"data_quality"}

    # enqueue (and the inhibition) are the actions branch's: called untyped until it merges.
    # TODO(integration): drop this guard once drift_checks takes enqueue.
    if "enqueue" not in inspect.signature(drift_checks).parameters:
        pytest.skip("drift_checks raises no alerts yet (no enqueue keyword: actions branch)")
    run_drift_checks: Callable[..., dict[str, Any]] = drift_checks
    report = run_drift_checks(
        factory=session_factory, settings=settings, clock=now, enqueue=lambda job_id: None
    )
    by_machine = {c["machine"]: c for c in report["checks"]}
    assert by_machine["Compressor stuck"]["drift_detected"] is True
    assert by_machine["Compressor leaking"]["drift_detected"] is True
    assert _alert_types(session_factory, stuck) == {"data_quality"}
    leaking_alerts = _alert_types(session_factory, leaking)
    assert "drift" in leaking_alerts
    assert "data_quality" not in leaking_alerts
