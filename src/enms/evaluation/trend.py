"""``metrics/trend``: a machine's model-type metrics over a window, downsampled in SQL.

Rows are those of ``model_performance_metrics`` of every source (evaluation, periodic_daily,
periodic_weekly, recorded, drift_check; ``source=`` narrows the series, e.g. to
``periodic_daily`` so daily and weekly windows are not mixed) with ``evaluation_end`` in the
window; drift markers come from rows of any source. Without
``version`` the series follow the version in force: a row counts when its version was the
champion at its ``evaluation_end`` (the last champion move before it; before the first move
the first champion, so back-filled history shows). With ``version`` only that version's rows.

Downsampling happens in the database: rows are grouped into fixed buckets of
``ceil(window / ENMS_MONITORING__TREND_MAX_POINTS)`` seconds from the window start, with
count, mean, min and max per metric, so a month of one-minute rows is one grouped scan, not
43,200 rows through Python. Each series is projected (:mod:`enms.evaluation.projection`)
after the read (:func:`read_trend`, then :func:`with_projections`): the API and the
dashboard's charts end their read transaction in between, so no statistics run inside it
(the overview's sparklines are never projected).
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, and_, cast, false, func, or_, select, text
from sqlalchemy.orm import Session

from enms.core.clock import Clock
from enms.core.config import Settings
from enms.core.errors import InvalidInput
from enms.core.model_types import check_model_type
from enms.core.timewindow import Window
from enms.evaluation import degradation, projection
from enms.evaluation.models import PerformanceMetric as M
from enms.evaluation.performance_schemas import (
    DriftMarker,
    MetricSeries,
    Projection,
    TrendPoint,
    TrendRead,
    VersionChange,
)
from enms.evaluation.schemas import METRICS_BY_TYPE
from enms.ml.metrics import METRICS
from enms.readings import service as readings
from enms.registry import service as registry
from enms.registry.models import ModelVersion

TREND_METRICS = ("r_squared", "rmse", "mae", "mape", "cv_rmse", "nmbe", "precision",
                 "recall", "f1", "skill", "drift_score")  # fmt: skip
DEFAULT_DAYS = 30.0
MAX_MARKERS = 1000
SORT_MEMORY = "64MB"  # PostgreSQL work_mem of a trend's read (its default 4MB spills)


def resolve_window(
    *, days: float | None, start: str | None, end: str | None, clock: Clock
) -> Window:
    """``[from, to)`` from the query: ``days`` back from ``to`` (default now), or from/to."""
    window = Window.parse(start, end)
    stop = window.end or clock.now()
    if days is not None and window.start is not None:
        raise InvalidInput("days: give either days or from, not both")
    if days is not None and not (0 < days <= 3660):
        raise InvalidInput(f"days: must be in (0, 3660], got {days:g}")
    begin = window.start or stop - timedelta(days=days if days is not None else DEFAULT_DAYS)
    return Window.parse(begin, stop)


SOURCES = ("evaluation", "periodic_daily", "periodic_weekly", "recorded", "drift_check")


def parse_sources(values: list[str] | None) -> list[str] | None:
    """Sources from repeated and/or comma-separated ``source=``; None: all of them."""
    names = [n.strip() for v in values or [] for n in v.split(",") if n.strip()]
    for name in names:
        if name not in SOURCES:
            raise InvalidInput(f"source: unknown source {name!r}; choose from {SOURCES}")
    return list(dict.fromkeys(names)) or None


def parse_metrics(values: list[str] | None, model_type: str) -> list[str]:
    """Metric names from repeated and/or comma-separated ``metric=``; default: the type's."""
    check_model_type(model_type)
    names = [n.strip() for v in values or [] for n in v.split(",") if n.strip()]
    for name in names:
        if name not in TREND_METRICS:
            raise InvalidInput(f"metric: unknown metric {name!r}; choose from {TREND_METRICS}")
    return list(dict.fromkeys(names)) or list(METRICS_BY_TYPE[model_type])


