"""The fleet at a glance (the data behind ``/`` and ``/ui/api/overview``), in one request.

Per machine and model type: the champion version, its key metric (latest value and the last
30 days from the metrics trend, downsampled for a sparkline), for baselines the ASHRAE
Guideline 14 hourly criteria on the newest weekly evaluation (and the verdict the promotion
gate recorded at registration), unresolved alerts by severity, active training jobs
and running A/B tests. Plus fleet totals and the latest training jobs. Everything is read
from the domain services in the request's one short read session; nothing is computed that
the services do not already record.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from enms.alerts import service as alerts
from enms.core.config import Settings
from enms.core.model_types import MODEL_TYPE_NAMES
from enms.core.timewindow import Window
from enms.evaluation import trend as trends
from enms.evaluation.models import PerformanceMetric
from enms.experiments import service as experiments
from enms.experiments.models import RUNNING
from enms.ml import ashrae
from enms.readings import service as readings
from enms.registry import service as registry
from enms.registry.models import ModelVersion
from enms.training import service as training
from enms.training.models import ACTIVE_STATUSES

#: The key metric per model type, best first: (metric, label). Detectors record F1 only
#: where labels exist, so precision stands in; forecasters' skill is against seasonal-naive.
KEY_METRICS: dict[str, tuple[tuple[str, str], ...]] = {
    "baseline": (("cv_rmse", "CV(RMSE)"),),
    "anomaly": (("f1", "F1"), ("precision", "precision")),
    "forecast_arima": (("skill", "skill vs naive"), ("mape", "MAPE")),
    "forecast_prophet": (("skill", "skill vs naive"), ("mape", "MAPE")),
}
#: Which direction is better, for the sparkline's reading (lower CV(RMSE)/MAPE is better).
LOWER_IS_BETTER = frozenset({"cv_rmse", "mape", "rmse", "mae"})
#: Metric rows of short windows only: weekly and drift-check windows would zig-zag the line.
SPARK_SOURCES = ["evaluation", "periodic_daily", "recorded"]
SPARK_DAYS = 30
SPARK_POINTS = 90
JOBS_SHOWN = 10


def _spark_settings(settings: Settings) -> Settings:
    monitoring = settings.monitoring.model_copy(update={"trend_max_points": SPARK_POINTS})
    return settings.model_copy(update={"monitoring": monitoring})


def ashrae_now(session: Session, version: ModelVersion, now: datetime) -> dict[str, Any] | None:
    """The ASHRAE 14 hourly criteria (CV(RMSE) ≤ 30 %, |NMBE| ≤ 10 %) on the champion's newest
    weekly evaluation from the prediction log in the last 30 days — whether the baseline still
    describes the machine — or None when there is no such evaluation."""
    if version.model_type != "baseline":
        return None
    row = session.scalars(
        select(PerformanceMetric)
        .where(
            PerformanceMetric.model_id == version.id,
            PerformanceMetric.source == "periodic_weekly",
            PerformanceMetric.evaluation_end <= now,
            PerformanceMetric.evaluation_end > now - timedelta(days=SPARK_DAYS),
            PerformanceMetric.cv_rmse.is_not(None),
            PerformanceMetric.nmbe.is_not(None),
        )
        .order_by(PerformanceMetric.evaluation_end.desc())
        .limit(1)
    ).first()
    if row is None or row.cv_rmse is None or row.nmbe is None:
        return None
    passed = row.cv_rmse <= ashrae.HOURLY_CV_MAX and abs(row.nmbe) <= ashrae.HOURLY_NMBE_MAX
    return {
        "passed": passed,
        "cv_rmse": row.cv_rmse,
        "nmbe": row.nmbe,
        "window_end": row.evaluation_end.isoformat(),
        "detail": f"week to {row.evaluation_end:%Y-%m-%d}: CV(RMSE) {row.cv_rmse:.1f} % "
        f"(≤ {ashrae.HOURLY_CV_MAX:g}), NMBE {row.nmbe:+.1f} % (±{ashrae.HOURLY_NMBE_MAX:g})",
    }


def ashrae_status(version: ModelVersion) -> dict[str, Any] | None:
    """The ASHRAE 14 verdict the gate recorded for a baseline: {passed, detail}, or None."""
    if version.model_type != "baseline":
        return None
    for verdict in version.gate or []:
        if verdict.get("rule") == "ashrae14":
            return {"passed": verdict.get("passed"), "detail": str(verdict.get("detail") or "")}
    flags = version.ashrae14 or {}
    hourly = flags.get("hourly")
    if hourly is None:
        return {"passed": None, "detail": "the fit recorded no ASHRAE 14 check"}
    return {"passed": bool(hourly), "detail": "hourly check recorded by the fit"}


def _holdout(version: ModelVersion, metric: str) -> float | None:
    value = (version.metrics_holdout or {}).get(metric)
    return float(value) if isinstance(value, int | float) else None


def key_metric(
    session: Session, version: ModelVersion, settings: Settings, now: datetime
) -> dict[str, Any]:
    """The champion's key metric: latest value and the last 30 days (server clock)."""
    window = Window.parse(now - timedelta(days=SPARK_DAYS), now)
    choices = KEY_METRICS[version.model_type]
    # The sparkline needs the points only: read, never projected (no statistics here).
    found = trends.read_trend(
        session=session,
        machine_id=version.machine_id,
        model_type=version.model_type,
        window=window,
        metrics=[name for name, _ in choices],
        version=None,
        settings=_spark_settings(settings),
        sources=SPARK_SOURCES,
    ).read
    for name, label in choices:
        points = found.series[name].points
        if points:
            return {
                "metric": name,
                "label": label,
                "unit": found.series[name].unit,
                "value": points[-1].value,
                "at": points[-1].time.isoformat(),
                "source": "monitoring",
                "lower_is_better": name in LOWER_IS_BETTER,
                "spark": {
                    "t": [p.time.isoformat() for p in points],
                    "v": [round(p.value, 5) for p in points],
                },
            }
    name, label = choices[0]
    held = _holdout(version, name)
    undefined = (version.metrics_holdout or {}).get("undefined") or {}
    return {
        "metric": name,
        "label": label,
        "unit": found.series[name].unit,
        "value": held,
        "at": None,
        "source": "held-out",
        "lower_is_better": name in LOWER_IS_BETTER,
        "why_missing": None if held is not None else str(undefined.get(name, "not computed")),
        "spark": None,
    }


