"""Queries on the prediction log. Flushes, never commits.

:func:`insert_points` writes a scored batch in bulk (idempotent on ``(model_id, ts, origin)``);
:func:`insert_served_points` writes what the predict endpoint served, with its A/B arm;
:func:`points_frame` reads one version's points of a window as a DataFrame — the one way
evaluation, trends, drift checks and A/B statistics read the log.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import func, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from enms.core.timewindow import as_utc
from enms.predictions.models import PredictionBatch, PredictionPoint
from enms.readings.models import EnergyReading
from enms.registry.models import ModelAlias

SERVED = "served"
"""Batch source of the predict endpoint's points (never a scoring run's resume point)."""
POINT_COLUMNS = ("origin", "predicted", "lower", "upper", "actual", "score", "flagged", "arm")
#: Aliases whose versions are scored (shadow scoring: all see every reading; `previous` is the
#: champion before a promotion, kept scored while the new one is watched).
SCORED_ALIASES = ("champion", "challenger", "previous")


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
    rows = _rows(batch, frame)
    if session.get_bind().dialect.name == "postgresql":
        written = _insert_unnest(session, rows)
    else:
        written = 0
        table = PredictionPoint.__table__  # Core insert: plain rows, no ORM bookkeeping
        for start in range(0, len(rows), 5000):
            # RETURNING names the rows really inserted (conflicts return nothing), so the
            # count needs no second query; drivers disagree on rowcount for multi-row inserts.
            statement = (
                sqlite.insert(table)  # type: ignore[arg-type]
                .on_conflict_do_nothing(index_elements=["model_id", "ts", "origin"])
                .returning(table.c.id)
            )
            written += len(session.execute(statement, rows[start : start + 5000]).all())
    batch.n_points = (batch.n_points or 0) + written
    session.flush()
    return written


def insert_served_points(
    session: Session, *, batch: PredictionBatch, frame: pd.DataFrame
) -> tuple[int, int]:
    """Log what the predict endpoint served: the rows of ``frame`` (indexed by target
    timestamp, UTC; columns from :data:`POINT_COLUMNS`, ``origin`` defaulting to the
    timestamp, ``arm`` the A/B arm or None) as points of ``batch`` (source ``served``).

    A point already logged under the same ``(model_id, ts, origin)`` -- a baseline's or
    detector's shadow point (their origin is ``ts``), or the same request served before -- is
    not duplicated: ``ON CONFLICT`` only sets its arm (kept when the new one is None); its
    values and batch stay. Returns ``(new points, existing points tagged)``; sets
    ``batch.n_points`` to the new ones. Both dialects, one statement per 5,000 rows.
    """
    if batch.id is None:
        session.add(batch)
        session.flush()
    rows = _rows(batch, frame)
    table = PredictionPoint.__table__
    postgres = session.get_bind().dialect.name == "postgresql"
    new = tagged = 0
    for start in range(0, len(rows), 5000):
        base = (postgresql.insert if postgres else sqlite.insert)(table)  # type: ignore[arg-type]
        statement = base.on_conflict_do_update(
            index_elements=["model_id", "ts", "origin"],
            set_={"arm": func.coalesce(base.excluded.arm, table.c.arm)},
        ).returning(table.c.batch_id)
        # A new row carries this batch's id; an existing one keeps the batch that wrote it.
        for (batch_id,) in session.execute(statement, rows[start : start + 5000]).all():
            if batch_id == batch.id:
                new += 1
            else:
                tagged += 1
    batch.n_points = (batch.n_points or 0) + new
    session.flush()
    return new, tagged


def _rows(batch: PredictionBatch, frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The point rows of ``frame`` for ``batch`` (origin defaulting to the timestamp)."""
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
    return rows


#: PostgreSQL array types of the log's columns, for :func:`_insert_unnest`.
PG_TYPES = {
    "model_id": "integer",
    "machine_id": "integer",
    "batch_id": "bigint",
    "ts": "timestamptz",
    "origin": "timestamptz",
    "predicted": "double precision",
    "lower": "double precision",
    "upper": "double precision",
    "actual": "double precision",
    "score": "double precision",
    "flagged": "boolean",
    "arm": "varchar",
}


def _insert_unnest(session: Session, rows: list[dict[str, Any]]) -> int:
    """PostgreSQL: one ``INSERT … SELECT FROM unnest(arrays)`` per 50,000 rows.

    One bound array per column instead of a multi-row VALUES list: psycopg parses a query
    with tens of thousands of placeholders slower than the server inserts the rows.
    """
    if not rows:
        return 0
    names = list(rows[0])
    arrays = ", ".join(f"CAST(:{n} AS {PG_TYPES[n]}[])" for n in names)
    statement = text(
        f"INSERT INTO prediction_log ({', '.join(names)}) SELECT * FROM unnest({arrays}) "
        "ON CONFLICT (model_id, ts, origin) DO NOTHING RETURNING id"
    )
    written = 0
    for start in range(0, len(rows), 50_000):
        chunk = rows[start : start + 50_000]
        params = {n: [r[n] for r in chunk] for n in names}
        written += len(session.execute(statement, params).all())
    return written


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
    # Core execution: no ORM row loading for what is a plain column read.
    ordered = query.order_by(PredictionPoint.ts, PredictionPoint.origin)
    rows = session.connection().execute(ordered).all()
    # Built column by column from plain tuples: pandas probing each Row object costs more
    # than the query itself on a month of points.
    names = ["ts", *POINT_COLUMNS]
    columns = list(zip(*map(tuple, rows), strict=True)) if rows else [()] * len(names)
    frame = pd.DataFrame(
        {
            name: pd.Series(list(values), dtype=object)
            for name, values in zip(names, columns, strict=True)
        }
    )
    frame["ts"] = pd.to_datetime(frame["ts"], utc=True)
    frame["origin"] = pd.to_datetime(frame["origin"], utc=True)
    for name in ("predicted", "lower", "upper", "actual", "score"):
        frame[name] = frame[name].astype(float)
    return frame.set_index("ts")


