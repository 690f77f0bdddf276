"""Promotion after an automatic retrain: the challenger replaces the champion only when its
MAE on the same logged timestamps is at least 5 % lower, decided at most once a day."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import select, update

from enms.alerts import promotion
from enms.alerts.conditions import raise_condition
from enms.alerts.models import ModelAlert
from enms.core.clock import FrozenClock
from enms.core.config import Settings
from enms.core.db import SessionFactory, session_scope
from enms.registry import service as registry
from enms.registry.models import AuditLog
from enms.training.models import TrainingJob
from tests.drift.test_check import COMPRESSOR, import_machine, log_points
from tests.factories import train_version

TRAINED = datetime(2025, 4, 1, tzinfo=UTC)


def _points(start: datetime, hours: int, error: float) -> pd.DataFrame:
    idx = pd.date_range(start, periods=hours, freq="h", tz="UTC")
    return pd.DataFrame({"actual": 100.0, "predicted": 100.0 + error}, index=idx)


def test_the_retrained_challenger_is_promoted_only_when_clearly_better(
    session_factory: SessionFactory, clock: FrozenClock, settings: Settings
) -> None:
    machine_id = import_machine(session_factory, clock, index=COMPRESSOR)
    train_version(session_factory, clock, machine_id, "baseline", "2025-04-01")  # champion v1
    train_version(session_factory, clock, machine_id, "baseline", "2025-04-01")  # challenger v2
    with session_scope(session_factory, write=True) as session:
        job_id = session.scalar(select(TrainingJob.id).where(TrainingJob.model_version == 2))
        alert_id = raise_condition(
            session,
            machine_id=machine_id,
            model_type="baseline",
            alert_type="drift",
            severity="warning",
            message="Compressor C1 baseline v1: concept drift",
            details={},
            now=TRAINED,
        ).alert_id
        session.execute(
            update(ModelAlert)
            .where(ModelAlert.id == alert_id)
            .values(auto_action="retrain", action_job_id=job_id)
        )
    # four days in the log; the challenger's error is 2.5 % below the champion's
    log_points(session_factory, clock, machine_id, "baseline", _points(TRAINED, 96, 2.0), 1)
    log_points(session_factory, clock, machine_id, "baseline", _points(TRAINED, 96, -1.95), 2)

    def run(at: datetime) -> list[dict[str, Any]]:
        done = promotion.promote_retrained(
            factory=session_factory, settings=settings, clock=FrozenClock(at)
        )
        waiting.extend(done["waiting"])
        decided: list[dict[str, Any]] = done["decided"]
        return decided

    waiting: list[dict[str, Any]] = []

    assert run(TRAINED + timedelta(days=2)) == []
    assert waiting == [{"alert_id": alert_id, "version": 2, "due": "2025-04-04T00:00:00+00:00"}]

    day5 = TRAINED + timedelta(days=5)
    (declined,) = run(day5)
    assert declined["outcome"] == (
        "kept champion v1: challenger v2 MAE 1.95 vs champion v1 MAE 2 on n=96 common points "
        "since 2025-04-01 00:00 UTC (needs at least 5 % lower)"
    )
    # another day of the challenger being clearly better; decided again only a day later
    day = day5 - timedelta(days=1)
    log_points(session_factory, clock, machine_id, "baseline", _points(day, 24, 2.0), 1)
    log_points(session_factory, clock, machine_id, "baseline", _points(day, 24, 0.5), 2)
    assert run(day5 + timedelta(hours=23)) == []
    (promoted,) = run(day5 + timedelta(days=1))
    # the five days: v2 |e| = (96 x 1.95 + 24 x 0.5) / 120 = 1.66 against 2.0
    assert promoted["mae_challenger"] == pytest.approx((96 * 1.95 + 24 * 0.5) / 120)
    assert promoted["n"] == 120
    assert str(promoted["outcome"]).startswith("promoted v2: challenger v2 MAE 1.66 vs")
    with session_scope(session_factory) as session:
        champion = registry.champion(session=session, machine_id=machine_id, model_type="baseline")
        assert champion is not None
        assert champion.version == 2
        (move,) = [
            m
            for m in registry.alias_history(
                session=session, machine_id=machine_id, model_type="baseline"
            )
            if m.action == "promote"
        ]
        assert move.actor == "enms-auto"
        assert move.reason is not None
        assert move.reason.startswith(f"alert {alert_id}: automatic retrain; challenger v2")
        rules = session.scalars(
            select(AuditLog.action)
            .where(AuditLog.entity_type == "model_alert", AuditLog.entity_id == str(alert_id))
            .order_by(AuditLog.id)
        ).all()
        assert rules == ["alert_opened", "auto_promotion_declined", "auto_promoted"]
        alert = session.get(ModelAlert, alert_id)
        assert alert is not None
        assert alert.auto_action_result == promoted["outcome"]
    assert run(day5 + timedelta(days=3)) == []  # nothing left to decide


def test_forecasters_are_compared_on_day_ahead_points_only() -> None:
    origin = pd.Timestamp("2025-06-01", tz="UTC")
    idx = pd.date_range(origin, periods=48, freq="h")
    frame = pd.DataFrame({"actual": 10.0, "predicted": 10.0, "origin": origin}, index=idx)
    frame.loc[idx[25:], "predicted"] = 50.0  # beyond a day ahead: not judged
    other = frame.assign(predicted=11.0)
    assert promotion.compare(frame, other, "forecast_arima") == (0.0, 1.0, 25)
    assert promotion.compare(frame, other, "baseline") == (23 * 40 / 48, 1.0, 48)
