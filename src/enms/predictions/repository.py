"""Queries on the prediction log. Flushes, never commits.

:func:`insert_points` writes a scored batch in bulk (idempotent on ``(model_id, ts, origin)``);
:func:`points_frame` reads one version's points of a window as a DataFrame — the one way
evaluation, trends, drift checks and A/B statistics read the log.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from enms.predictions.models import PredictionBatch, PredictionPoint

POINT_COLUMNS = ("origin", "predicted", "lower", "upper", "actual", "score", "flagged", "arm")


def _value(v: Any) -> Any:
    if v is None:
        return None
    if isinstance(v, float | np.floating):
        return None if not np.isfinite(v) else float(v)
    if isinstance(v, np.bool_):
        return bool(v)
    if isinstance(v, pd.Timestamp):
        return v.to_pydatetime()
    if v is pd.NaT:
        return None
    return v


def insert_points(session: Session, *, batch: PredictionBatch, frame: pd.DataFrame) -> int:
    """Insert the rows of ``frame`` (indexed by target timestamp, UTC; columns from
    :data:`POINT_COLUMNS`, ``origin`` defaulting to the timestamp) as points of ``batch``.

    Rows whose ``(model_id, ts, origin)`` is already logged are skipped; returns how many were
    new. Sets ``batch.n_points``.
    """
    if batch.id is None:
        session.add(batch)
        session.flush()
    index = pd.DatetimeIndex(frame.index)
    origins = (
        pd.DatetimeIndex(frame["origin"]) if "origin" in frame.columns else index
    ).to_pydatetime()
    columns = {
        c: frame[c].to_numpy() for c in POINT_COLUMNS if c in frame.columns and c != "origin"
    }
    rows = []
    for i, ts in enumerate(index.to_pydatetime()):
        row: dict[str, Any] = {
            "model_id": batch.model_id,
            "machine_id": batch.machine_id,
            "batch_id": batch.id,
            "ts": ts,
            "origin": origins[i],
        }
        for name, values in columns.items():
            row[name] = _value(values[i])
        rows.append(row)
    before = _count(session, batch.id)
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = PredictionPoint.__table__  # Core insert: plain rows, no ORM bookkeeping
    for start in range(0, len(rows), 5000):
        statement = insert(table).on_conflict_do_nothing(  # type: ignore[arg-type]
            index_elements=["model_id", "ts", "origin"]
        )
        session.execute(statement, rows[start : start + 5000])
    # Counted, not taken from rowcount: drivers disagree on it for multi-row inserts.
    written = _count(session, batch.id) - before
    batch.n_points = (batch.n_points or 0) + written
    session.flush()
    return written


def _count(session: Session, batch_id: int) -> int:
    found = session.scalar(
        select(func.count())
        .select_from(PredictionPoint)
        .where(PredictionPoint.batch_id == batch_id)
    )
    return int(found or 0)


def points_frame(
    session: Session, *, model_id: int, start: datetime | None = None, end: datetime | None = None
) -> pd.DataFrame:
    """One version's logged points with targets in ``[start, end)``, ordered by target then
    origin: index ``ts`` (UTC) and the columns of :data:`POINT_COLUMNS`."""
    query = select(PredictionPoint.ts, *(getattr(PredictionPoint, c) for c in POINT_COLUMNS)).where(
        PredictionPoint.model_id == model_id
    )
    if start is not None:
        query = query.where(PredictionPoint.ts >= start)
    if end is not None:
        query = query.where(PredictionPoint.ts < end)
    rows = session.execute(query.order_by(PredictionPoint.ts, PredictionPoint.origin)).all()
    frame = pd.DataFrame(rows, columns=["ts", *POINT_COLUMNS])
    frame["ts"] = pd.to_datetime(frame["ts"], utc=True)
    frame["origin"] = pd.to_datetime(frame["origin"], utc=True)
    for name in ("predicted", "lower", "upper", "actual", "score"):
        frame[name] = frame[name].astype(float)
    return frame.set_index("ts")
