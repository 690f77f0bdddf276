"""While an A/B test runs, each row is answered by its arm's version: the arm is the shared
hash of the test id and the unit (timestamp slot or caller key), so a repeated request gets
the same arm, and the realised share of B converges to the configured split."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd
from fastapi.testclient import TestClient
from sqlalchemy import update

from enms.core.db import SessionFactory, session_scope
from enms.experiments import arms
from enms.experiments.models import COMPLETED, ABTest
from enms.ml.scoring import model_columns
from enms.readings import service as readings
from tests.serving.helpers import load, predict_url, request_rows, start_ab_test


def _frame(factory: SessionFactory, machine_id: int, start: str, end: str) -> pd.DataFrame:
    with session_scope(factory) as session:
        return readings.training_frame(
            session=session,
            machine_id=machine_id,
            start=datetime.fromisoformat(start).replace(tzinfo=UTC),
            end=datetime.fromisoformat(end).replace(tzinfo=UTC),
        )


def test_each_row_gets_its_arm_and_a_repeated_request_the_same(
    api: TestClient, session_factory: SessionFactory, machine_id: int, baselines: list[int]
) -> None:
    a_id, b_id = baselines
    test_id = start_ab_test(
        session_factory, machine_id=machine_id, a_id=a_id, b_id=b_id, slot_minutes=120
    )
    model_a, model_b = load(session_factory, a_id), load(session_factory, b_id)
    columns = sorted(set(model_columns(model_a)) | set(model_columns(model_b)))
    frame = _frame(session_factory, machine_id, "2025-02-21", "2025-02-24")
    body = {"rows": request_rows(frame, columns), "log": False}
    first = api.post(predict_url(machine_id), json=body)
    assert first.status_code == 200, first.text
    answer = first.json()
    assert (answer["routing"], answer["test_id"]) == ("ab_test", test_id)
    served = pd.DataFrame(answer["rows"])
    index = pd.DatetimeIndex(frame.index)
    expected_arms = arms.arms_for(test_id, index, 0.5, slot_minutes=120)
    assert served["arm"].tolist() == list(expected_arms)  # H2's in-memory assignment agrees
    assert set(served["arm"]) == {"a", "b"}
    assert (served["version"] == np.where(expected_arms == "a", 1, 2)).all()
    assert (served["test_id"] == test_id).all()
    # Two hourly rows share each 2-hour slot, hence each arm.
    slots = index.floor("2h")
    assert served.groupby(slots)["arm"].nunique().eq(1).all()
    # Each row is its arm's version's own prediction.
    expected = np.where(
        expected_arms == "a", model_a.predict(frame).to_numpy(), model_b.predict(frame).to_numpy()
    )
    np.testing.assert_allclose(served["expected_energy_kwh"], expected, rtol=1e-12)

    again = api.post(predict_url(machine_id), json=body).json()
    assert [r["arm"] for r in again["rows"]] == served["arm"].tolist()
    cache = api.app.state.model_cache  # type: ignore[attr-defined]
    assert cache.loads == 2  # each arm's artifact loaded once, then served from the cache

    # A caller key routes all of its rows to one arm, the same one every time.
    keyed = {**body, "unit_key": "line-7"}
    arm = arms.assign(test_id, "line-7", 0.5)
    for _ in range(2):
        rows = api.post(predict_url(machine_id), json=keyed).json()["rows"]
        assert {r["arm"] for r in rows} == {arm}

    # Once the test is over, the champion answers again (no arm).
    with session_scope(session_factory, write=True) as session:
        session.execute(update(ABTest).where(ABTest.id == test_id).values(status=COMPLETED))
    after = api.post(predict_url(machine_id), json=body).json()
    assert after["routing"] == "champion"
    assert {(r["version"], r["arm"]) for r in after["rows"]} == {(1, None)}


def test_the_share_routed_to_b_converges_to_the_split(
    api: TestClient, session_factory: SessionFactory, machine_id: int, baselines: list[int]
) -> None:
    """~1,780 hourly slots at a configured 30 % to B: the realised share is Binomial(n, 0.3)
    / n if the hash is uniform (sd 1.1 points), so it must lie within 4 sd of 0.3 (a false
    failure has probability 6e-5); and it is exactly the share the shared assignment gives."""
    a_id, b_id = baselines
    test_id = start_ab_test(
        session_factory, machine_id=machine_id, a_id=a_id, b_id=b_id, split=0.3, slot_minutes=60
    )
    columns = sorted(
        set(model_columns(load(session_factory, a_id)))
        | set(model_columns(load(session_factory, b_id)))
    )
    frame = _frame(session_factory, machine_id, "2025-01-01", "2025-03-16")
    rows = request_rows(frame, columns)
    answer = api.post(predict_url(machine_id), json={"rows": rows, "log": False})
    assert answer.status_code == 200, answer.text
    chosen = np.array([r["arm"] for r in answer.json()["rows"]])
    n = len(chosen)
    assert n == len(frame) > 1700  # the demo meter has a few gaps
    share = float(np.mean(chosen == "b"))
    sd = np.sqrt(0.3 * 0.7 / n)
    assert abs(share - 0.3) < 4 * sd, share
    index = pd.DatetimeIndex(frame.index)
    assert list(chosen) == list(arms.arms_for(test_id, index, 0.3, slot_minutes=60))
