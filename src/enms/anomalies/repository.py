"""Queries on ``anomaly_events`` and the prediction-log reads anomaly detection needs.

Flushes, never commits. :func:`insert_events` is an ``INSERT … ON CONFLICT DO NOTHING`` on
the unique ``(machine_id, model_id, ts)``: concurrent runs on either dialect store each
flagged reading once, and ``RETURNING`` names the rows this run really stored.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from enms.anomalies.detect import FlaggedPoint
from enms.anomalies.models import AnomalyEvent
from enms.core.timewindow import as_utc
from enms.predictions.models import PredictionPoint


def newest_event(session: Session, model_id: int) -> datetime | None:
    """Timestamp of the newest stored event of a version (None: none yet)."""
    found = session.scalar(
        select(func.max(AnomalyEvent.ts)).where(AnomalyEvent.model_id == model_id)
    )
    return None if found is None else as_utc(found)


def newest_point(session: Session, model_id: int) -> datetime | None:
    """Target timestamp of a version's newest logged point (None: never scored)."""
    found = session.scalar(
        select(func.max(PredictionPoint.ts)).where(PredictionPoint.model_id == model_id)
    )
    return None if found is None else as_utc(found)


def flagged_points(
    session: Session, *, model_id: int, after: datetime | None, since: datetime | None
) -> list[FlaggedPoint]:
    """A version's flagged points with an actual, ``ts > after`` (or ``ts >= since``), oldest
    first."""
    query = select(
        PredictionPoint.ts, PredictionPoint.actual, PredictionPoint.predicted, PredictionPoint.score
    ).where(
        PredictionPoint.model_id == model_id,
        PredictionPoint.flagged.is_(True),
        PredictionPoint.actual.is_not(None),
        PredictionPoint.score.is_not(None),
    )
    if after is not None:
        query = query.where(PredictionPoint.ts > after)
    elif since is not None:
        query = query.where(PredictionPoint.ts >= since)
    rows = session.execute(query.order_by(PredictionPoint.ts))
    return [
        FlaggedPoint(as_utc(ts), float(actual), None if pred is None else float(pred), float(score))
        for ts, actual, pred, score in rows
        if actual is not None and score is not None  # excluded by the query; for the types
    ]


def insert_events(session: Session, rows: list[dict[str, Any]]) -> list[tuple[datetime, int]]:
    """Store the rows not stored yet; ``(ts, id)`` of those this call stored."""
    if not rows:
        return []
    table = AnomalyEvent.__table__
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = (
        insert(table)  # type: ignore[arg-type]
        .on_conflict_do_nothing(index_elements=["machine_id", "model_id", "ts"])
        .returning(table.c.ts, table.c.id)
    )
    stored = []
    for start in range(0, len(rows), 1000):
        stored += [
            (as_utc(ts), int(i)) for ts, i in session.execute(statement, rows[start : start + 1000])
        ]
    return sorted(stored)


def machine_events(
    session: Session, *, machine_id: int, after: datetime, until: datetime
) -> list[tuple[datetime, int]]:
    """``(ts, id)`` of a machine's events with ``after < ts <= until``, one per reading (the
    first stored, should two versions have flagged the same one), oldest first."""
    rows = session.execute(
        select(AnomalyEvent.ts, func.min(AnomalyEvent.id))
        .where(
            AnomalyEvent.machine_id == machine_id,
            AnomalyEvent.ts > after,
            AnomalyEvent.ts <= until,
        )
        .group_by(AnomalyEvent.ts)
        .order_by(AnomalyEvent.ts)
    )
    return [(as_utc(ts), int(i)) for ts, i in rows]


def events_page(
    session: Session, *, machine_id: int, start: datetime, end: datetime, limit: int
) -> list[AnomalyEvent]:
    """A machine's events with ``start <= ts < end``, newest first, at most ``limit``."""
    return list(
        session.scalars(
            select(AnomalyEvent)
            .where(
                AnomalyEvent.machine_id == machine_id,
                AnomalyEvent.ts >= start,
                AnomalyEvent.ts < end,
            )
            .order_by(AnomalyEvent.ts.desc(), AnomalyEvent.id.desc())
            .limit(limit)
        )
    )
