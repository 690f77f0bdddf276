"""v_latest_model_performance: the newest row per (machine, model type), across versions."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import text
from tests.evaluation.perf_setup import two_versions

from enms.core.clock import FrozenClock
from enms.core.db import SessionFactory, session_scope
from enms.registry import external

RECORD = "/api/v1/model-performance/metrics/record"


def test_the_view_shows_the_newest_row_per_machine_and_model_type(
    client: TestClient, session_factory: SessionFactory, clock: FrozenClock
) -> None:
    pair = two_versions(session_factory, clock)
    with session_scope(session_factory, write=True) as s:
        external.register_external(
            session=s,
            new=external.NewExternal(machine_id=pair.machine_id, model_type="anomaly", name="iso"),
            clock=clock,
        )
    day = timedelta(days=1)
    t = pair.promoted_at

    def row(model_type: str, version: int, end_days: int, f1: float) -> dict[str, object]:
        return {
            "machine_id": pair.machine_id, "model_type": model_type, "model_version": version,
            "evaluation_start": (t + (end_days - 1) * day).isoformat(),
            "evaluation_end": (t + end_days * day).isoformat(), "f1": f1,
        }  # fmt: skip

    rows = [
        row("baseline", 2, 1, 0.1),
        row("baseline", 1, 3, 0.3),  # newest baseline row, of the older version
        row("baseline", 2, 2, 0.2),
        row("anomaly", 1, 1, 0.7),
        row("anomaly", 1, 2, 0.8),
    ]
    assert client.post(RECORD, json={"metrics": rows}).status_code == 201
    with session_scope(session_factory) as s:
        latest = s.execute(
            text(
                "SELECT model_type, model_version, f1, machine_name "
                "FROM v_latest_model_performance ORDER BY model_type"
            )
        ).all()
    assert [tuple(r) for r in latest] == [
        ("anomaly", 1, 0.8, "Compressor 1"),
        ("baseline", 1, 0.3, "Compressor 1"),
    ]
