"""The periodic data-quality check on a real database: stopped meters, stale values, gaps,
recovery (the hysteresis clock starts) and historical data (no alert)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import select

from enms.alerts.data_quality import data_quality_check
from enms.alerts.models import ModelAlert
from enms.core.clock import FrozenClock
from enms.core.config import Settings
from enms.core.db import SessionFactory, session_scope
from enms.readings import parsing
from enms.readings import service as readings
from tests.factories import make_machine

T = datetime(2025, 6, 3, 14, tzinfo=UTC)  # the newest reading of most scenarios
HOUR = timedelta(hours=1)


def _hourly(end: datetime, hours: int, seed: int = 0) -> tuple[list[datetime], list[float]]:
    """``hours`` hourly readings ending at ``end`` (inclusive) with varying energy."""
    rng = np.random.default_rng(seed)
    ts = [end - (hours - 1 - i) * HOUR for i in range(hours)]
    return ts, [float(round(v, 3)) for v in rng.uniform(10, 20, hours)]


def machine_with(
    factory: SessionFactory,
    clock: FrozenClock,
    ts: Sequence[datetime],
    energy: Sequence[float],
    name: str = "Compressor C1",
) -> int:
    """A machine with the given readings imported through the readings service."""
    frame = pd.DataFrame(
        {
            "timestamp": [t.strftime("%Y-%m-%dT%H:%M:%SZ") for t in ts],
            "energy_kwh": list(energy),
        }
    )
    with session_scope(factory, write=True) as session:
        machine = make_machine(session, clock, name=name)
        if len(ts):
            target = readings.get_machine(session=session, machine_id=machine.id)
            parsed = parsing.parse_csv(frame.to_csv(index=False))
            readings.import_readings(session=session, machine=target, parsed=parsed)
        return machine.id


def add_readings(
    factory: SessionFactory, machine_id: int, ts: Sequence[datetime], energy: Sequence[float]
) -> None:
    frame = pd.DataFrame(
        {"timestamp": [t.strftime("%Y-%m-%dT%H:%M:%SZ") for t in ts], "energy_kwh": list(energy)}
    )
    with session_scope(factory, write=True) as session:
        target = readings.get_machine(session=session, machine_id=machine_id)
        parsed = parsing.parse_csv(frame.to_csv(index=False))
        readings.import_readings(session=session, machine=target, parsed=parsed)


def alerts(factory: SessionFactory) -> list[dict[str, Any]]:
    with session_scope(factory) as session:
        rows = session.scalars(select(ModelAlert).order_by(ModelAlert.id)).all()
        return [
            {
                "machine_id": r.machine_id,
                "model_type": r.model_type,
                "alert_type": r.alert_type,
                "severity": r.severity,
                "state": r.state,
                "message": r.message,
                "details": r.details,
                "occurrences": r.occurrences,
                "clear_since": r.clear_since,
            }
            for r in rows
        ]


def check(factory: SessionFactory, settings: Settings, at: datetime) -> dict[str, Any]:
    return data_quality_check(factory=factory, settings=settings, clock=FrozenClock(at))


def test_a_meter_that_stops_sending_opens_a_data_quality_alert(
    session_factory: SessionFactory, clock: FrozenClock, settings: Settings
) -> None:
    """Acceptance: readings until T; at T+3 h nothing, at T+7 h a data_quality alert."""
    machine_id = machine_with(session_factory, clock, *_hourly(T, 48))

    early = check(session_factory, settings, T + 3 * HOUR)
    assert early["checked"] == 1
    assert early["alerts_opened"] == 0
    assert alerts(session_factory) == []

    late = check(session_factory, settings, T + 7 * HOUR)
    assert late["alerts_opened"] == 1
    assert late["conditions"] == {"meter_stopped": 1, "stale": 0, "gaps": 0}
    (alert,) = alerts(session_factory)
    assert alert["machine_id"] == machine_id
    assert (alert["model_type"], alert["alert_type"]) == (None, "data_quality")
    assert alert["severity"] == "warning"
    assert alert["state"] == "open"
    assert alert["message"] == "Compressor C1: no reading since 2025-06-03 14:00 UTC (7.0 h)"
    (condition,) = alert["details"]["conditions"]
    assert condition["kind"] == "meter_stopped"
    assert condition["since"] == T.isoformat()
    assert condition["hours"] == 7.0

    # a day later it is the same alert, counted, and critical (4 × stopped_hours = 24 h)
    later = check(session_factory, settings, T + 25 * HOUR)
    assert later["alerts_opened"] == 0
    (alert,) = alerts(session_factory)
    assert alert["occurrences"] == 2
    assert alert["severity"] == "critical"


def test_stale_non_zero_values_open_an_alert_constant_zero_does_not(
    session_factory: SessionFactory, clock: FrozenClock, settings: Settings
) -> None:
    ts, energy = _hourly(T, 48)
    stuck = machine_with(session_factory, clock, ts, [*energy[:-5], *[12.5] * 5], "Stuck S1")
    machine_with(session_factory, clock, ts, [*energy[:-5], *[0.0] * 5], "Off O1")
    brief = machine_with(session_factory, clock, ts, [*energy[:-3], *[12.5] * 3], "Brief B1")

    report = check(session_factory, settings, T + HOUR)

    assert report["checked"] == 3
    assert report["conditions"] == {"meter_stopped": 0, "stale": 1, "gaps": 0}
    (alert,) = alerts(session_factory)
    assert alert["machine_id"] == stuck != brief
    assert alert["message"] == (
        "Stuck S1: energy stuck at 12.5 kWh since 2025-06-03 10:00 UTC (5.0 h)"
    )
    (condition,) = alert["details"]["conditions"]
    assert (condition["kind"], condition["value"], condition["readings"]) == ("stale", 12.5, 5)


def test_gaps_above_the_share_open_an_alert(
    session_factory: SessionFactory, clock: FrozenClock, settings: Settings
) -> None:
    ts, energy = _hourly(T, 48)
    # 6 of the last 24 hourly readings missing (25 %) vs 4 missing (17 %) with gap_share 0.2
    holed = [i for i, t in enumerate(ts) if not (T - 12 * HOUR < t <= T - 6 * HOUR)]
    dented = [i for i, t in enumerate(ts) if not (T - 12 * HOUR < t <= T - 8 * HOUR)]
    gappy = machine_with(
        session_factory, clock, [ts[i] for i in holed], [energy[i] for i in holed], "Gappy G1"
    )
    machine_with(
        session_factory, clock, [ts[i] for i in dented], [energy[i] for i in dented], "Dent D1"
    )

    report = check(session_factory, settings, T + HOUR)

    assert report["conditions"] == {"meter_stopped": 0, "stale": 0, "gaps": 1}
    (alert,) = alerts(session_factory)
    assert alert["machine_id"] == gappy
    (condition,) = alert["details"]["conditions"]
    assert (condition["expected"], condition["missing"]) == (24, 6)
    assert condition["longest_gap_hours"] == 6.0
    assert "6 of 24 expected readings missing" in alert["message"]


def test_every_current_condition_is_in_the_one_alert(
    session_factory: SessionFactory, clock: FrozenClock, settings: Settings
) -> None:
    ts, energy = _hourly(T, 48)
    machine_with(session_factory, clock, ts, [*energy[:-6], *[7.25] * 6])

    check(session_factory, settings, T + 8 * HOUR)

    (alert,) = alerts(session_factory)
    assert alert["details"]["kinds"] == ["meter_stopped", "stale"]
    assert alert["message"] == (
        "Compressor C1: no reading since 2025-06-03 14:00 UTC (8.0 h); "
        "energy stuck at 7.25 kWh since 2025-06-03 09:00 UTC (6.0 h)"
    )


def test_fresh_readings_start_the_hysteresis_clock(
    session_factory: SessionFactory, clock: FrozenClock, settings: Settings
) -> None:
    machine_id = machine_with(session_factory, clock, *_hourly(T, 48))
    check(session_factory, settings, T + 7 * HOUR)
    assert alerts(session_factory)[0]["clear_since"] is None

    add_readings(session_factory, machine_id, *_hourly(T + 8 * HOUR, 8, seed=1))
    recovered = T + 8 * HOUR + 10 * timedelta(minutes=1)
    report = check(session_factory, settings, recovered)

    assert report["reported_clear"] == 1
    (alert,) = alerts(session_factory)
    assert alert["state"] == "open"  # resolving is the maintenance task's rule
    assert alert["clear_since"] == recovered

    # still clear an hour later: the clock keeps its start
    check(session_factory, settings, recovered + HOUR)
    assert alerts(session_factory)[0]["clear_since"] == recovered

    # the meter stops again: the repeat restarts the hysteresis clock
    check(session_factory, settings, T + 15 * HOUR)
    (alert,) = alerts(session_factory)
    assert alert["clear_since"] is None
    assert alert["occurrences"] == 2


def test_historical_data_opens_no_alert(
    session_factory: SessionFactory, clock: FrozenClock, settings: Settings
) -> None:
    """A year of history imported at once, stale and holed, is not a live meter."""
    ts, energy = _hourly(T, 24 * 30)
    energy[-10:] = [12.5] * 10
    machine_with(session_factory, clock, ts[1::2], energy[1::2])
    machine_with(session_factory, clock, [], [], "Empty E1")

    report = check(session_factory, settings, T + timedelta(days=200))

    assert alerts(session_factory) == []
    assert report["not_live"] == 1
    assert report["not_live_machines"] == [
        {"machine": "Compressor C1", "newest_reading": T.isoformat()}
    ]
    assert report["no_readings"] == 1
    assert report["checked"] == 0


def test_a_meter_silent_past_the_live_days_keeps_its_alert_as_it_is(
    session_factory: SessionFactory, clock: FrozenClock, settings: Settings
) -> None:
    """Once not live, the machine is neither raised (no more repeats) nor cleared."""
    machine_with(session_factory, clock, *_hourly(T, 48))
    check(session_factory, settings, T + 30 * HOUR)
    (opened,) = alerts(session_factory)
    assert opened["severity"] == "critical"

    report = check(
        session_factory, settings, T + timedelta(days=settings.data_quality.live_days, hours=1)
    )

    assert report["not_live"] == 1
    assert alerts(session_factory) == [opened]
