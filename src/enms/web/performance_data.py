"""The Model performance page's data: the compact trend its charts draw and the panel beside.

:func:`read_chart_trend` reads the metrics trend (:mod:`enms.evaluation.trend`, downsampled in
the database to at most ``trend_max_points`` buckets per series); :func:`compact_trend`,
after the caller ended its read transaction, projects each series and packs it into column
arrays — epoch seconds, values rounded to 5 significant digits, bucket min/max, version in
force — and de-duplicated drift summaries, so a year of hourly metrics stays a few hundred kB on the
wire. :func:`panel` gathers the champion, the latest evaluation, unresolved alerts, the
training jobs and the running A/B tests of one machine's model type.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from enms.alerts import service as alerts
from enms.core.config import Settings
from enms.core.errors import InvalidInput
from enms.core.timewindow import Window
from enms.evaluation import service as evaluations
from enms.evaluation import trend as trends
from enms.evaluation.performance_schemas import MetricSeries, TrendRead
from enms.evaluation.schemas import METRICS_BY_TYPE
from enms.experiments import service as experiments
from enms.experiments.models import RUNNING
from enms.registry import service as registry
from enms.training import service as training
from enms.web.overview import KEY_METRICS, ashrae_status

#: The "windows" selector: which metric rows the series use (daily and weekly windows and
#: the drift check's long windows are different measurements; mixing them zig-zags a line).
WINDOW_SOURCES: dict[str, list[str] | None] = {
    "daily": ["evaluation", "periodic_daily", "recorded"],
    "weekly": ["periodic_weekly"],
    "all": None,
}
RANGES = (7, 30, 90, 365)
LABELS = {
    "r_squared": "R²", "rmse": "RMSE", "mae": "MAE", "mape": "MAPE", "cv_rmse": "CV(RMSE)",
    "nmbe": "NMBE", "precision": "precision", "recall": "recall", "f1": "F1",
    "skill": "skill vs seasonal-naive", "drift_score": "drift score",
}  # fmt: skip
JOBS_SHOWN = 10


def rounded(x: float) -> float:
    """``x`` to 5 significant digits (what a chart can show).

    >>> rounded(31.274845833), rounded(0.000123456789), rounded(0.0)
    (31.275, 0.00012346, 0.0)
    """
    return float(f"{x:.5g}")


def parse_days(days: float | None) -> float:
    """The range in days (default 30); the trend's own bounds apply."""
    if days is None:
        return trends.DEFAULT_DAYS
    if not (0 < days <= 3660):
        raise InvalidInput(f"days: must be in (0, 3660], got {days:g}")
    return days


def parse_windows(windows: str) -> list[str] | None:
    """The sources of the ``windows`` choice (daily, weekly, all)."""
    if windows not in WINDOW_SOURCES:
        raise InvalidInput(f"windows: unknown {windows!r}; choose one of daily, weekly, all")
    return WINDOW_SOURCES[windows]


def ordered_metrics(model_type: str) -> list[str]:
    """The type's metrics with its key metrics first (the first one is the big chart)."""
    keys = [name for name, _ in KEY_METRICS[model_type]]
    return keys + [m for m in METRICS_BY_TYPE[model_type] if m not in keys]


def _epoch(t: datetime) -> int:
    return int(t.timestamp())


def _series(s: MetricSeries) -> dict[str, Any]:
    p = s.projection
    projection = None
    if p is not None:
        projection = {
            "window_start": _epoch(p.window_start),
            "window_end": _epoch(p.window_end),
            "at": _epoch(p.projected_at),
            "value": rounded(p.projected_value),
            "low": rounded(p.projected_low),
            "high": rounded(p.projected_high),
            "slope_per_day": rounded(p.slope_per_day),
            "threshold": p.threshold,
            "crossing_at": _epoch(p.crossing_at) if p.crossing_at else None,
            "towards_degradation": p.significant_towards_degradation,
            "already_degraded": p.already_degraded,
            "note": p.note,
        }
    return {
        "metric": s.metric,
        "label": LABELS.get(s.metric, s.metric),
        "unit": s.unit,
        "n_rows": s.n_rows,
        "t": [_epoch(x.time) for x in s.points],
        "v": [rounded(x.value) for x in s.points],
        "lo": [rounded(x.min) for x in s.points],
        "hi": [rounded(x.max) for x in s.points],
        "n": [x.n for x in s.points],
        "ver": [x.version for x in s.points],
        "projection": projection,
        "projection_reason": s.projection_reason,
    }