@dataclass(frozen=True)
class TrendParts:
    """What :func:`read_trend` read: the trend without projections, and each series'
    degradation threshold (the version's held-out value plus the margin)."""

    read: TrendRead
    thresholds: dict[str, degradation.Threshold | None]


def with_projections(parts: TrendParts, settings: Settings) -> TrendRead:
    """Each series of ``parts`` projected (Theil–Sen; no database)."""
    series = {
        name: _projected(s, parts.thresholds.get(name), settings)
        for name, s in parts.read.series.items()
    }
    return parts.read.model_copy(update={"series": series})


def read_trend(
    *,
    session: Session,
    machine_id: int,
    model_type: str,
    window: Window,
    metrics: list[str],
    version: int | None,
    settings: Settings,
    sources: list[str] | None = None,
) -> TrendParts:
    """The series, version changes and drift markers of the window (rows of every source, or
    of ``sources``), without projections: nothing is computed on the data here. A caller
    ends its read transaction, then adds them with :func:`with_projections`."""
    check_model_type(model_type)
    readings.get_machine(session=session, machine_id=machine_id)
    assert window.start is not None
    assert window.end is not None
    if version is not None:
        registry.get_version(
            session=session, machine_id=machine_id, model_type=model_type, version=version
        )
    moves = [
        e
        for e in registry.alias_history(
            session=session, machine_id=machine_id, model_type=model_type
        )
        if e.alias == registry.CHAMPION and e.to_version is not None
    ]
    if version is not None:
        rows_filter: ColumnElement[bool] = M.model_version == version
        rows_note = f"rows of version {version}, all sources"
    elif moves:
        rows_filter = _in_force(moves)
        rows_note = "rows of the version in force (champion at evaluation_end), all sources"
    else:
        rows_filter = M.id.is_not(None)
        rows_note = "all rows (the pair has no champion history), all sources"
    pair_rows = and_(
        M.machine_id == machine_id,
        M.model_type == model_type,
        M.evaluation_end >= window.start,
        M.evaluation_end < window.end,
        rows_filter,
    )
    base = pair_rows
    if sources:  # series only: drift markers come from whichever row found drift
        base = and_(pair_rows, M.source.in_(sources))
        rows_note = rows_note.replace("all sources", "sources " + ", ".join(sources))
    max_points = settings.monitoring.trend_max_points
    span = (window.end - window.start).total_seconds()
    width = max(1, math.ceil(span / max_points))
    groups = _grouped(session, base, metrics, width, int(window.start.timestamp()))
    series: dict[str, MetricSeries] = {}
    thresholds: dict[str, degradation.Threshold | None] = {}
    merged_any = False
    for name in metrics:
        points, n_rows, merged = _merge(groups, name)
        merged_any |= merged
        series[name], thresholds[name] = _series(
            session, machine_id, model_type, name, points, n_rows, settings
        )
    total = sum(s.n_rows for s in series.values())
    changes = [
        VersionChange(
            time=e.at, from_version=e.from_version, to_version=e.to_version,
            action=e.action, actor=e.actor, reason=e.reason,
        )
        for e in moves
        if window.start <= e.at < window.end
    ]  # fmt: skip
    read = TrendRead(
        machine_id=machine_id,
        model_type=model_type,
        window_start=window.start,
        window_end=window.end,
        version=version,
        rows=rows_note,
        downsampled=merged_any,
        bucket_seconds=float(width) if merged_any else None,
        max_points=max_points,
        series=series,
        version_changes=changes,
        drift_markers=_markers(session, pair_rows),
        message=None
        if total
        else (
            f"no metrics rows for machine {machine_id} {model_type} between "
            f"{window.start.isoformat()} and {window.end.isoformat()}: record some with POST "
            "/api/v1/model-performance/metrics/record, evaluate a window (POST …/evaluate) or "
            "let the daily periodic evaluation write them from the prediction log"
        ),
    )
    return TrendParts(read=read, thresholds=thresholds)


