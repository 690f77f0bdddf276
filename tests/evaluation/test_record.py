"""POST /model-performance/metrics/record and external models, against the real app."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from tests.evaluation.perf_setup import two_versions

from enms.core.clock import FrozenClock
from enms.core.db import SessionFactory, session_scope
from enms.evaluation.models import PerformanceMetric
from enms.registry import artifacts
from enms.registry import service as registry

URL = "/api/v1/model-performance/metrics/record"


def _row(machine_id: int, **extra: Any) -> dict[str, Any]:
    return {
        "machine_id": machine_id,
        "model_type": "baseline",
        "evaluation_start": "2026-01-20T00:00:00",
        "evaluation_end": "2026-01-21T00:00:00Z",
        "r_squared": 0.91, "rmse": 2.5, "mae": 1.9, "mape": 7.5, "cv_rmse": 11.0,
        "nmbe": -1.2, "n_samples": 96,
    } | extra  # fmt: skip


def _count(factory: SessionFactory) -> int:
    with session_scope(factory) as s:
        return int(s.scalar(select(func.count()).select_from(PerformanceMetric)) or 0)


def test_single_row_and_batch_are_recorded_with_the_version_in_force(
    client: TestClient, session_factory: SessionFactory, clock: FrozenClock
) -> None:
    pair = two_versions(session_factory, clock)
    before = (pair.promoted_at - timedelta(hours=1)).isoformat()
    after = (pair.promoted_at + timedelta(hours=1)).isoformat()
    start = (pair.registered_at + timedelta(hours=1)).isoformat()
    one = client.post(
        URL, json=_row(pair.machine_id, evaluation_start=start, evaluation_end=before)
    )
    assert one.status_code == 201, one.text
    batch = client.post(
        URL,
        json={
            "metrics": [
                _row(pair.machine_id, evaluation_start=before, evaluation_end=after),
                # ends exactly at the promotion: the window [start, end) was served by v1
                _row(pair.machine_id, evaluation_start=start,
                     evaluation_end=pair.promoted_at.isoformat()),
                _row(pair.machine_id, model_version=1, evaluation_start=before,
                     evaluation_end=after, drift_detected=True, drift_score=0.7),
            ]
        },
    )  # fmt: skip
    assert batch.status_code == 201, batch.text
    ids = one.json()["ids"] + batch.json()["ids"]
    assert batch.json()["count"] == 3
    with session_scope(session_factory) as s:
        rows = {r.id: r for r in s.scalars(select(PerformanceMetric))}
    assert [rows[i].model_version for i in ids] == [1, 2, 1, 1]
    assert {r.source for r in rows.values()} == {"recorded"}
    assert [rows[i].drift_detected for i in ids] == [None, None, None, True]
    assert rows[ids[0]].rmse == 2.5
    assert rows[ids[0]].n_samples == 96
    assert rows[ids[0]].evaluation_start.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    ("field", "value", "problem"),
    [
        ("r_squared", 1.5, "less than or equal to 1"),
        ("rmse", -0.1, "greater than or equal to 0"),
        ("mae", -1, "greater than or equal to 0"),
        ("mape", -3, "greater than or equal to 0"),
        ("cv_rmse", -3, "greater than or equal to 0"),
        ("precision", 1.2, "less than or equal to 1"),
        ("recall", -0.2, "greater than or equal to 0"),
        ("f1", 2, "less than or equal to 1"),
        ("skill", 1.5, "less than or equal to 1"),
        ("nmbe", "NaN", "finite number"),
        ("rmse", "Infinity", "finite number"),
        ("n_samples", -1, "greater than or equal to 0"),
        ("drift_score", 1.5, "less than or equal to 1"),
        ("evaluation_end", "2026-01-19T00:00:00", "must be after evaluation_start"),
        ("evaluation_start", "yesterday", "datetime"),
        ("model_type", "lstm", "unknown model type 'lstm'"),
        ("machine_id", 999, "no machine with id 999"),
        ("model_version", 7, "has no baseline version 7"),
        ("surprise", 1, "Extra inputs are not permitted"),
    ],
)
def test_every_bad_field_is_a_422_naming_it_and_a_batch_writes_nothing(
    client: TestClient,
    session_factory: SessionFactory,
    clock: FrozenClock,
    field: str,
    value: Any,
    problem: str,
) -> None:
    pair = two_versions(session_factory, clock)
    bad = _row(pair.machine_id) | {field: value}
    single = client.post(URL, json=bad)
    assert single.status_code == 422, single.text
    assert single.json()["error"]["message"].startswith(f"{field}: ")
    assert problem in single.json()["error"]["message"]
    good = _row(pair.machine_id)
    batch = client.post(URL, json={"metrics": [good, good, bad, good]})
    assert batch.status_code == 422
    error = batch.json()["error"]
    assert error["message"].startswith(f"metrics[2].{field}: ")
    assert error["details"]["index"] == 2
    assert _count(session_factory) == 0


def test_a_missing_version_before_any_champion_and_bad_shapes_are_refused(
    client: TestClient, session_factory: SessionFactory, clock: FrozenClock
) -> None:
    pair = two_versions(session_factory, clock)
    early = _row(pair.machine_id, evaluation_start="2025-01-01", evaluation_end="2025-01-02")
    answer = client.post(URL, json=early)
    assert answer.status_code == 422
    assert answer.json()["error"]["message"].startswith("model_version: ")
    assert "had no baseline champion" in answer.json()["error"]["message"]
    assert client.post(URL, json={"metrics": []}).status_code == 422
    assert client.post(URL, json=[_row(pair.machine_id)]).status_code == 422
    assert _count(session_factory) == 0


def test_external_model_is_registered_champion_and_tracked(
    client: TestClient, session_factory: SessionFactory, clock: FrozenClock
) -> None:
    machine = client.post("/api/v1/machines", json={"name": "Press 4", "timezone": "UTC"}).json()
    url = f"/api/v1/machines/{machine['id']}/models/baseline/external-versions"
    first = client.post(
        url, json={"name": "sagemaker-xgb", "metadata": {"run_id": "abc"}, "actor": "ops"}
    )
    assert first.status_code == 201, first.text
    body = first.json()
    assert (body["version"], body["origin"], body["name"]) == (1, "external", "sagemaker-xgb")
    assert body["aliases"] == ["champion"]
    assert body["artifact_sha256"] is None
    assert body["external_metadata"] == {"run_id": "abc"}
    second = client.post(url, json={"name": "v2-candidate"}).json()
    assert (second["version"], second["aliases"]) == (2, [])  # never a challenger
    third = client.post(url, json={"name": "v3", "make_champion": True, "reason": "A/B won"})
    assert third.json()["aliases"] == ["champion"]
    history = client.get(f"/api/v1/machines/{machine['id']}/models/baseline/aliases/history")
    moves = [(e["action"], e["from_version"], e["to_version"]) for e in history.json()]
    assert moves == [("register", None, 1), ("promote", 1, 3)]
    clock.advance(timedelta(days=1))
    start, end = clock.now().isoformat(), (clock.now() + timedelta(days=1)).isoformat()
    rec = client.post(URL, json=_row(machine["id"], evaluation_start=start, evaluation_end=end))
    assert rec.status_code == 201, rec.text
    with session_scope(session_factory) as s:
        row = s.get(PerformanceMetric, rec.json()["ids"][0])
        assert row is not None
        assert row.model_version == 3
        version = registry.get_version(
            session=s, machine_id=machine["id"], model_type="baseline", version=3
        )
        stored = artifacts.StoredArtifact.of(s, version)
        secret = artifacts.secret_of(s)
    with pytest.raises(artifacts.ArtifactRefused, match="has no stored artifact"):
        artifacts.load(stored, secret)
    bad = client.post(url, json={"name": "x", "training_start": "2025-02-01",
                                 "training_end": "2025-01-01"})  # fmt: skip
    assert bad.status_code == 422
    assert "training_end" in bad.json()["error"]["message"]
