"""GET /model-performance/metrics/trend: downsampling, version in force, markers, empty."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from tests.evaluation.perf_setup import two_versions

from enms.core.clock import FrozenClock
from enms.core.config import MonitoringSettings, Settings
from enms.core.db import SessionFactory, session_scope
from enms.core.timewindow import Window
from enms.evaluation import projection, trend

RECORD = "/api/v1/model-performance/metrics/record"
TREND = "/api/v1/model-performance/metrics/trend"


def test_trend_downsamples_exactly_and_follows_the_version_in_force(
    client: TestClient, session_factory: SessionFactory, clock: FrozenClock, settings: Settings
) -> None:
    pair = two_versions(session_factory, clock)
    rng = np.random.default_rng(5)
    start = pair.promoted_at - timedelta(days=1)
    ends = [start + timedelta(minutes=5 * (i + 1)) for i in range(575)]  # two days, 5-min
    values = rng.uniform(1.0, 3.0, len(ends))
    rows = [
        {
            "machine_id": pair.machine_id,
            "model_type": "baseline",
            "model_version": 1 if end <= pair.promoted_at else 2,
            "evaluation_start": (end - timedelta(minutes=5)).isoformat(),
            "evaluation_end": end.isoformat(),
            "rmse": float(v),
            "n_samples": 1,
        }
        for end, v in zip(ends, values, strict=True)
    ]
    # v1 after its time: not the version in force, so not in the default series
    stray = rows[-1] | {"model_version": 1, "rmse": 99.0}
    drift = rows[300] | {"rmse": None, "drift_detected": True, "drift_score": 0.8,
                          "drift_details": {"summary": "residual mean up 1.2 sigma"}}  # fmt: skip
    answer = client.post(RECORD, json={"metrics": [*rows, stray, drift]})
    assert answer.status_code == 201, answer.text

    small = settings.model_copy(update={"monitoring": MonitoringSettings(trend_max_points=20)})
    window = Window.parse(start, start + timedelta(days=2))
    with session_scope(session_factory) as s:
        parts = trend.read_trend(
            session=s, machine_id=pair.machine_id, model_type="baseline", window=window,
            metrics=["rmse"], version=None, settings=small,
        )  # fmt: skip
    got = trend.with_projections(parts, small)
    width = int(np.ceil(2 * 86400 / 20))
    assert got.downsampled is True
    assert got.bucket_seconds == width
    offsets = np.array([(e - start).total_seconds() for e in ends]) // width
    points = got.series["rmse"].points
    assert len(points) == len(np.unique(offsets)) <= 20
    for point, bucket in zip(points, np.unique(offsets), strict=True):
        members = values[offsets == bucket]
        assert point.n == members.size
        assert np.isclose(point.value, members.mean(), rtol=1e-12)
        assert np.isclose(point.min, members.min())
        assert np.isclose(point.max, members.max())
    assert got.series["rmse"].n_rows == len(rows)
    assert {p.version for p in points} == {1, 2}
    assert [(c.from_version, c.to_version, c.action) for c in got.version_changes] == [
        (1, 2, "promote")
    ]
    assert [(m.version, m.score, m.summary) for m in got.drift_markers] == [
        (2, 0.8, "residual mean up 1.2 sigma")
    ]
    projection = got.series["rmse"].projection
    assert projection is not None
    assert projection.threshold is None  # the test versions have no held-out rmse
    assert projection.n_points >= 8

    by_http = client.get(
        TREND,
        params={"machine_id": pair.machine_id, "model_type": "baseline",
                "from": start.isoformat(), "to": (start + timedelta(days=2)).isoformat(),
                "metric": "rmse,mae", "version": 1},
    )  # fmt: skip
    assert by_http.status_code == 200, by_http.text
    body = by_http.json()
    assert body["downsampled"] is False  # 288 + 1 rows of v1 fit in 1,000 buckets
    assert body["series"]["rmse"]["n_rows"] == 288 + 1
    assert max(p["value"] for p in body["series"]["rmse"]["points"]) == 99.0
    assert body["series"]["mae"]["points"] == []
    only_drift = client.get(
        TREND,
        params={"machine_id": pair.machine_id, "model_type": "baseline",
                "from": start.isoformat(), "to": (start + timedelta(days=2)).isoformat(),
                "metric": "rmse", "source": "drift_check,evaluation"},
    ).json()  # fmt: skip
    assert only_drift["series"]["rmse"]["points"] == []
    assert only_drift["rows"].endswith("sources drift_check, evaluation")
    assert len(only_drift["drift_markers"]) == 1


def test_no_rows_is_200_with_empty_series_and_a_message(
    client: TestClient, session_factory: SessionFactory, clock: FrozenClock
) -> None:
    pair = two_versions(session_factory, clock)
    answer = client.get(
        TREND, params={"machine_id": pair.machine_id, "model_type": "baseline", "days": 7}
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert set(body["series"]) == {"r_squared", "rmse", "mae", "mape", "cv_rmse", "nmbe"}
    assert all(s["points"] == [] for s in body["series"].values())
    assert "metrics/record" in body["message"]
    assert (
        client.get(TREND, params={"machine_id": 999, "model_type": "baseline"}).status_code == 404
    )
    bad = client.get(
        TREND, params={"machine_id": pair.machine_id, "model_type": "baseline", "metric": "wat"}
    )
    assert bad.status_code == 422
    assert bad.json()["error"]["message"].startswith("metric: ")


def test_a_rising_error_is_projected_to_cross_its_held_out_threshold(
    client: TestClient, session_factory: SessionFactory, clock: FrozenClock
) -> None:
    pair = two_versions(session_factory, clock)  # v2 holds out cv_rmse 5.0: threshold 6.25
    rng = np.random.default_rng(8)
    start = pair.promoted_at
    rows = [
        {
            "machine_id": pair.machine_id,
            "model_type": "baseline",
            "evaluation_start": (start + timedelta(days=d)).isoformat(),
            "evaluation_end": (start + timedelta(days=d + 1)).isoformat(),
            "cv_rmse": 5.0 + 0.05 * (d + 1) + float(rng.normal(0, 0.02)),
        }
        for d in range(20)
    ]
    assert client.post(RECORD, json={"metrics": rows}).status_code == 201
    answer = client.get(
        TREND,
        params={"machine_id": pair.machine_id, "model_type": "baseline", "metric": "cv_rmse",
                "from": start.isoformat(), "to": (start + timedelta(days=21)).isoformat()},
    )  # fmt: skip
    assert answer.status_code == 200, answer.text
    series = answer.json()["series"]["cv_rmse"]
    assert [p["version"] for p in series["points"]] == [2] * 20
    projection = series["projection"]
    assert projection["threshold"]["value"] == 6.25
    assert projection["significant_towards_degradation"] is True
    assert projection["slope_ci"][0] <= 0.05 <= projection["slope_ci"][1]
    # truth: 5 + 0.05·(d+1) reaches 6.25 at d = 24, i.e. 5 days after the last point (d = 19)
    last = start + timedelta(days=20)
    crossing = datetime.fromisoformat(projection["crossing_at"])
    assert abs((crossing - (last + timedelta(days=5))).total_seconds()) < 86400
    earliest = datetime.fromisoformat(projection["crossing_earliest"])
    assert earliest <= crossing


def test_the_projection_uses_only_the_version_in_force(
    client: TestClient, session_factory: SessionFactory, clock: FrozenClock
) -> None:
    """A retrain's drop in error (v1 at CV(RMSE) 12 %, v2 at 3 %, both flat) is not a trend:
    the projection fits v2's points alone and finds no slope."""
    pair = two_versions(session_factory, clock)
    rng = np.random.default_rng(21)
    start = pair.promoted_at - timedelta(days=10)
    rows = [
        {
            "machine_id": pair.machine_id,
            "model_type": "baseline",
            "model_version": 1 if d < 10 else 2,
            "evaluation_start": (start + timedelta(days=d)).isoformat(),
            "evaluation_end": (start + timedelta(days=d + 1)).isoformat(),
            "cv_rmse": (12.0 if d < 10 else 3.0) + float(rng.normal(0, 0.05)),
        }
        for d in range(20)
    ]
    assert client.post(RECORD, json={"metrics": rows}).status_code == 201
    answer = client.get(
        TREND,
        params={"machine_id": pair.machine_id, "model_type": "baseline", "metric": "cv_rmse",
                "from": start.isoformat(), "to": (start + timedelta(days=21)).isoformat()},
    )  # fmt: skip
    series = answer.json()["series"]["cv_rmse"]
    assert [p["version"] for p in series["points"]] == [1] * 10 + [2] * 10
    projection = series["projection"]
    assert projection["n_points"] == 10  # v2's points only
    low, high = projection["slope_ci"]
    assert low <= 0.0 <= high  # flat: no trend (across the change it would be ≈ −0.9 / day)
    assert abs(projection["slope_per_day"]) < 0.05