def scoring_targets(session: Session, machine_id: int | None = None) -> list[tuple[int, str]]:
    """``(version id, alias)`` of every champion and challenger (of one machine, or all),
    ordered by machine, model type and alias."""
    query = select(ModelAlias.model_version_id, ModelAlias.alias).where(
        ModelAlias.alias.in_(SCORED_ALIASES)
    )
    if machine_id is not None:
        query = query.where(ModelAlias.machine_id == machine_id)
    rows = session.execute(
        query.order_by(ModelAlias.machine_id, ModelAlias.model_type, ModelAlias.alias)
    )
    return [(int(v), str(a)) for v, a in rows]


def resume_point(session: Session, model_id: int) -> datetime | None:
    """Where the next scoring run of a version starts: the end of its last scored window,
    or just after its last logged target/origin (whichever is later); None if never scored.

    Served batches (source ``served``) do not count: the predict endpoint logs whatever
    timestamps callers ask for (tomorrow's, a week ago's), and a served future timestamp must
    never make shadow scoring skip the readings before it.
    """
    scored = select(PredictionBatch.id).where(
        PredictionBatch.model_id == model_id, PredictionBatch.source != SERVED
    )
    window_end = session.scalar(
        select(func.max(PredictionBatch.window_end)).where(
            PredictionBatch.model_id == model_id, PredictionBatch.source != SERVED
        )
    )
    last = session.execute(
        select(func.max(PredictionPoint.ts), func.max(PredictionPoint.origin)).where(
            PredictionPoint.model_id == model_id, PredictionPoint.batch_id.in_(scored)
        )
    ).one()
    candidates = [as_utc(window_end)] if window_end is not None else []
    if last[1] is not None:
        candidates.append(as_utc(last[1]) + timedelta(microseconds=1))
    return max(candidates) if candidates else None


def missing_actuals_since(
    session: Session, *, machine_id: int, since: datetime
) -> dict[int, datetime]:
    """Per version, the earliest target at or after ``since`` still without an actual whose
    reading has arrived (what :func:`fill_actuals` is about to change)."""
    reading = (
        select(EnergyReading.id)
        .where(
            EnergyReading.machine_id == PredictionPoint.machine_id,
            EnergyReading.ts == PredictionPoint.ts,
        )
        .exists()
    )
    rows = session.execute(
        select(PredictionPoint.model_id, func.min(PredictionPoint.ts))
        .where(
            PredictionPoint.machine_id == machine_id,
            PredictionPoint.ts >= since,
            PredictionPoint.actual.is_(None),
            reading,
        )
        .group_by(PredictionPoint.model_id)
    )
    return {int(m): as_utc(t) for m, t in rows}


def fill_actuals(session: Session, *, machine_id: int, since: datetime) -> int:
    """Copy arrived readings into logged points of ``machine_id`` (targets at or after
    ``since``) that have no actual yet; returns how many points were filled."""
    energy = (
        select(EnergyReading.energy_kwh)
        .where(
            EnergyReading.machine_id == PredictionPoint.machine_id,
            EnergyReading.ts == PredictionPoint.ts,
        )
        .scalar_subquery()
    )
    arrived = (
        select(EnergyReading.id)
        .where(
            EnergyReading.machine_id == PredictionPoint.machine_id,
            EnergyReading.ts == PredictionPoint.ts,
        )
        .exists()
    )
    result = session.execute(
        update(PredictionPoint)
        .where(
            PredictionPoint.machine_id == machine_id,
            PredictionPoint.ts >= since,
            PredictionPoint.actual.is_(None),
            arrived,
        )
        .values(actual=energy)
        .execution_options(synchronize_session=False)
    )
    session.flush()
    return int(getattr(result, "rowcount", 0) or 0)


def points_page(
    session: Session,
    *,
    model_id: int,
    start: datetime | None,
    end: datetime | None,
    limit: int,
) -> list[Any]:
    """Up to ``limit`` logged points (with their batch id) of a version in ``[start, end)``,
    ordered by target then origin."""
    query = select(
        PredictionPoint.ts,
        PredictionPoint.batch_id,
        *(getattr(PredictionPoint, c) for c in POINT_COLUMNS),
    ).where(PredictionPoint.model_id == model_id)
    if start is not None:
        query = query.where(PredictionPoint.ts >= start)
    if end is not None:
        query = query.where(PredictionPoint.ts < end)
    query = query.order_by(PredictionPoint.ts, PredictionPoint.origin).limit(limit)
    return list(session.execute(query).all())


def batches(session: Session, ids: set[int]) -> list[PredictionBatch]:
    """The batches with ``ids``."""
    if not ids:
        return []
    return list(
        session.scalars(
            select(PredictionBatch).where(PredictionBatch.id.in_(ids)).order_by(PredictionBatch.id)
        )
    )


def newest_reading(session: Session, machine_id: int) -> datetime | None:
    """Timestamp of a machine's newest reading (uses the unique ``(machine_id, ts)`` index)."""
    found = session.scalar(
        select(func.max(EnergyReading.ts)).where(EnergyReading.machine_id == machine_id)
    )
    return None if found is None else as_utc(found)
