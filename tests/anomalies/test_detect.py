"""``anomaly_detect`` on a real trained champion: the injected spikes and dips are stored once
with score, threshold, direction and reason; a cluster opens one ``anomaly`` alert and a quiet
later window starts its clear clock; concurrent passes store each reading once.

Seeded simulation (hourly compressor, noise sd ≈ 4 kWh, injected ±60 kWh): every injected
reading must be found (recall 1) and at most ``MAX_OTHERS`` others flagged among the ~270 and
~350 scored readings (the detector targets one false alarm in 10,000 readings).
"""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pandas as pd
from sqlalchemy import select

from enms.alerts.models import ModelAlert
from enms.anomalies.models import AnomalyEvent
from enms.anomalies.service import recorded_threshold
from enms.anomalies.tasks import anomaly_detect
from enms.core.clock import FrozenClock
from enms.core.config import Settings
from enms.core.db import SessionFactory, session_scope
from enms.registry.models import AuditLog, ModelVersion
from tests.anomalies.conftest import CLUSTER, FIRST_END, Plant, cluster_settings, import_frame

MAX_OTHERS = 2


def _events(factory: SessionFactory) -> list[AnomalyEvent]:
    with session_scope(factory) as session:
        return list(session.scalars(select(AnomalyEvent).order_by(AnomalyEvent.ts)))


def _alerts(factory: SessionFactory) -> list[ModelAlert]:
    with session_scope(factory) as session:
        return list(session.scalars(select(ModelAlert).where(ModelAlert.alert_type == "anomaly")))


def _threshold(factory: SessionFactory) -> float:
    with session_scope(factory) as session:
        row = session.scalars(select(ModelVersion)).one()
        value = recorded_threshold(row)
    assert value is not None
    return value


def test_injected_anomalies_are_stored_with_reason_and_a_cluster_opens_one_alert(
    session_factory: SessionFactory, clock: FrozenClock, settings: Settings, plant: Plant
) -> None:
    config = cluster_settings(settings)
    result = anomaly_detect(factory=session_factory, settings=config, clock=clock)
    # Scored by the job itself (no score_predictions run): 2025-02-05 00:00 to 02-16 08:00.
    assert (result["machines"], result["scored_points"], result["errors"]) == (1, 273, [])
    assert result["missing_drivers"] == 0
    events = _events(session_factory)
    stamps = pd.DatetimeIndex([e.ts for e in events])
    injected = plant.up.append(plant.down)
    assert injected.isin(stamps).all()  # recall 1 on the 9 injected readings
    assert len(events) - len(injected) <= MAX_OTHERS
    assert result["new_events"] == len(events)
    threshold = _threshold(session_factory)
    for event in events:
        ts = pd.Timestamp(event.ts)
        actual = float(plant.frame["energy_kwh"][ts])
        assert event.energy_kwh == actual
        assert event.threshold == threshold
        assert event.score > threshold
        assert event.model_version == 1
        assert event.detected_at == clock.now()
        assert event.expected_kwh is not None
        if ts in plant.up:
            assert event.direction == "above_expected"
            assert abs(actual - event.expected_kwh - 60) < 20  # 60 kWh injected, sd ≈ 4
            gap = actual - event.expected_kwh
            assert event.reason == (
                f"{actual:.1f} kWh is {gap:.1f} kWh above the expected {event.expected_kwh:.1f} "
                f"kWh (score {event.score:.1f} > threshold {threshold:.1f})"
            )
        elif ts in plant.down:
            assert event.direction == "below_expected"
            assert " below the expected " in event.reason
    (alert,) = _alerts(session_factory)
    assert (alert.state, alert.severity, alert.model_type, alert.occurrences) == (
        "open",
        "warning",
        "anomaly",
        1,
    )
    assert alert.message == (
        "Compressor C1: 5 anomalous readings between 2025-02-16 03:00 and 07:00 UTC"
    )
    cluster_ids = [
        e.id for e in events if pd.Timestamp(e.ts) in pd.DatetimeIndex(CLUSTER, tz="UTC")
    ]
    assert alert.details["event_ids"] == cluster_ids
    assert alert.details["first_ts"] == "2025-02-16T03:00:00+00:00"
    assert alert.details["last_ts"] == "2025-02-16T07:00:00+00:00"
    assert (alert.details["cluster_count"], alert.details["cluster_hours"]) == (4, 6)
    assert alert.details["rule"].startswith("at least 4 anomalous readings within 6 h")
    assert alert.clear_since is None  # the newest six hours still hold the cluster
    assert result["alerts_opened"] == [
        {"alert_id": alert.id, "machine_id": plant.machine_id, "severity": "warning", "count": 5,
         "opened": True}
    ]  # fmt: skip
    with session_scope(session_factory) as session:
        audit = session.scalars(select(AuditLog).where(AuditLog.entity_id == str(alert.id))).all()
    assert [a.action for a in audit] == ["alert_opened"]


