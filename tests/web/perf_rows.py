"""Shared set-up of the overview and model-performance page tests: recorded metric rows."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient

RECORD = "/api/v1/model-performance/metrics/record"


def hourly_rows(
    machine_id: int,
    end: datetime,
    hours: int,
    *,
    promoted_at: datetime,
    drift_every: int = 0,
) -> list[dict[str, Any]]:
    """``hours`` hourly baseline rows ending at ``end`` — of v1 up to ``promoted_at``, of v2
    after it — CV(RMSE) rising slowly, every ``drift_every``-th with drift found."""
    rows = []
    for i in range(hours):
        stop = end - timedelta(hours=hours - 1 - i)
        row: dict[str, Any] = {
            "machine_id": machine_id,
            "model_type": "baseline",
            "model_version": 1 if stop <= promoted_at else 2,
            "evaluation_start": (stop - timedelta(hours=1)).isoformat(),
            "evaluation_end": stop.isoformat(),
            "cv_rmse": 5.0 + 0.001 * i + (i % 7) * 0.1,
            "rmse": 1.0 + (i % 5) * 0.05,
            "n_samples": 1,
        }
        if drift_every and i % drift_every == drift_every - 1:
            row |= {"drift_detected": True, "drift_score": 0.7,
                    "drift_details": {"summary": "residual mean up 1.5 sigma"}}  # fmt: skip
        rows.append(row)
    return rows


def record(client: TestClient, rows: list[dict[str, Any]], batch: int = 2000) -> None:
    """Record ``rows`` through the public API, in batches."""
    for i in range(0, len(rows), batch):
        answer = client.post(RECORD, json={"metrics": rows[i : i + batch]})
        assert answer.status_code == 201, answer.text
