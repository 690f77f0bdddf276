"""The periodic evaluation: daily and weekly metrics rows from the prediction log.

For every champion and challenger (every model type), one ``periodic_daily`` row per
complete UTC day and one ``periodic_weekly`` row per complete Monday-start UTC week, from
the version's logged points (:mod:`enms.evaluation.from_log`; no model is run). It catches up
on at most :data:`CATCH_UP_DAYS` days before today (not before the day the version's training
ended) and skips windows the version already has a row for, so a re-run writes nothing new.
Windows without any scorable point are not written (they are re-checked on the next run,
because actuals may still arrive); ``drift_detected`` stays NULL (no drift check ran).

Each version is read in its own short unit of work (points, readings for the seasonal-naive
reference and anomaly labels), computed outside any, and all rows are written in one short
write at the end. Scheduled by ``ENMS_SCHEDULE__PERFORMANCE_EVALUATION``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from enms.core.clock import Clock
from enms.core.config import Settings
from enms.core.db import SessionFactory, session_scope
from enms.evaluation import from_log
from enms.evaluation.models import PerformanceMetric
from enms.ml.base import TARGET
from enms.ml.forecast_grid import infer_step, seasonal_naive
from enms.predictions import repository as log
from enms.predictions.models import PredictionDaily
from enms.readings import service as readings
from enms.readings.models import Machine
from enms.registry.models import ModelAlias, ModelVersion
from enms.registry.service import CHALLENGER, CHAMPION

CATCH_UP_DAYS = 31
DAILY, WEEKLY = "periodic_daily", "periodic_weekly"
DAY, WEEK = timedelta(days=1), timedelta(days=7)
NAIVE_CONTEXT = timedelta(days=8)


@dataclass(frozen=True)
class Target:
    """One champion or challenger and the windows it still lacks."""

    version_id: int
    machine_id: int
    model_type: str
    version: int
    timezone: str
    windows: tuple[tuple[str, datetime, datetime], ...]


def performance_evaluation(
    *, factory: SessionFactory, settings: Settings, clock: Clock
) -> dict[str, Any]:
    """Write the missing daily and weekly rows of every champion and challenger."""
    del settings  # the windows are fixed (UTC days, Monday weeks); nothing to configure yet
    now = clock.now()
    today = datetime(now.year, now.month, now.day, tzinfo=UTC)
    with session_scope(factory) as session:
        targets = _targets(session, today)
    rows: list[PerformanceMetric] = []
    skipped = 0
    for target in targets:
        with session_scope(factory) as session:
            data = _read(session, target)
        for source, start, end in target.windows:
            row = _evaluate(target, data, source, start, end, now)
            if row is None:
                skipped += 1
            else:
                rows.append(row)
    written = _write(factory, rows)
    return {
        "versions": len(targets),
        "windows_checked": sum(len(t.windows) for t in targets),
        "daily_rows": sum(1 for r in written if r.source == DAILY),
        "weekly_rows": sum(1 for r in written if r.source == WEEKLY),
        "skipped_no_points": skipped,
    }


def _targets(session: Session, today: datetime) -> list[Target]:
    found = session.execute(
        select(  # the columns only: a version row also carries its artifact's bytes
            ModelVersion.id,
            ModelVersion.machine_id,
            ModelVersion.model_type,
            ModelVersion.version,
            ModelVersion.training_end,
            Machine.timezone,
        )
        .join(ModelAlias, ModelAlias.model_version_id == ModelVersion.id)
        .join(Machine, Machine.id == ModelVersion.machine_id)
        .where(ModelAlias.alias.in_((CHAMPION, CHALLENGER)))
        .order_by(ModelVersion.id)
    ).all()
    earliest = today - timedelta(days=CATCH_UP_DAYS)
    versions = {row.id: row for row in found}
    done: set[tuple[Any, ...]] = {
        tuple(r)
        for r in session.execute(
            select(
                PerformanceMetric.model_id, PerformanceMetric.source,
                PerformanceMetric.evaluation_start,
            ).where(
                PerformanceMetric.model_id.in_(versions),
                PerformanceMetric.source.in_((DAILY, WEEKLY)),
                PerformanceMetric.evaluation_start >= earliest - WEEK,
            )
        )
    }  # fmt: skip
    targets = []
    for version in versions.values():
        first = earliest
        if version.training_end is not None:
            trained = version.training_end
            first = max(first, datetime(trained.year, trained.month, trained.day, tzinfo=UTC))
        windows = [(DAILY, d, d + DAY) for d in _steps(first, today, DAY)]
        monday = first - timedelta(days=first.weekday())
        windows += [(WEEKLY, w, w + WEEK) for w in _steps(monday, today, WEEK)]
        missing = tuple(w for w in windows if (version.id, w[0], w[1]) not in done)
        if missing:
            targets.append(
                Target(
                    version.id,
                    version.machine_id,
                    version.model_type,
                    version.version,
                    version.timezone,
                    missing,
                )
            )
    return targets


def _steps(start: datetime, stop: datetime, step: timedelta) -> list[datetime]:
    """``start, start+step, …`` while ``≤ stop − step`` (complete windows before ``stop``)."""
    out, at = [], start
    while at + step <= stop:
        out.append(at)
        at += step
    return out


@dataclass(frozen=True)
class Inputs:
    points: pd.DataFrame
    frame: pd.DataFrame | None
    rollup: list[dict[str, Any]]


def _read(session: Session, target: Target) -> Inputs:
    start = min(w[1] for w in target.windows)
    end = max(w[2] for w in target.windows)
    points = log.points_frame(session, model_id=target.version_id, start=start, end=end)
    frame = None
    if target.model_type != "baseline":
        context = NAIVE_CONTEXT if target.model_type.startswith("forecast_") else timedelta(0)
        frame = readings.training_frame(
            session=session, machine_id=target.machine_id, start=start - context, end=end
        )
    rollup = []
    if target.model_type == "baseline":
        rollup = [
            {"day": r.day, **{k: getattr(r, k) for k in from_log.SUM_FIELDS}}
            for r in session.scalars(
                select(PredictionDaily).where(
                    PredictionDaily.model_id == target.version_id,
                    PredictionDaily.day >= start,
                    PredictionDaily.day < end,
                )
            )
        ]
    return Inputs(points=points, frame=frame, rollup=rollup)


def _evaluate(
    target: Target, data: Inputs, source: str, start: datetime, end: datetime, now: datetime
) -> PerformanceMetric | None:
    index = pd.DatetimeIndex(data.points.index)
    points = data.points.loc[(index >= pd.Timestamp(start)) & (index < pd.Timestamp(end))]
    kind = target.model_type
    if kind == "baseline":
        result = from_log.baseline_metrics(points)
        if result.n == 0 and data.rollup:  # raw points pruned: the daily sums remain
            days = [d for d in data.rollup if start <= d["day"] < end]
            result = from_log.metrics_from_rollup(days)
    elif kind.startswith("forecast_"):
        result = from_log.forecast_metrics(points, _naive(data.frame, target.timezone))
    else:
        labels = None
        if data.frame is not None and "is_anomaly" in data.frame.columns:
            labels = data.frame["is_anomaly"]
        result = from_log.anomaly_metrics(points, labels)
    if result.n == 0:
        return None
    return PerformanceMetric(
        model_id=target.version_id,
        machine_id=target.machine_id,
        model_type=kind,
        model_version=target.version,
        evaluation_date=now,
        evaluation_start=start,
        evaluation_end=end,
        n_samples=result.n,
        drift_detected=None,
        details={
            "method": "from the prediction log (no model run)",
            "n_dropped": result.n_dropped,
            "undefined": result.undefined,
            **result.extra,
        },
        source=source,
        **result.values,
    )


def _naive(frame: pd.DataFrame | None, timezone: str) -> pd.Series | None:
    """The weekly seasonal naive of the readings, by timestamp (None without readings)."""
    if frame is None or len(frame) < 2 or TARGET not in frame.columns:
        return None
    try:
        step = infer_step(pd.DatetimeIndex(frame.index))
    except ValueError:
        return None
    return seasonal_naive(frame, step, timezone=timezone, days=7)


def _write(factory: SessionFactory, rows: list[PerformanceMetric]) -> list[PerformanceMetric]:
    """Add the rows no concurrent run has written meanwhile (one short write)."""
    if not rows:
        return []
    with session_scope(factory, write=True) as session:
        ids = {r.model_id for r in rows}
        done: set[tuple[Any, ...]] = {
            tuple(r)
            for r in session.execute(
                select(
                    PerformanceMetric.model_id, PerformanceMetric.source,
                    PerformanceMetric.evaluation_start,
                ).where(
                    PerformanceMetric.model_id.in_(ids),
                    PerformanceMetric.source.in_((DAILY, WEEKLY)),
                    PerformanceMetric.evaluation_start >= min(r.evaluation_start for r in rows),
                )
            )
        }  # fmt: skip
        fresh = [r for r in rows if (r.model_id, r.source, r.evaluation_start) not in done]
        session.add_all(fresh)
        session.flush()
    return fresh
