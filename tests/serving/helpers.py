"""Helpers of the serving tests (no fixtures): versions, loading, an A/B test row, rows."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pandas as pd
from sqlalchemy import select

from enms.core.db import SessionFactory, session_scope
from enms.experiments.models import RUNNING, ABTest
from enms.ml.base import EnergyModel
from enms.registry import artifacts
from enms.registry.models import ModelVersion


def version_ids(factory: SessionFactory, model_type: str) -> list[int]:
    """Ids of the versions of ``model_type``, oldest first."""
    with session_scope(factory) as session:
        return list(
            session.scalars(
                select(ModelVersion.id)
                .where(ModelVersion.model_type == model_type)
                .order_by(ModelVersion.version)
            )
        )


def load(factory: SessionFactory, version_id: int) -> EnergyModel:
    """A version's model, loaded the registry's way (signature verified)."""
    with session_scope(factory) as session:
        row = session.get(ModelVersion, version_id)
        assert row is not None
        return artifacts.load_model(row)


def start_ab_test(
    factory: SessionFactory,
    *,
    machine_id: int,
    a_id: int,
    b_id: int,
    split: float = 0.5,
    slot_minutes: int = 60,
    start: datetime = datetime(2025, 2, 20, tzinfo=UTC),
    model_type: str = "baseline",
) -> int:
    """Insert a running A/B test row directly (the start endpoint is another helper's)."""
    with session_scope(factory, write=True) as session:
        test = ABTest(
            test_name="serving test",
            machine_id=machine_id,
            model_type=model_type,
            model_a_id=a_id,
            model_b_id=b_id,
            traffic_split=split,
            status=RUNNING,
            start_date=start,
            planned_end_date=start + pd.Timedelta(days=14),
            created_by="test",
            slot_minutes=slot_minutes,
        )
        session.add(test)
        session.flush()
        return test.id


def request_rows(frame: pd.DataFrame, columns: list[str]) -> list[dict[str, Any]]:
    """Request rows (ISO timestamps, UTC) with ``columns`` of a readings frame."""
    rows = []
    for ts, values in frame[columns].iterrows():
        row: dict[str, Any] = {"timestamp": pd.Timestamp(str(ts)).isoformat()}
        row.update({str(c): None if pd.isna(v) else float(v) for c, v in values.items()})
        rows.append(row)
    return rows


def predict_url(machine_id: int, model_type: str = "baseline") -> str:
    """The predict endpoint of a machine's model type."""
    return f"/api/v1/machines/{machine_id}/models/{model_type}/predict"
