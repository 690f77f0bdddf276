"""Served points in the prediction log: source ``served``, their arm, the shadow key for
baselines (``origin = ts``) so shadow scoring never duplicates them and only tags an existing
point's arm; served batches never move where shadow scoring resumes."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from enms.core.clock import FrozenClock
from enms.core.config import MonitoringSettings, Settings
from enms.core.db import SessionFactory, session_scope
from enms.experiments import arms
from enms.experiments.models import COMPLETED, ABTest
from enms.ml.scoring import model_columns
from enms.predictions import repository
from enms.predictions.models import PredictionBatch, PredictionPoint
from enms.predictions.tasks import score_predictions
from enms.readings import service as readings
from enms.readings.models import EnergyReading
from tests.serving.helpers import load, predict_url, request_rows, start_ab_test

SERVED = (datetime(2025, 2, 21, tzinfo=UTC), datetime(2025, 2, 24, tzinfo=UTC))


def _settings(settings: Settings) -> Settings:
    monitoring = MonitoringSettings(score_batch_days=400, actual_fill_days=60)
    return settings.model_copy(update={"monitoring": monitoring})


def _rows(factory: SessionFactory, machine_id: int, ids: list[int]) -> list[dict[str, object]]:
    columns = sorted({c for v in ids for c in model_columns(load(factory, v))})
    with session_scope(factory) as session:
        frame = readings.training_frame(
            session=session, machine_id=machine_id, start=SERVED[0], end=SERVED[1]
        )
    return request_rows(frame, columns)


def _points(factory: SessionFactory, version_id: int) -> pd.DataFrame:
    with session_scope(factory) as session:
        return repository.points_frame(session, model_id=version_id)


def _count(factory: SessionFactory) -> int:
    with session_scope(factory) as session:
        return int(session.scalar(select(func.count()).select_from(PredictionPoint)) or 0)


def test_served_points_keep_their_arm_and_shadow_scoring_adds_the_rest_once(
    api: TestClient,
    session_factory: SessionFactory,
    clock: FrozenClock,
    settings: Settings,
    machine_id: int,
    baselines: list[int],
) -> None:
    a_id, b_id = baselines
    test_id = start_ab_test(session_factory, machine_id=machine_id, a_id=a_id, b_id=b_id)
    rows = _rows(session_factory, machine_id, baselines)
    answer = api.post(predict_url(machine_id), json={"rows": rows})
    assert answer.status_code == 200, answer.text
    assert answer.json()["logged"] == len(rows) == 72
    served_arms = pd.Series(
        [r["arm"] for r in answer.json()["rows"]],
        index=pd.DatetimeIndex([r["timestamp"] for r in answer.json()["rows"]]),
    )
    with session_scope(session_factory) as session:
        # Never shadow-scored: the served points do not give the versions a resume point.
        assert repository.resume_point(session, a_id) is None
        assert repository.resume_point(session, b_id) is None
        sources = set(session.scalars(select(PredictionBatch.source)))
    assert sources == {"served"}
    a, b = _points(session_factory, a_id), _points(session_factory, b_id)
    assert (a["arm"] == "a").all()
    assert (b["arm"] == "b").all()
    assert len(a) == int((served_arms == "a").sum())
    assert len(b) == int((served_arms == "b").sum())

    result = score_predictions(factory=session_factory, settings=_settings(settings), clock=clock)
    assert result["errors"] == []
    for version_id, arm in ((a_id, "a"), (b_id, "b")):
        points = _points(session_factory, version_id)
        assert points.index.is_unique  # one point per reading: served ones not duplicated
        # Shadow scoring still started at the end of training, before the served days.
        assert points.index.min() == pd.Timestamp("2025-02-20", tz="UTC")
        assert points["actual"].notna().all()  # served points got their reading's energy
        window = points[(points.index >= SERVED[0]) & (points.index < SERVED[1])]
        mine = served_arms[served_arms == arm].index
        assert (window.loc[mine, "arm"] == arm).all()
        assert window.drop(mine)["arm"].isna().all()  # the other arm's rows: shadow only
    with session_scope(session_factory) as session:
        n_readings = session.scalar(
            select(func.count())
            .select_from(EnergyReading)
            .where(EnergyReading.ts >= datetime(2025, 2, 20, tzinfo=UTC))
        )
    assert _count(session_factory) <= 2 * int(n_readings or 0)
    assert test_id == answer.json()["test_id"]


def test_serving_after_shadow_scoring_tags_the_existing_points(
    api: TestClient,
    session_factory: SessionFactory,
    clock: FrozenClock,
    settings: Settings,
    machine_id: int,
    baselines: list[int],
) -> None:
    a_id, b_id = baselines
    score_predictions(factory=session_factory, settings=_settings(settings), clock=clock)
    before = _count(session_factory)
    with session_scope(session_factory) as session:
        resume = {v: repository.resume_point(session, v) for v in baselines}
    test_id = start_ab_test(session_factory, machine_id=machine_id, a_id=a_id, b_id=b_id)
    rows = _rows(session_factory, machine_id, baselines)
    answer = api.post(predict_url(machine_id), json={"rows": rows})
    assert answer.json()["logged"] == 72  # every row tagged an existing shadow point
    assert _count(session_factory) == before  # nothing new
    index = pd.DatetimeIndex([r["timestamp"] for r in rows])
    expected = arms.arms_for(test_id, index, 0.5, slot_minutes=60)
    a = _points(session_factory, a_id)
    tagged = a.loc[index[expected == "a"], "arm"]
    assert (tagged == "a").all()
    assert a["arm"].notna().sum() == len(tagged)
    with session_scope(session_factory) as session:
        served = session.scalars(
            select(PredictionBatch.n_points).where(PredictionBatch.source == "served")
        ).all()
        assert {v: repository.resume_point(session, v) for v in baselines} == resume
    assert list(served) == [0, 0]  # one served batch per arm's version, no new points

    # Served again without a test: the arm already logged is kept (not cleared).
    with session_scope(session_factory, write=True) as session:
        session.execute(update(ABTest).where(ABTest.id == test_id).values(status=COMPLETED))
    api.post(predict_url(machine_id), json={"rows": rows})
    again = _points(session_factory, a_id)
    assert (again.loc[tagged.index, "arm"] == "a").all()
    assert np.allclose(again["predicted"], a["predicted"])  # values untouched


def test_a_served_future_timestamp_does_not_move_the_resume_point(
    api: TestClient,
    session_factory: SessionFactory,
    clock: FrozenClock,
    settings: Settings,
    machine_id: int,
    baselines: list[int],
) -> None:
    config = _settings(settings)
    score_predictions(factory=session_factory, settings=config, clock=clock)
    with session_scope(session_factory) as session:
        newest = repository.newest_reading(session, machine_id)
        resume = repository.resume_point(session, baselines[0])
    assert newest is not None
    assert resume is not None
    future = pd.date_range(pd.Timestamp(newest) + pd.Timedelta(days=2), periods=24, freq="h")
    columns = model_columns(load(session_factory, baselines[0]))
    rows = [{"timestamp": ts.isoformat(), **{c: 5.0 for c in columns}} for ts in future]
    assert api.post(predict_url(machine_id), json={"rows": rows}).json()["logged"] == 24
    with session_scope(session_factory) as session:
        assert repository.resume_point(session, baselines[0]) == resume
        # the pre-fix rule: the newest logged origin, two days after the newest reading
        latest = session.scalar(
            select(func.max(PredictionPoint.origin)).where(PredictionPoint.model_id == baselines[0])
        )
    assert latest is not None
    assert pd.Timestamp(latest) == future[-1]
