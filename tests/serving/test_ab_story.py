"""End to end, as a new user would: create a machine and import its readings over the API,
train two baseline versions, start an A/B test through its endpoint, post next week's
predictions through the predict endpoint, import the week's readings, let the hourly scoring
and the A/B evaluation run, and read the results.

Checked: each served row is logged once under its arm with the reading's energy as actual;
the other version is shadow-scored on the same reading (no duplicates); the per-arm MAE and
the Welch t statistic on the logged absolute errors equal a calculation by hand (scipy) from
the imported CSV and the served answers; and the results endpoint's per-arm n and MAE, its
difference, winner and confidence equal a calculation by hand with scipy on the logged errors
(per UTC day the difference of the arms' mean absolute errors, a one-sample t over the days,
the p-value from Student t at the degrees of freedom the results name)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from scipy import stats

from enms.core.clock import FrozenClock
from enms.core.config import MonitoringSettings, Settings, TrainingSettings
from enms.core.db import SessionFactory, session_scope
from enms.demo.generator import generate_plant
from enms.experiments.tasks import ab_test_evaluate
from enms.predictions import repository
from enms.predictions.tasks import score_predictions
from enms.training.runner import RunContext, run_job
from tests.serving.helpers import predict_url, version_ids

CUT = pd.Timestamp("2025-03-02", tz="UTC")  # readings from here on arrive after the predictions
WEEK_END = CUT + pd.Timedelta(days=7)
CSV_DATES = "%Y-%m-%dT%H:%M:%SZ"


def _csv(frame: pd.DataFrame) -> str:
    return frame.rename_axis("timestamp").to_csv(date_format=CSV_DATES)


def _train(
    api: TestClient, factory: SessionFactory, clock: FrozenClock, body: dict[str, object]
) -> None:
    answer = api.post("/api/v1/model-performance/retrain/trigger", json=body)
    assert answer.status_code == 202, answer.text
    job_id = answer.json()["training_job_id"]
    ctx = RunContext(factory=factory, settings=TrainingSettings(), clock=clock)
    assert run_job(job_id, ctx) == "completed"  # what a queue worker does with the job


def test_a_new_user_runs_an_ab_test_through_the_predict_endpoint(
    api: TestClient, session_factory: SessionFactory, clock: FrozenClock, settings: Settings
) -> None:
    source = generate_plant(seed=3, days=75, freq="h")[1]
    created = api.post(
        "/api/v1/machines",
        json={
            "name": source.name,
            "machine_type": source.machine_type,
            "timezone": source.timezone,
            "metadata": source.metadata,
        },
    )
    assert created.status_code == 201, created.text
    machine_id = created.json()["id"]
    readings = source.readings
    url = f"/api/v1/machines/{machine_id}/readings"
    csv = {"content-type": "text/csv"}
    history = readings[readings.index < CUT]
    assert api.post(url, content=_csv(history), headers=csv).status_code == 200

    # Two versions: v1 on January to mid-February (champion), v2 on a later window.
    _train(
        api,
        session_factory,
        clock,
        {"machine_id": machine_id, "model_type": "baseline", "data_to": "2025-02-16"},
    )
    _train(
        api,
        session_factory,
        clock,
        {
            "machine_id": machine_id,
            "model_type": "baseline",
            "data_from": "2025-01-20",
            "data_to": "2025-02-23",
        },
    )
    a_id, b_id = version_ids(session_factory, "baseline")
    versions = api.get(f"/api/v1/machines/{machine_id}/models/baseline/versions").json()
    assert {v["version"]: v["aliases"] for v in versions} == {1: ["champion"], 2: ["challenger"]}
    clock.advance(CUT.to_pydatetime() - clock.now())  # the test starts as next week begins
    started = api.post(
        "/api/v1/model-performance/ab-test/start",
        json={
            "machine_id": machine_id,
            "model_type": "baseline",
            "duration_days": 7,
            "min_samples_per_arm": 50,
            "sequential": False,
        },
    )
    assert started.status_code == 201, started.text
    test_id = started.json()["id"]
    config = settings.model_copy(
        update={"monitoring": MonitoringSettings(score_batch_days=400, actual_fill_days=60)}
    )
    score_predictions(factory=session_factory, settings=config, clock=clock)  # the hourly run

    # Next week's predictions, from the planned drivers (here: the ones the meter will read).
    week = readings[(readings.index >= CUT) & (readings.index < WEEK_END)]
    drivers = ["outdoor_temp_c", "production_units", "operating_hours"]
    rows = [
        {"timestamp": ts.strftime(CSV_DATES), **{c: float(week[c].iloc[i]) for c in drivers}}
        for i, ts in enumerate(week.index)
    ]
    answer = api.post(predict_url(machine_id), json={"rows": rows})
    assert answer.status_code == 200, answer.text
    served = pd.DataFrame(answer.json()["rows"])
    served.index = pd.DatetimeIndex(served["timestamp"])
    assert answer.json()["logged"] == len(week) == 168
    assert (served["test_id"] == test_id).all()
    assert (served["version"] == served["arm"].map({"a": 1, "b": 2})).all()

    # The week's readings arrive; the hourly run scores them and fills the served actuals.
    assert api.post(url, content=_csv(week), headers=csv).status_code == 200
    result = score_predictions(factory=session_factory, settings=config, clock=clock)
    assert result["errors"] == []
    assert result["actuals_filled"] == len(week)  # exactly the served points were waiting
    with session_scope(session_factory) as session:
        logged = {
            v: repository.points_frame(
                session, model_id=v, start=CUT.to_pydatetime(), end=WEEK_END.to_pydatetime()
            )
            for v in (a_id, b_id)
        }
    actual = week["energy_kwh"]
    errors: dict[str, np.ndarray] = {}
    for arm, version_id in (("a", a_id), ("b", b_id)):
        points = logged[version_id]
        assert points.index.is_unique
        assert len(points) == len(week)
        mine = points[points["arm"] == arm]
        assert mine.index.equals(pd.DatetimeIndex(served.index[served["arm"] == arm]))
        assert points.drop(mine.index)["arm"].isna().all()  # the other arm: shadow only
        np.testing.assert_allclose(mine["actual"], actual.loc[mine.index])
        np.testing.assert_allclose(mine["predicted"], served.loc[mine.index, "expected_energy_kwh"])
        errors[arm] = (mine["actual"] - mine["predicted"]).abs().to_numpy()
        by_hand = (actual.loc[mine.index] - served.loc[mine.index, "expected_energy_kwh"]).abs()
        assert errors[arm].mean() == pytest.approx(by_hand.mean(), rel=1e-12)
    n_a, n_b = len(errors["a"]), len(errors["b"])
    assert n_a + n_b == 168
    assert min(n_a, n_b) > 50
    welch = stats.ttest_ind(errors["b"], errors["a"], equal_var=False)
    hand = (actual - served["expected_energy_kwh"]).abs()
    hand_a = hand[served["arm"] == "a"].to_numpy()
    hand_b = hand[served["arm"] == "b"].to_numpy()
    by_hand = stats.ttest_ind(hand_b, hand_a, equal_var=False)
    assert welch.statistic == pytest.approx(by_hand.statistic, rel=1e-9)
    assert welch.pvalue == pytest.approx(by_hand.pvalue, rel=1e-9)
    # Paired on the same readings (both versions shadow-scored on each): 168 common points.
    common = logged[a_id].index.intersection(logged[b_id].index)
    assert len(common) == 168

    # The log's own page shows the arms too.
    page = api.get(
        f"/api/v1/machines/{machine_id}/models/baseline/predictions",
        params={"version": 2, "from": CUT.isoformat(), "to": WEEK_END.isoformat()},
    ).json()
    assert sum(1 for p in page["points"] if p["arm"] == "b") == n_b
    assert {b["source"] for b in page["batches"]} == {"served", "shadow"}

    # A week later the periodic A/B evaluation completes the test; its results, by hand.
    clock.advance(WEEK_END.to_pydatetime() - clock.now() + pd.Timedelta(hours=1))
    evaluated = ab_test_evaluate(factory=session_factory, settings=config, clock=clock)
    assert [c["test_id"] for c in evaluated["completed"]] == [test_id]
    res = api.get(f"/api/v1/model-performance/ab-test/{test_id}/results").json()
    assert res["test"]["status"] == "completed"
    arms = {arm["arm"]: arm for arm in res["arms"]}
    assert (arms["a"]["n"], arms["b"]["n"]) == (n_a, n_b)
    assert arms["a"]["mae"] == pytest.approx(errors["a"].mean(), rel=1e-9)
    assert arms["b"]["mae"] == pytest.approx(errors["b"].mean(), rel=1e-9)
    day = {
        arm: pd.Series(errors[arm], index=logged[v].index[logged[v]["arm"] == arm]).groupby(
            lambda ts: ts.floor("D")
        )
        for arm, v in (("a", a_id), ("b", b_id))
    }
    per_day = (day["b"].mean() - day["a"].mean()).dropna()
    assert len(per_day) == 7 == res["difference"]["n_units"]
    one_sample = stats.ttest_1samp(per_day.to_numpy(), 0.0)
    df = res["difference"]["settings"]["df"]
    assert 1 <= df <= len(per_day) - 1
    p_by_hand = 2 * stats.t.sf(abs(one_sample.statistic), df)
    assert res["difference"]["estimate"] == pytest.approx(per_day.mean(), rel=1e-9)
    assert res["difference"]["p_value"] == pytest.approx(p_by_hand, rel=1e-6)
    assert res["p_value"] == pytest.approx(p_by_hand, rel=1e-6)
    assert res["confidence"] == pytest.approx(1 - p_by_hand, rel=1e-6)
    hand_winner = "inconclusive" if p_by_hand >= 0.05 else ("b" if per_day.mean() < 0 else "a")
    assert res["verdict"] == hand_winner
    assert res["test"]["winner"] == hand_winner
    assert res["test"]["confidence"] == pytest.approx(1 - p_by_hand, rel=1e-6)