def _in_force(moves: list[Any]) -> ColumnElement[bool]:
    """Rows whose version was champion at their evaluation_end (see the module)."""
    clauses = []
    for i, move in enumerate(moves):
        parts = [M.model_version == int(move.to_version)]
        if i > 0:
            parts.append(M.evaluation_end > move.at)
        if i + 1 < len(moves):
            parts.append(M.evaluation_end <= moves[i + 1].at)
        clauses.append(and_(*parts))
    return or_(false(), *clauses)


def _grouped(
    session: Session, where: ColumnElement[bool], metrics: list[str], width: int, origin: int
) -> list[dict[str, Any]]:
    """One row per (bucket, version, source): count, mean, min, max of every metric."""
    if session.get_bind().dialect.name == "sqlite":
        epoch = cast(func.strftime("%s", M.evaluation_end), BigInteger)
    else:
        # the grouping sorts every row of the window: in memory, not in a temporary file
        session.execute(text(f"SET LOCAL work_mem = '{SORT_MEMORY}'"))
        epoch = cast(func.floor(func.extract("epoch", M.evaluation_end)), BigInteger)
    bucket = ((epoch - origin) // width).label("bucket")
    columns: list[Any] = [bucket, M.model_version, M.source, func.min(M.evaluation_end)]
    for name in metrics:
        col = getattr(M, name)
        columns += [func.count(col), func.avg(col), func.min(col), func.max(col)]
    query = select(*columns).where(where).group_by(bucket, M.model_version, M.source)
    out = []
    for row in session.execute(query.order_by(bucket)):
        entry: dict[str, Any] = {
            "bucket": int(row[0]), "version": int(row[1]), "source": str(row[2]), "time": row[3],
        }  # fmt: skip
        for i, name in enumerate(metrics):
            n, mean, lo, hi = row[4 + 4 * i : 8 + 4 * i]
            entry[name] = (int(n), mean, lo, hi)
        out.append(entry)
    return out


def _merge(groups: list[dict[str, Any]], name: str) -> tuple[list[TrendPoint], int, bool]:
    """Combine the (version, source) groups of each bucket into one point of ``name``
    (``groups`` come ordered by bucket; most buckets hold one group: the fast path)."""
    points: list[TrendPoint] = []
    n_rows, merged, i = 0, False, 0
    while i < len(groups):
        j = i + 1
        while j < len(groups) and groups[j]["bucket"] == groups[i]["bucket"]:
            j += 1
        parts = [g for g in groups[i:j] if g[name][0]]
        i = j
        if not parts:
            continue
        if len(parts) == 1:
            g = parts[0]
            n, mean, lo, hi = g[name]
            point = TrendPoint.model_construct(  # values from the database: not re-validated
                time=g["time"], value=float(mean), min=float(lo), max=float(hi), n=n,
                version=g["version"], versions=[g["version"]], sources=[g["source"]],
            )  # fmt: skip
        else:
            point = _combined(parts, name)
        points.append(point)
        n_rows += point.n
        merged |= point.n > 1
    return points, n_rows, merged


def _combined(parts: list[dict[str, Any]], name: str) -> TrendPoint:
    """One point from several groups of a bucket: exact n, mean, min and max."""
    n = sum(p[name][0] for p in parts)
    per_version: dict[int, int] = defaultdict(int)
    for p in parts:
        per_version[p["version"]] += p[name][0]
    return TrendPoint.model_construct(
        time=min(p["time"] for p in parts),
        value=sum(float(p[name][1]) * p[name][0] for p in parts) / n,
        min=min(float(p[name][2]) for p in parts),
        max=max(float(p[name][3]) for p in parts),
        n=n,
        version=max(per_version, key=lambda v: (per_version[v], v)),
        versions=sorted(per_version),
        sources=sorted({p["source"] for p in parts}),
    )


def _series(
    session: Session,
    machine_id: int,
    model_type: str,
    name: str,
    points: list[TrendPoint],
    n_rows: int,
    settings: Settings,
) -> tuple[MetricSeries, degradation.Threshold | None]:
    """The series as read (no projection yet) and the threshold it is projected against."""
    spec = METRICS.get(name)
    threshold = None
    if points:
        latest = points[-1].version
        threshold = _threshold(session, machine_id, model_type, name, latest, settings)
    series = MetricSeries(
        metric=name,
        unit=spec.unit if spec else "ratio",
        points=points,
        n_rows=n_rows,
        projection=None,
        projection_reason="no points",
    )
    return series, threshold


def _projected(
    series: MetricSeries, threshold: degradation.Threshold | None, settings: Settings
) -> MetricSeries:
    """``series`` with its projection (pure computation: no session)."""
    points = series.points
    if not points:
        return series
    monitoring = settings.monitoring
    # Only the version in force at the end: a line through a champion change would
    # extrapolate the change itself (a retrain's drop in error is not a trend).
    current = _since_last_change(points)
    result, reason = projection.project(
        [p.time for p in current],
        [p.value for p in current],
        threshold=threshold,
        window_days=monitoring.projection_window_days,
        horizon_days=monitoring.projection_horizon_days,
        min_points=monitoring.projection_min_points,
    )
    if result is None and reason and len(current) < len(points):
        reason += f" since v{points[-1].version} took over"
    found: Projection | None = None
    if result is not None:
        data = dict(vars(result))
        th = result.threshold
        data["threshold"] = None if th is None else dict(vars(th))
        found = Projection.model_validate(data)
    return series.model_copy(update={"projection": found, "projection_reason": reason})


def _since_last_change(points: list[TrendPoint]) -> list[TrendPoint]:
    """The newest run of points of the version in force at the end."""
    latest = points[-1].version
    start = len(points)
    while start > 0 and points[start - 1].version == latest:
        start -= 1
    return points[start:]


def _threshold(
    session: Session, machine_id: int, model_type: str, name: str, version: int,
    settings: Settings,
) -> degradation.Threshold | None:  # fmt: skip
    holdout = session.scalar(
        select(ModelVersion.metrics_holdout).where(
            ModelVersion.machine_id == machine_id,
            ModelVersion.model_type == model_type,
            ModelVersion.version == version,
        )
    )
    value = (holdout or {}).get(name)
    held_out = float(value) if isinstance(value, int | float) else None
    margin = settings.monitoring.degradation_relative.get(model_type, 0.25)
    return degradation.threshold(name, held_out, margin)


def _markers(session: Session, where: ColumnElement[bool]) -> list[DriftMarker]:
    rows = session.execute(
        select(M.evaluation_end, M.model_version, M.drift_score, M.source, M.drift_details)
        .where(where, M.drift_detected.is_(True))
        .order_by(M.evaluation_end.desc())
        .limit(MAX_MARKERS)
    )
    return [
        DriftMarker(time=t, version=v, score=s, source=src, summary=summary(d))
        for t, v, s, src, d in reversed(list(rows))
    ]


def summary(details: dict[str, Any] | None) -> str:
    """A short line from ``drift_details``: its summary, or the tests that found drift.

    >>> summary({"concept": {"drift_detected": True}, "data": {"drift_detected": False}})
    'drift in: concept'
    >>> summary({"verdict": {"drifted": ["concept_drift"], "change_point": "2025-05-05T00:00Z"}})
    'concept drift since 2025-05-05T00:00Z'
    >>> summary(None)
    'drift detected (no details)'
    """
    if not details:
        return "drift detected (no details)"
    verdict = details.get("verdict")
    if isinstance(verdict, dict) and verdict.get("drifted"):
        since = verdict.get("change_point")
        where = ", ".join(str(part).replace("_", " ") for part in verdict["drifted"])
        return f"{where} since {since}" if since else where
    for key in ("summary", "message"):
        if isinstance(details.get(key), str):
            return str(details[key])[:300]
    hits = [
        k for k, v in details.items()
        if isinstance(v, dict) and (v.get("drift_detected") or v.get("detected"))
    ]  # fmt: skip
    return "drift in: " + ", ".join(hits) if hits else "drift detected"