def test_projections_run_with_no_database_connection_held(
    client: TestClient,
    session_factory: SessionFactory,
    clock: FrozenClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The API's trend and the dashboard's charts end their read before the statistics: while
    the Theil–Sen projection runs, the request holds no pooled connection (no transaction)."""
    pair = two_versions(session_factory, clock)
    start = pair.promoted_at
    rows = [
        {
            "machine_id": pair.machine_id,
            "model_type": "baseline",
            "evaluation_start": (start + timedelta(days=d)).isoformat(),
            "evaluation_end": (start + timedelta(days=d + 1)).isoformat(),
            "cv_rmse": 5.0 + 0.05 * d,
        }
        for d in range(10)
    ]
    assert client.post(RECORD, json={"metrics": rows}).status_code == 201
    pool = session_factory.kw["bind"].pool
    held: list[int] = []
    project = projection.project

    def watched(*args: Any, **kwargs: Any) -> Any:
        held.append(pool.checkedout())
        return project(*args, **kwargs)

    monkeypatch.setattr(projection, "project", watched)
    where = {"machine_id": pair.machine_id, "model_type": "baseline"}
    api = client.get(TREND, params=where | {"metric": "cv_rmse", "days": 30})
    assert api.status_code == 200, api.text
    assert api.json()["series"]["cv_rmse"]["projection"] is not None
    charts = client.get("/ui/api/performance/trend", params=where | {"days": 30, "windows": "all"})
    assert charts.status_code == 200, charts.text
    assert len(held) > 1  # both answers were projected …
    assert set(held) == {0}  # … with every connection back in the pool
