"""The periodic drift checks raise the champions' drift and degradation alerts (not the
challengers'), inhibited while the machine has an unresolved data-quality alert.

A real baseline of the demo compressor (spring-trained), a +12 % level shift of the logged
actuals from 2025-04-14 (concept drift and energy-grade degradation, as in
``tests/drift/test_check.py``); the same points are logged for a challenger.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest
from sqlalchemy import select, update

from enms.alerts.conditions import raise_condition
from enms.alerts.models import ModelAlert
from enms.core.clock import FrozenClock
from enms.core.config import Settings
from enms.core.db import SessionFactory, session_scope
from enms.core.timewindow import Window
from enms.drift.alerting import _degradation, energy_change_point
from enms.drift.schemas import DriftCheckRead
from enms.drift.tasks import drift_checks
from enms.training.models import TrainingJob
from tests.drift.test_check import COMPRESSOR, expected_energy, import_machine, log_points
from tests.factories import train_version

SHIFT = pd.Timestamp("2025-04-14", tz="UTC")
NOW = datetime(2025, 5, 5, tzinfo=UTC)


def test_a_drifting_champion_raises_inhibited_by_data_quality_challengers_never(
    session_factory: SessionFactory, clock: FrozenClock, settings: Settings
) -> None:
    machine_id = import_machine(session_factory, clock, index=COMPRESSOR)
    train_version(session_factory, clock, machine_id, "baseline", "2025-04-01")  # champion
    train_version(session_factory, clock, machine_id, "baseline", "2025-04-01")  # challenger
    frame = expected_energy(
        session_factory, machine_id, "baseline", Window.parse("2025-04-01", "2025-05-05")
    )
    actual = frame["energy_kwh"].where(frame.index < SHIFT, frame["energy_kwh"] * 1.12)
    points = pd.DataFrame({"predicted": frame["expected"], "actual": actual})
    for version in (1, 2):
        log_points(session_factory, clock, machine_id, "baseline", points, version=version)
    now = FrozenClock(NOW)
    queued: list[int] = []
    with session_scope(session_factory, write=True) as session:
        meter = raise_condition(
            session,
            machine_id=machine_id,
            model_type=None,
            alert_type="data_quality",
            severity="warning",
            message="Compressor C1: the meter stopped sending",
            details={},
            now=NOW,
        )

    report = drift_checks(
        factory=session_factory, settings=settings, clock=now, enqueue=queued.append
    )

    assert report["checked"] == 2
    champion, challenger = sorted(report["checks"], key=lambda c: c["version"])
    assert champion["drift_detected"] is True
    assert challenger["drift_detected"] is True  # checked, but a challenger raises nothing
    assert champion["inhibited"] == f"data_quality alert {meter.alert_id}"
    assert report["inhibited"] == 1
    assert report["alerts_opened"] == 0
    with session_scope(session_factory, write=True) as session:
        kinds = session.scalars(select(ModelAlert.alert_type)).all()
        assert kinds == ["data_quality"]
        session.execute(
            update(ModelAlert).where(ModelAlert.id == meter.alert_id).values(state="resolved")
        )

    report = drift_checks(
        factory=session_factory, settings=settings, clock=now, enqueue=queued.append
    )

    assert report["alerts_opened"] == 2
    assert "inhibited" not in report["checks"][0]
    with session_scope(session_factory) as session:
        rows = session.scalars(
            select(ModelAlert).where(ModelAlert.state == "open").order_by(ModelAlert.id)
        ).all()
        assert [(r.alert_type, r.model_type) for r in rows] == [
            ("drift", "baseline"),
            ("degradation", "baseline"),
        ]
        drift, degradation = rows
        check_id = next(c["id"] for c in report["checks"] if c["alias"] == "champion")
        assert drift.details["check_id"] == degradation.details["check_id"] == check_id
        assert drift.message.startswith("Compressor C1 baseline v1: concept drift since 2025-04-1")
        score = drift.details["drift_score"]
        limit = settings.alerts.critical_drift_score["baseline"]
        assert drift.severity == ("critical" if score >= limit else "warning")
        assert degradation.message.startswith("Compressor C1 baseline v1: degradation: energy NMBE")
        assert "beyond ±10 %" in degradation.message
        # the degradation's change point, from the daily excess energy: the shift's day
        assert degradation.details["change_point"] == "2025-04-13T22:00:00+00:00"  # Berlin day
        assert degradation.details["change_point_from"] == "energy residuals"
        # one retrain for both: the drift alert's on its change point, the other follows it
        (job_id,) = queued
        job = session.get(TrainingJob, job_id)
        assert job is not None
        assert job.trigger_type == "drift"
        assert drift.action_job_id == degradation.action_job_id == job_id
        assert job.data_start is not None
        assert abs(job.data_start - SHIFT.to_pydatetime()) < pd.Timedelta(days=2)
        assert job.data_end == NOW


def test_the_change_point_of_the_excess_energy_needs_days_on_both_sides() -> None:
    idx = pd.date_range("2025-05-01", periods=10 * 24, freq="h", tz="UTC")
    flat = pd.DataFrame({"actual": 100.0, "predicted": 100.0}, index=idx)
    assert energy_change_point(flat.iloc[: 7 * 24], "UTC") is None  # < 2 x 4 days
    late = flat.assign(actual=flat["actual"].where(idx < idx[-24], 112.0))
    found = energy_change_point(late, "UTC")
    assert found is not None
    assert found == datetime(2025, 5, 7, tzinfo=UTC)  # at most 4 days before the end


def _check(model_type: str, metrics: list[dict[str, object]]) -> DriftCheckRead:
    at = datetime(2025, 3, 10, tzinfo=UTC)
    return DriftCheckRead(
        id=1,
        model_id=1,
        machine_id=1,
        model_type=model_type,
        model_version=1,
        evaluation_date=at,
        current_start=at - timedelta(days=7),
        current_end=at,
        reference_start=None,
        reference_end=None,
        drift_detected=False,
        drift_score=0.1,
        reason=None,
        change_point=None,
        statement=None,
        n_samples=100,
        metrics={},
        drift_details={"degradation": {"energy": {}, "performance": {"metrics": metrics}}},
    )


def _metric(name: str, current: float, held_out: float, limit: float) -> dict[str, object]:
    return {
        "metric": name,
        "current": current,
        "held_out": held_out,
        "threshold": limit,
        "degraded": current > limit,
    }


def test_only_the_primary_metric_decides_a_performance_degradation(settings: Settings) -> None:
    """A forecaster whose MAPE crossed its threshold but whose RMSE (its primary metric) did
    not is not degraded; once the RMSE crosses, it is, and the MAPE is named as context."""
    mape = _metric("mape", 15.9, 12.6, 15.8)
    calm = _check("forecast_arima", [_metric("rmse", 0.70, 0.62, 0.78), mape])
    assert _degradation(calm, settings)[0] is False
    worse = _check("forecast_arima", [_metric("rmse", 0.86, 0.62, 0.78), mape])
    degraded, ratio, why = _degradation(worse, settings)
    assert degraded is True
    assert ratio == pytest.approx((0.86 - 0.62) / (0.78 - 0.62))
    assert why.startswith("rmse 0.86 past its threshold 0.78")
    assert "also mape 15.9" in why
    undecided = _check("baseline", [mape])  # no cv_rmse judged: nothing to decide on
    assert _degradation(undecided, settings)[0] is None
