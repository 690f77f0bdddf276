"""The results of a running A/B test, read from the prediction log (both dialects).

Seeded simulation (``ab_setup.simulate``): hourly readings, AR(1) errors (φ = 0.8) with a
component shared by both versions, B's errors scaled by 0.7; v1 is arm A, v2 arm B, 50/50 by
60-minute slots. The endpoint's figures are checked against a computation in the test on
the simulated errors, split by :func:`enms.experiments.arms.arms_for` independently of the
database path: per-arm n and MAE, the arm test and the paired Diebold–Mariano (the same
statistics functions on the test's own split), the SRM share on slots. Reading results never
writes; ``ab_test_evaluate`` then tags exactly the in-memory assignment, and the figures do
not change. A served arm (a point written with its arm) overrides the slot assignment.
"""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from enms.core.clock import FrozenClock
from enms.core.config import Settings
from enms.core.db import SessionFactory, session_scope
from enms.experiments import stats
from enms.experiments.analysis import Analysis
from enms.experiments.arms import arms_for
from enms.experiments.schemas import ABTestStart
from enms.experiments.tasks import ab_test_evaluate
from enms.predictions.models import PredictionPoint
from tests.experiments.ab_setup import log_points, make_pair, simulate

API = "/api/v1/model-performance"
DAYS = 10


def _start(client: TestClient, machine_id: int, **design: object) -> int:
    answer = client.post(
        f"{API}/ab-test/start", json={"machine_id": machine_id, "model_type": "baseline", **design}
    )
    assert answer.status_code == 201, answer.text
    return int(answer.json()["id"])


def _arm_counts(factory: SessionFactory, model_id: int) -> dict[str | None, int]:
    with session_scope(factory) as s:
        rows = s.execute(
            select(PredictionPoint.arm, func.count())
            .where(PredictionPoint.model_id == model_id)
            .group_by(PredictionPoint.arm)
        ).all()
    return {arm: int(n) for arm, n in rows}


def test_results_match_a_computation_on_the_logged_errors(
    client: TestClient, session_factory: SessionFactory, clock: FrozenClock, settings: Settings
) -> None:
    pair = make_pair(session_factory, clock)
    test_id = _start(client, pair.machine_id)
    ts, actual, pred_a, pred_b = simulate(clock.now(), DAYS * 24, seed=11, b_scale=0.7)
    log_points(session_factory, pair, pair.a_id, ts, actual, pred_a)
    log_points(session_factory, pair, pair.b_id, ts, actual, pred_b)
    clock.advance(timedelta(days=DAYS))

    answer = client.get(f"{API}/ab-test/{test_id}/results")
    assert answer.status_code == 200, answer.text
    r = answer.json()
    arms = arms_for(test_id, ts, 0.5, slot_minutes=60)
    in_a, in_b = arms == "a", arms == "b"
    loss_a, loss_b = np.abs(actual - pred_a), np.abs(actual - pred_b)
    by_arm = {a["arm"]: a for a in r["arms"]}
    assert (by_arm["a"]["n"], by_arm["b"]["n"]) == (int(in_a.sum()), int(in_b.sum()))
    assert by_arm["a"]["mae"] == pytest.approx(float(np.mean(loss_a[in_a])))
    assert by_arm["b"]["mae"] == pytest.approx(float(np.mean(loss_b[in_b])))
    assert by_arm["b"]["rmse"] == pytest.approx(
        float(np.sqrt(np.mean((actual - pred_b)[in_b] ** 2)))
    )
    expected = stats.compare_arms(ts[in_a], loss_a[in_a], ts[in_b], loss_b[in_b], alpha=0.05)
    diff = r["difference"]
    assert diff["estimate"] == pytest.approx(expected.estimate)
    assert (diff["ci_low"], diff["ci_high"]) == (
        pytest.approx(expected.ci_low),
        pytest.approx(expected.ci_high),
    )
    assert diff["p_value"] == pytest.approx(expected.p_value)
    assert diff["estimate"] < 0  # B's errors are smaller
    paired = stats.diebold_mariano(ts, loss_a, loss_b, alpha=0.05)
    assert r["paired"]["estimate"] == pytest.approx(paired.estimate)
    assert r["paired"]["p_value"] == pytest.approx(paired.p_value)
    assert r["paired"]["n_a"] == len(ts)
    # SRM on assignment slots (one reading per hourly slot here)
    assert r["srm"]["observed_share_b"] == pytest.approx(in_b.mean())
    assert r["srm"]["configured_share_b"] == 0.5
    assert r["srm"]["mismatch"] is False
    # design and progress: 120 per arm of the 300 needed, about 12 a day
    assert r["min_sample_reached"] is False
    assert r["points_per_day"]["a"] == pytest.approx(in_a.sum() / (DAYS - 1 / 24), rel=1e-6)
    assert r["estimated_days_left"] is not None
    assert r["estimated_days_left"] > 0
    assert r["verdict"] == "running"
    assert set(r["methods"]) >= {"arm_test", "paired", "srm", "decision"}
    assert r["confidence"] is None or 0 <= r["confidence"] <= 1
    # GET never writes: no point carries an arm yet
    assert _arm_counts(session_factory, pair.a_id) == {None: len(ts)}

    done = ab_test_evaluate(factory=session_factory, settings=settings, clock=clock)
    assert [a["test_id"] for a in done["analysed"]] == [test_id]
    assert done["completed"] == []
    assert _arm_counts(session_factory, pair.a_id) == {"a": int(in_a.sum()), None: int(in_b.sum())}
    assert _arm_counts(session_factory, pair.b_id) == {"b": int(in_b.sum()), None: int(in_a.sum())}
    again = client.get(f"{API}/ab-test/{test_id}/results").json()
    assert again["arms"] == r["arms"]
    assert again["difference"] == r["difference"]
    assert client.get(f"{API}/ab-test/77/results").status_code == 404