def test_a_second_pass_stores_nothing_and_a_quiet_window_reports_clear(
    session_factory: SessionFactory, clock: FrozenClock, settings: Settings, plant: Plant
) -> None:
    config = cluster_settings(settings)
    anomaly_detect(factory=session_factory, settings=config, clock=clock)
    before = _events(session_factory)
    clock.advance(timedelta(hours=1))
    again = anomaly_detect(factory=session_factory, settings=config, clock=clock)
    assert (again["scored_points"], again["new_events"], again["alerts_opened"]) == (0, 0, [])
    assert [e.id for e in _events(session_factory)] == [e.id for e in before]
    (alert,) = _alerts(session_factory)
    assert (alert.occurrences, alert.clear_since) == (1, None)  # not raised again, not clear

    # Four quiet days arrive: nothing injected in them, the newest six hours are clear.
    import_frame(session_factory, plant.machine_id, plant.frame[plant.frame.index >= FIRST_END])
    clock.advance(timedelta(hours=1))
    later = anomaly_detect(factory=session_factory, settings=config, clock=clock)
    assert later["scored_points"] == len(plant.frame[plant.frame.index >= FIRST_END])
    assert later["new_events"] <= MAX_OTHERS
    assert later["alerts_opened"] == []
    (alert,) = _alerts(session_factory)
    assert (alert.state, alert.occurrences, alert.clear_since) == ("open", 1, clock.now())
    assert later["alerts_cleared"] == [alert.id]


def test_concurrent_passes_store_each_flagged_reading_once(
    session_factory: SessionFactory, clock: FrozenClock, settings: Settings, plant: Plant
) -> None:
    config = cluster_settings(settings)
    results: list[dict[str, Any]] = []
    failures: list[BaseException] = []
    start = threading.Barrier(3)

    def run() -> None:
        start.wait()
        try:
            results.append(anomaly_detect(factory=session_factory, settings=config, clock=clock))
        except BaseException as exc:  # reported below, not swallowed
            failures.append(exc)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    events = _events(session_factory)
    assert len({(e.model_id, e.ts) for e in events}) == len(events)
    assert sum(r["new_events"] for r in results) == len(events) >= 9
    (alert,) = _alerts(session_factory)  # one open alert, whoever raised it
    assert alert.state == "open"


def test_the_threshold_comes_from_the_artifact_when_the_metrics_lack_it(
    session_factory: SessionFactory, clock: FrozenClock, settings: Settings, plant: Plant
) -> None:
    recorded = _threshold(session_factory)
    with session_scope(session_factory, write=True) as session:
        row = session.scalars(select(ModelVersion)).one()
        row.metrics_in_sample = {
            k: v for k, v in row.metrics_in_sample.items() if k != "alarm_threshold"
        }
    result = anomaly_detect(factory=session_factory, settings=settings, clock=clock)
    assert result["errors"] == []
    events = _events(session_factory)
    assert len(events) >= 9
    assert {round(e.threshold, 9) for e in events} == {round(recorded, 9)}
