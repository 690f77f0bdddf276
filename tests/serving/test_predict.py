"""The predict endpoint answers with the champion's own predictions (baselines, detectors,
forecasters), names missing drivers, says what to do when nothing can answer, and loads an
artifact once per cache entry."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, select

from enms.core.clock import FrozenClock
from enms.core.db import SessionFactory, session_scope
from enms.ml.base import TARGET
from enms.ml.scoring import model_columns
from enms.predictions import repository
from enms.predictions.models import PredictionBatch
from enms.readings import service as readings
from enms.readings.models import EnergyReading
from enms.registry.models import ModelVersion
from enms.serving.cache import CacheKey, ModelCache
from tests.factories import train_version as train
from tests.serving.helpers import load, predict_url, request_rows, version_ids

WEEK = (datetime(2025, 2, 20, tzinfo=UTC), datetime(2025, 2, 27, tzinfo=UTC))


def _frame(
    factory: SessionFactory, machine_id: int, start: datetime, end: datetime
) -> pd.DataFrame:
    with session_scope(factory) as session:
        return readings.training_frame(session=session, machine_id=machine_id, start=start, end=end)


def test_a_baseline_serves_its_own_predictions_and_logs_them(
    api: TestClient, session_factory: SessionFactory, machine_id: int, baselines: list[int]
) -> None:
    champion = load(session_factory, baselines[0])
    frame = _frame(session_factory, machine_id, *WEEK)
    columns = model_columns(champion)
    assert columns  # the demo baseline uses drivers
    answer = api.post(predict_url(machine_id), json={"rows": request_rows(frame, columns)})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["routing"] == "champion"
    assert body["test_id"] is None
    assert {r["version"] for r in body["rows"]} == {1}
    assert {r["arm"] for r in body["rows"]} == {None}
    served = np.array([r["expected_energy_kwh"] for r in body["rows"]], dtype=float)
    expected = champion.predict(frame).to_numpy(dtype=float)
    np.testing.assert_allclose(served, expected, rtol=1e-12)
    assert body["logged"] == len(frame)
    with session_scope(session_factory) as session:
        points = repository.points_frame(session, model_id=baselines[0])
        sources = list(session.scalars(select(PredictionBatch.source)))
    assert sources == ["served"]
    assert len(points) == len(frame)
    assert (points["origin"] == points.index).all()  # the shadow points' key
    np.testing.assert_allclose(points["predicted"].to_numpy(), expected, rtol=1e-12)
    assert points["actual"].isna().all()  # filled by fill_actuals, not by the request
    assert points["arm"].isna().all()

    # Rows in any order answer in request order; log=false writes nothing.
    shuffled = request_rows(frame, columns)[::-1][:5]
    again = api.post(predict_url(machine_id), json={"rows": shuffled, "log": False})
    assert again.status_code == 200
    assert [r["timestamp"] for r in again.json()["rows"]] == [
        pd.Timestamp(r["timestamp"]).strftime("%Y-%m-%dT%H:%M:%SZ") for r in shuffled
    ]
    assert [r["expected_energy_kwh"] for r in again.json()["rows"]] == pytest.approx(
        expected[::-1][:5], rel=1e-12
    )
    assert again.json()["logged"] == 0


def test_a_detector_serves_expected_energy_score_and_flag(
    api: TestClient, session_factory: SessionFactory, clock: FrozenClock, machine_id: int
) -> None:
    train(session_factory, clock, machine_id, "anomaly", "2025-02-20")
    (detector_id,) = version_ids(session_factory, "anomaly")
    detector = load(session_factory, detector_id)
    frame = _frame(session_factory, machine_id, *WEEK)
    columns = [TARGET, *model_columns(detector)]
    answer = api.post(
        predict_url(machine_id, "anomaly"), json={"rows": request_rows(frame, columns)}
    )
    assert answer.status_code == 200, answer.text
    rows = answer.json()["rows"]
    scores = np.array([r["anomaly_score"] for r in rows], dtype=float)
    np.testing.assert_allclose(scores, detector.score(frame).to_numpy(), rtol=1e-12)  # type: ignore[attr-defined]
    flags = [r["flagged"] for r in rows]
    assert flags == detector.flag(frame).tolist()  # type: ignore[attr-defined]
    expected = detector.baseline_.predict(frame).to_numpy()  # type: ignore[attr-defined]
    np.testing.assert_allclose([r["expected_energy_kwh"] for r in rows], expected, rtol=1e-12)

    # The reading scored is a column the detector needs: without it, 422 naming it.
    without = api.post(
        predict_url(machine_id, "anomaly"),
        json={"rows": request_rows(frame, model_columns(detector))},
    )
    assert without.status_code == 422
    assert without.json()["error"]["details"]["missing_columns"] == [TARGET]
    assert TARGET in without.json()["error"]["message"]


def test_a_forecaster_serves_from_the_newest_reading_with_its_interval(
    api: TestClient, session_factory: SessionFactory, clock: FrozenClock, machine_id: int
) -> None:
    train(session_factory, clock, machine_id, "forecast_arima", "2025-02-20", start="2025-01-16")
    (version_id,) = version_ids(session_factory, "forecast_arima")
    model = load(session_factory, version_id)
    day = pd.Timestamp("2025-02-24", tz="UTC")
    with session_scope(session_factory, write=True) as session:  # the newest reading: 23:00
        session.execute(delete(EnergyReading).where(EnergyReading.ts >= day.to_pydatetime()))
    targets = pd.date_range(day, periods=24, freq="h")
    rows = [{"timestamp": ts.isoformat()} for ts in targets]
    answer = api.post(predict_url(machine_id, "forecast_arima"), json={"rows": rows})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["interval"] == pytest.approx(0.9)
    served = pd.DataFrame(body["rows"])
    assert set(served["origin"]) == {"2025-02-24T00:00:00Z"}  # the slot after 23:00
    assert served["lead_hours"].tolist() == list(range(24))

    # The forecaster's own tiled forecast from the same origin on the same readings.
    context = _frame(
        session_factory, machine_id, day - pd.Timedelta(days=28) - pd.Timedelta(hours=1), day
    )
    future = pd.DataFrame({TARGET: np.nan}, index=targets)
    own = model.forecast(pd.concat([context, future]))  # type: ignore[attr-defined]
    own = own.loc[targets]
    assert (own["origin"] == day).all()
    np.testing.assert_allclose(served["forecast_kwh"], own["forecast"], rtol=1e-9)
    np.testing.assert_allclose(served["lower"], own["lower"], rtol=1e-9)
    np.testing.assert_allclose(served["upper"], own["upper"], rtol=1e-9)
    assert (served["lower"] < served["forecast_kwh"]).all()
    assert (served["forecast_kwh"] < served["upper"]).all()
    with session_scope(session_factory) as session:
        points = repository.points_frame(session, model_id=version_id)
    assert len(points) == 24
    assert (points["origin"] == day).all()  # logged with their origin: lead = ts − origin

    # Beyond the horizon from that origin: 422 saying where the horizon ends.
    late = [{"timestamp": "2025-02-25T03:00:00Z"}]
    refused = api.post(predict_url(machine_id, "forecast_arima"), json={"rows": late})
    assert refused.status_code == 422
    assert "ahead of its origin 2025-02-24T00:00:00+00:00" in refused.json()["error"]["message"]


def test_missing_drivers_and_bad_rows_are_422_naming_them(
    api: TestClient, session_factory: SessionFactory, machine_id: int, baselines: list[int]
) -> None:
    columns = model_columns(load(session_factory, baselines[0]))
    frame = _frame(session_factory, machine_id, *WEEK).iloc[:3]
    rows = request_rows(frame, columns[:1])  # only the first driver
    answer = api.post(predict_url(machine_id), json={"rows": rows})
    assert answer.status_code == 422
    error = answer.json()["error"]
    assert error["details"]["missing_columns"] == columns[1:]
    for name in columns[1:]:
        assert name in error["message"]
    nulls = request_rows(frame, columns)
    nulls[2][columns[0]] = None
    answer = api.post(predict_url(machine_id), json={"rows": nulls})
    assert answer.status_code == 422
    assert answer.json()["error"]["details"]["rows"] == {columns[0]: [2]}
    bad = [{"timestamp": "yesterday", **{c: 1.0 for c in columns}}]
    answer = api.post(predict_url(machine_id), json={"rows": bad})
    assert answer.status_code == 422
    assert "rows[0].timestamp 'yesterday'" in answer.json()["error"]["message"]
    text = [{"timestamp": "2025-02-21T00:00:00", **{c: "many" for c in columns}}]
    answer = api.post(predict_url(machine_id), json={"rows": text})
    assert answer.status_code == 422
    assert "is not a number" in answer.json()["error"]["message"]
    assert api.post(predict_url(machine_id), json={"rows": []}).status_code == 422


def test_unknown_machine_or_type_is_404_and_no_champion_is_409(
    api: TestClient, machine_id: int
) -> None:
    row = {"timestamp": "2025-02-21T00:00:00Z", "outdoor_temp_c": 3.0}
    missing = api.post(predict_url(machine_id + 99), json={"rows": [row]})
    assert missing.status_code == 404
    assert missing.json()["error"]["message"] == f"no machine with id {machine_id + 99}"
    kind = api.post(predict_url(machine_id, "lstm"), json={"rows": [row]})
    assert kind.status_code == 404
    assert "no model type 'lstm'" in kind.json()["error"]["message"]
    none = api.post(predict_url(machine_id), json={"rows": [row]})
    assert none.status_code == 409
    message = none.json()["error"]["message"]
    assert "has no baseline champion yet" in message
    assert "enms train baseline" in message


def test_a_cached_artifact_is_not_loaded_again(
    api: TestClient, session_factory: SessionFactory, machine_id: int, baselines: list[int]
) -> None:
    columns = model_columns(load(session_factory, baselines[0]))
    rows = request_rows(_frame(session_factory, machine_id, *WEEK).iloc[:24], columns)
    first = api.post(predict_url(machine_id), json={"rows": rows, "log": False})
    assert first.status_code == 200
    cache = api.app.state.model_cache  # type: ignore[attr-defined]
    assert (cache.loads, cache.hits) == (1, 0)
    for _ in range(3):
        again = api.post(predict_url(machine_id), json={"rows": rows, "log": False})
        assert again.json() == first.json()
    assert (cache.loads, cache.hits) == (1, 3)
    # A changed artifact is another key: a new version's sha256 misses and loads (once).
    with session_scope(session_factory, write=True) as session:
        row = session.get(ModelVersion, baselines[0])
        assert row is not None
        row.artifact_sha256 = "0" * 64  # what a re-registered artifact would look like
    refused = api.post(predict_url(machine_id), json={"rows": rows, "log": False})
    assert refused.status_code == 409  # loaded again, and its recorded hash no longer matches
    assert cache.loads == 1  # a failed load caches (and counts) nothing


def test_the_cache_evicts_the_least_recently_used_model(
    session_factory: SessionFactory, baselines: list[int]
) -> None:
    cache = ModelCache(max_entries=1)
    keys = {}
    with session_scope(session_factory) as session:
        for v in baselines:
            row = session.get(ModelVersion, v)
            assert row is not None
            keys[v] = CacheKey(v, str(row.artifact_sha256))
    a, b = baselines
    first = cache.get(keys[a], lambda: load(session_factory, a))
    assert cache.get(keys[a], lambda: load(session_factory, a)) is first
    cache.get(keys[b], lambda: load(session_factory, b))  # evicts a
    assert keys[a] not in cache
    assert len(cache) == 1
    cache.get(keys[a], lambda: load(session_factory, a))
    assert (cache.loads, cache.hits) == (3, 1)