def compact(found: TrendRead) -> dict[str, Any]:
    """The trend as column arrays (see the module)."""
    summaries: list[str] = []
    index: dict[str, int] = {}
    drift: dict[str, list[Any]] = {"t": [], "score": [], "version": [], "summary": []}
    for marker in found.drift_markers:
        key = index.setdefault(marker.summary, len(summaries))
        if key == len(summaries):
            summaries.append(marker.summary)
        drift["t"].append(_epoch(marker.time))
        drift["score"].append(None if marker.score is None else rounded(marker.score))
        drift["version"].append(marker.version)
        drift["summary"].append(key)
    return {
        "machine_id": found.machine_id,
        "model_type": found.model_type,
        "window_start": _epoch(found.window_start),
        "window_end": _epoch(found.window_end),
        "rows": found.rows,
        "downsampled": found.downsampled,
        "bucket_seconds": found.bucket_seconds,
        "max_points": found.max_points,
        "series": [_series(s) for s in found.series.values()],
        "version_changes": [
            {
                "t": _epoch(c.time),
                "from": c.from_version,
                "to": c.to_version,
                "action": c.action,
                "actor": c.actor,
                "reason": c.reason,
            }
            for c in found.version_changes
        ],
        "drift": drift,
        "drift_summaries": summaries,
        "message": found.message,
    }


def read_chart_trend(
    *,
    session: Session,
    settings: Settings,
    machine_id: int,
    model_type: str,
    days: float,
    windows: str,
    now: datetime,
) -> trends.TrendParts:
    """What the charts of ``days`` back from the server's ``now`` need from the database; the
    caller ends its read transaction, then :func:`compact_trend` projects and packs them."""
    window = Window.parse(now - timedelta(days=days), now)
    return trends.read_trend(
        session=session,
        machine_id=machine_id,
        model_type=model_type,
        window=window,
        metrics=ordered_metrics(model_type),
        version=None,
        settings=settings,
        sources=parse_windows(windows),
    )


def compact_trend(parts: trends.TrendParts, settings: Settings) -> dict[str, Any]:
    """The chart data: ``parts`` projected (no database) and packed by :func:`compact`."""
    return compact(trends.with_projections(parts, settings))


def _evaluation(
    session: Session, machine_id: int, model_type: str, champion: int | None
) -> dict[str, Any] | None:
    """The newest recorded evaluation row with a value of the type's metrics — of the
    champion when it has one (a challenger's rows are its own story), else of any version."""
    rows = evaluations.list_evaluations(
        session=session, machine_id=machine_id, model_type=model_type, limit=50
    )
    mine = [r for r in rows if r.model_version == champion]
    for row in mine or rows:
        values = {k: v for k, v in row.metrics.items() if k != "n" and v is not None}
        if values:
            return {
                "id": row.id,
                "version": row.model_version,
                "source": row.source,
                "start": row.evaluation_start.isoformat(),
                "end": row.evaluation_end.isoformat(),
                "evaluated_at": row.evaluation_date.isoformat(),
                "n": row.metrics.get("n"),
                "metrics": [
                    {"metric": k, "label": LABELS.get(k, k), "value": v}
                    for k, v in row.metrics.items()
                    if k != "n"
                ],
                "undefined": row.undefined,
            }
    return None


def panel(session: Session, *, machine_id: int, model_type: str, now: datetime) -> dict[str, Any]:
    """Champion, latest evaluation, unresolved alerts, jobs and running tests of the pair."""
    version = registry.champion(session=session, machine_id=machine_id, model_type=model_type)
    champion = None
    if version is not None:
        champion = {
            "version": version.version,
            "created_at": version.created_at.isoformat(),
            "holdout": {
                k: version.metrics_holdout.get(k)
                for k in METRICS_BY_TYPE[model_type]
                if isinstance(version.metrics_holdout.get(k), int | float)
            },
            "ashrae14": ashrae_status(version),
        }
    tests = experiments.list_tests(
        session=session, status=RUNNING, machine_id=machine_id, model_type=model_type
    )
    return {
        "now": now.isoformat(),
        "champion": champion,
        "evaluation": _evaluation(
            session, machine_id, model_type, version.version if version else None
        ),
        "alerts": [
            a.model_dump(mode="json")
            for a in alerts.list_active(
                session=session, now=now, machine_id=machine_id, model_type=model_type
            )
        ],
        "jobs": [
            j.model_dump(mode="json", exclude={"attempt_history", "hyperparameters"})
            for j in training.list_jobs(
                session=session, machine_id=machine_id, model_type=model_type, limit=JOBS_SHOWN
            )
        ],
        "tests": [{"id": t.id, "name": t.test_name} for t in tests],
    }