def test_a_served_arm_overrides_the_slot_assignment(
    client: TestClient, session_factory: SessionFactory, clock: FrozenClock
) -> None:
    """The first day's readings were served by B (its points carry arm b): they are B's."""
    pair = make_pair(session_factory, clock)
    test_id = _start(client, pair.machine_id)
    ts, actual, pred_a, pred_b = simulate(clock.now(), 3 * 24, seed=5, b_scale=1.0)
    served = [("b" if i < 24 else None) for i in range(len(ts))]
    log_points(session_factory, pair, pair.a_id, ts, actual, pred_a)
    log_points(session_factory, pair, pair.b_id, ts, actual, pred_b, arm=served)
    clock.advance(timedelta(days=3))
    r = client.get(f"{API}/ab-test/{test_id}/results").json()
    arms = arms_for(test_id, ts, 0.5, slot_minutes=60)
    arms[:24] = "b"
    counts = {a["arm"]: a["n"] for a in r["arms"]}
    assert counts == {"a": int((arms == "a").sum()), "b": int((arms == "b").sum())}
    assert counts["b"] >= 24


def test_a_60_40_realised_split_configured_50_50_is_flagged(
    client: TestClient, session_factory: SessionFactory, clock: FrozenClock
) -> None:
    """720 hourly slots served 60/40 (slots 0-2 of every five to A): the chi-square on slots
    (28.8, p ≈ 1e-7) flags it configured 50/50; the same split configured 40 % to B is not
    flagged."""
    hours = 30 * 24
    ts, actual, pred_a, pred_b = simulate(clock.now(), hours, seed=3, b_scale=1.0)
    served = np.where(np.arange(hours) % 5 < 3, "a", "b")
    cases = []
    for name, split in (("Compressor 1", 0.5), ("Compressor 2", 0.4)):
        pair = make_pair(session_factory, clock, name=name)
        cases.append((_start(client, pair.machine_id, traffic_split=split), split))
        log_points(
            session_factory,
            pair,
            pair.a_id,
            ts,
            actual,
            pred_a,
            arm=[a if a == "a" else None for a in served],
        )
        log_points(
            session_factory,
            pair,
            pair.b_id,
            ts,
            actual,
            pred_b,
            arm=[a if a == "b" else None for a in served],
        )
    clock.advance(timedelta(days=30))
    for test_id, split in cases:
        r = client.get(f"{API}/ab-test/{test_id}/results").json()
        assert r["srm"]["observed_share_b"] == pytest.approx(0.4)
        assert r["srm"]["configured_share_b"] == split
        assert r["srm"]["mismatch"] is (split == 0.5), r["srm"]


def test_a_live_analysis_runs_after_the_read_transaction_has_ended(
    session_factory: SessionFactory,
    clock: FrozenClock,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from enms.experiments import service

    pair = make_pair(session_factory, clock)
    with session_scope(session_factory, write=True) as s:
        test_id = service.start(
            session=s,
            data=ABTestStart(machine_id=pair.machine_id, model_type="baseline"),
            settings=settings,
            clock=clock,
        ).id
    ts, actual, pred_a, pred_b = simulate(clock.now(), 3 * 24, seed=3, b_scale=0.7)
    log_points(session_factory, pair, pair.a_id, ts, actual, pred_a)
    log_points(session_factory, pair, pair.b_id, ts, actual, pred_b)
    clock.advance(timedelta(days=3))
    seen: list[bool] = []
    compute = service.compute

    with session_scope(session_factory) as s:

        def watched(*args: object, **kwargs: object) -> Analysis:
            seen.append(s.in_transaction())
            return compute(*args, **kwargs)  # type: ignore[arg-type]

        monkeypatch.setattr(service, "compute", watched)
        found = service.results(session=s, test_id=test_id, settings=settings, clock=clock)
    assert seen == [False]  # the statistics ran with no transaction open
    assert found.verdict == "running"
    assert found.as_of == clock.now()