def _job(job: Any) -> dict[str, Any]:
    return {
        "id": job.id,
        "machine_id": job.machine_id,
        "machine_name": job.machine_name,
        "model_type": job.model_type,
        "status": job.training_status,
        "trigger": job.trigger_type,
        "progress": job.progress_percent,
        "stage": job.progress_stage,
        "version": job.model_version,
        "duration": job.training_duration_seconds,
        "error": job.error_message,
        "created_at": job.created_at.isoformat(),
    }


def plant_overview(session: Session, *, settings: Settings, now: datetime) -> dict[str, Any]:
    """The whole overview as one JSON-ready document (the page's data and its refresh)."""
    machines = readings.list_machines(session=session)
    open_alerts = alerts.list_active(session=session, now=now)
    by_pair: dict[tuple[int, str | None], Counter[str]] = {}
    for alert in open_alerts:
        by_pair.setdefault((alert.machine_id, alert.model_type), Counter())[alert.severity] += 1
    active_jobs = [
        j for s in ACTIVE_STATUSES for j in training.list_jobs(session=session, status=s)
    ]
    jobs_by_pair = Counter((j.machine_id, j.model_type) for j in active_jobs)
    tests = experiments.list_tests(session=session, status=RUNNING)
    tests_by_pair = Counter((t.machine_id, t.model_type) for t in tests)
    champions = {
        (v.machine_id, t): v
        for t in MODEL_TYPE_NAMES
        for v in registry.champions(session=session, model_type=t)
    }
    rows = []
    for m in machines:
        cells: dict[str, Any] = {}
        for t in MODEL_TYPE_NAMES:
            version = champions.get((m.id, t))
            cells[t] = {
                "champion": version.version if version else None,
                "key": key_metric(session, version, settings, now) if version else None,
                "ashrae14": ashrae_status(version) if version else None,
                "ashrae14_now": ashrae_now(session, version, now) if version else None,
                "alerts": dict(by_pair.get((m.id, t), Counter())),
                "jobs": jobs_by_pair.get((m.id, t), 0),
                "tests": tests_by_pair.get((m.id, t), 0),
            }
        rows.append(
            {
                "id": m.id,
                "name": m.name,
                "machine_type": m.machine_type,
                "readings": m.readings_count,
                "first_reading": m.first_reading.isoformat() if m.first_reading else None,
                "last_reading": m.last_reading.isoformat() if m.last_reading else None,
                "machine_alerts": dict(by_pair.get((m.id, None), Counter())),
                "cells": cells,
            }
        )
    severities = Counter(a.severity for a in open_alerts)
    return {
        "now": now.isoformat(),
        "model_types": list(MODEL_TYPE_NAMES),
        "machines": rows,
        "totals": {
            "machines": len(machines),
            "readings": sum(m.readings_count for m in machines),
            "alerts": {"critical": severities["critical"], "warning": severities["warning"]},
            "jobs": len(active_jobs),
            "tests": len(tests),
        },
        "jobs": [_job(j) for j in training.list_jobs(session=session, limit=JOBS_SHOWN)],
    }
