"""``ab_test_evaluate`` end to end on the real database (both dialects): a fixed-horizon
test completes at its planned end with B the winner, an ``ab_test_completed`` alert and the
promotion gate's outcome; a sequential test completes before its planned end once the
always-valid p-value is below alpha with the minimum sample; an A/A test ends inconclusive
and keeps the champion; an automatic retrain's challenger gets its test started by enms.

Data: ``ab_setup.simulate`` (hourly, AR(1) φ = 0.8 errors; seeds in each test), 50/50 by
hourly slots; B's errors scaled by 0.6 where B is better (MAE about 40 % lower)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from enms.alerts.conditions import raise_condition
from enms.alerts.models import ModelAlert
from enms.core.clock import FrozenClock
from enms.core.config import Settings
from enms.core.db import SessionFactory, session_scope
from enms.experiments.models import ABTest
from enms.experiments.tasks import ab_test_evaluate
from enms.registry import service as registry
from enms.registry.models import AuditLog
from enms.training.models import TrainingJob
from tests.experiments.ab_setup import Pair, log_points, make_pair, simulate

API = "/api/v1/model-performance"


def _run(factory: SessionFactory, settings: Settings, clock: FrozenClock) -> dict[str, Any]:
    return ab_test_evaluate(factory=factory, settings=settings, clock=clock)


def _simulate_into(
    factory: SessionFactory, pair: Pair, clock: FrozenClock, days: int, seed: int, b_scale: float
) -> None:
    ts, actual, pred_a, pred_b = simulate(clock.now(), days * 24, seed=seed, b_scale=b_scale)
    log_points(factory, pair, pair.a_id, ts, actual, pred_a)
    log_points(factory, pair, pair.b_id, ts, actual, pred_b)


def _gate_open(settings: Settings) -> Settings:
    """The registry test versions carry no ASHRAE/CalTRACK figures: the gate's baseline
    rules are switched off so the test rules decide."""
    promotion = settings.promotion.model_copy(
        update={"require_ashrae14": False, "require_sufficiency": False}
    )
    return settings.model_copy(update={"promotion": promotion})


def test_fixed_horizon_test_completes_at_its_end_and_b_is_promoted(
    client: TestClient, session_factory: SessionFactory, clock: FrozenClock, settings: Settings
) -> None:
    settings = _gate_open(settings)
    pair = make_pair(session_factory, clock)
    started = client.post(
        f"{API}/ab-test/start",
        json={
            "machine_id": pair.machine_id,
            "model_type": "baseline",
            "duration_days": 7,
            "sequential": False,
            "min_samples_per_arm": 50,
        },
    )
    test_id = started.json()["id"]
    _simulate_into(session_factory, pair, clock, 8, seed=21, b_scale=0.6)
    clock.advance(timedelta(days=6))
    assert _run(session_factory, settings, clock)["completed"] == []  # not due: no peeking
    clock.advance(timedelta(days=1, hours=1))
    done = _run(session_factory, settings, clock)
    assert [c["test_id"] for c in done["completed"]] == [test_id]
    r = client.get(f"{API}/ab-test/{test_id}/results").json()
    t = r["test"]
    assert (t["status"], t["winner"], r["verdict"]) == ("completed", "b", "b")
    assert t["p_value"] < 0.05
    assert t["confidence"] == 1 - t["p_value"]
    assert r["difference"]["estimate"] < 0
    assert r["difference"]["ci_high"] < 0
    assert t["promotion"].startswith("promoted v2"), t["promotion"]
    with session_scope(session_factory) as s:
        champion = registry.champion(session=s, machine_id=pair.machine_id, model_type="baseline")
        alert = s.scalars(
            select(ModelAlert).where(ModelAlert.alert_type == "ab_test_completed")
        ).one()
    assert champion is not None
    assert champion.version == 2
    assert f"A/B test {test_id} v1 vs v2 completed: B (v2) won" in alert.message
    assert alert.details["ab_test_id"] == test_id
    assert alert.clear_since is not None  # an event: it auto-resolves after the hysteresis
    # completed: a second pass leaves it alone, results are the stored ones
    assert _run(session_factory, settings, clock)["analysed"] == []
    assert client.post(f"{API}/ab-test/{test_id}/stop", json={"reason": "late"}).status_code == 409


def test_sequential_test_decides_before_its_planned_end(
    client: TestClient, session_factory: SessionFactory, clock: FrozenClock, settings: Settings
) -> None:
    settings = _gate_open(settings)
    pair = make_pair(session_factory, clock)
    test_id = client.post(
        f"{API}/ab-test/start",
        json={
            "machine_id": pair.machine_id,
            "model_type": "baseline",
            "duration_days": 30,
            "sequential": True,
            "min_samples_per_arm": 50,
        },
    ).json()["id"]
    _simulate_into(session_factory, pair, clock, 20, seed=5, b_scale=0.6)
    clock.advance(timedelta(days=2))
    assert _run(session_factory, settings, clock)["completed"] == []  # under min days
    clock.advance(timedelta(days=18))
    done = _run(session_factory, settings, clock)
    assert [c["test_id"] for c in done["completed"]] == [test_id]
    with session_scope(session_factory) as s:
        row = s.get(ABTest, test_id)
        assert row is not None
        assert row.winner == "b"
        assert row.end_date is not None
        assert row.planned_end_date is not None
        assert row.end_date < row.planned_end_date
        assert row.results is not None
        assert row.results["sequential"]["p_value"] < row.alpha


def test_an_a_a_test_ends_inconclusive_and_keeps_the_champion(
    client: TestClient, session_factory: SessionFactory, clock: FrozenClock, settings: Settings
) -> None:
    pair = make_pair(session_factory, clock)
    test_id = client.post(
        f"{API}/ab-test/start",
        json={
            "machine_id": pair.machine_id,
            "model_type": "baseline",
            "duration_days": 7,
            "sequential": False,
            "min_samples_per_arm": 50,
        },
    ).json()["id"]
    _simulate_into(session_factory, pair, clock, 7, seed=8, b_scale=1.0)
    clock.advance(timedelta(days=7, hours=1))
    _run(session_factory, settings, clock)
    r = client.get(f"{API}/ab-test/{test_id}/results").json()
    assert (r["test"]["status"], r["test"]["winner"], r["verdict"]) == (
        "completed",
        "inconclusive",
        "inconclusive",
    )
    assert r["test"]["promotion"].startswith("kept v1")
    with session_scope(session_factory) as s:
        champion = registry.champion(session=s, machine_id=pair.machine_id, model_type="baseline")
    assert champion is not None
    assert champion.version == 1


def test_an_automatic_retrains_challenger_is_tested_against_the_champion(
    session_factory: SessionFactory, clock: FrozenClock, settings: Settings
) -> None:
    pair = make_pair(session_factory, clock)
    with session_scope(session_factory, write=True) as s:
        job = TrainingJob(
            machine_id=pair.machine_id,
            model_type="baseline",
            model_version=2,
            training_status="completed",
            trigger_type="degradation",
            requested_by="enms-auto",
            created_at=clock.now(),
        )
        s.add(job)
        s.flush()
        job_id = job.id  # v2 came from this job
        raised = raise_condition(
            s,
            machine_id=pair.machine_id,
            model_type="baseline",
            alert_type="degradation",
            severity="warning",
            message="worse",
            details={},
            now=clock.now(),
        )
        alert = s.get(ModelAlert, raised.alert_id)
        assert alert is not None
        alert.auto_action, alert.action_job_id = "retrain", job_id
    done = _run(session_factory, settings, clock)
    (started,) = done["started"]
    assert (started["a"], started["b"]) == (1, 2)
    assert _run(session_factory, settings, clock)["started"] == []  # one test per version
    with session_scope(session_factory) as s:
        test = s.get(ABTest, started["test_id"])
        alert = s.get(ModelAlert, raised.alert_id)
        rules = s.scalars(
            select(AuditLog.action)
            .where(AuditLog.entity_type == "model_alert")
            .order_by(AuditLog.id)
        ).all()
    assert test is not None
    assert alert is not None
    assert (test.created_by, test.duration_days, test.min_samples_per_arm) == (
        "enms-auto",
        settings.ab_test.auto_duration_days,
        settings.ab_test.auto_min_samples_per_arm,
    )
    assert test.sequential is settings.ab_test.sequential
    assert (alert.auto_action_result or "").startswith(f"A/B test {test.id} started: v1")
    assert rules == ["alert_opened", "auto_ab_test_started"]
