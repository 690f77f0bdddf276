"""``GET /metrics``: the operator's view in Prometheus exposition format.

Two kinds of figures, through the standard ``prometheus_client`` library:

- **Request metrics**, counted as requests pass (:class:`RequestMetricsMiddleware`):
  ``enms_http_requests_total{method, route, status}`` and the latency histogram
  ``enms_http_request_duration_seconds{method, route}``, by route *template*
  (``/api/v1/training-jobs/{job_id}``, never the concrete id, so series stay few).
- **State read at scrape time** from the database and the queue (:class:`StateCollector`,
  one short read session per scrape): training jobs by state, queue depth, training
  durations by model type (a summary: sum and count of completed jobs), the last successful
  run of each periodic job, unresolved alerts by severity, and the prediction log's lag per
  machine (its newest reading minus its newest logged prediction target).

Each application has its own registry, so several apps in one process (tests) never share
counters.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric, SummaryMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from enms.alerts.models import UNRESOLVED_STATES, ModelAlert
from enms.core.db import SessionFactory, session_scope
from enms.core.timewindow import as_utc
from enms.jobs.models import SchedulerRun
from enms.predictions.models import PredictionPoint
from enms.readings.models import EnergyReading, Machine
from enms.training.models import TrainingJob

router = APIRouter(include_in_schema=False)
log = logging.getLogger("enms.api")
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class RequestMetrics:
    """The request counter and latency histogram of one application."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter(
            "enms_http_requests",
            "HTTP requests answered, by method, route template and status.",
            ("method", "route", "status"),
            registry=registry,
        )
        self.latency = Histogram(
            "enms_http_request_duration_seconds",
            "Time to answer an HTTP request, by method and route template.",
            ("method", "route"),
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )


def route_template(scope: Scope) -> str:
    """The matched route's full path template, or ``other`` (static files, unknown paths).

    A route of an included router knows its template below the router's prefix only
    (``/training-jobs/{job_id}``); the prefix is the part of the request path before where
    the route's own pattern matches (our prefixes are literal).
    """
    route = scope.get("route")
    template = getattr(route, "path_format", None) or getattr(route, "path", None)
    if not template:
        return "other"
    pattern, path = getattr(route, "path_regex", None), str(scope.get("path", ""))
    if pattern is not None:
        for i, char in enumerate(path):
            if char == "/" and pattern.match(path[i:]):
                return path[:i] + str(template)
    return str(template)


class StatusCapture:
    """A ``send`` wrapper that notes the response's status (500 until one is sent)."""

    def __init__(self, send: Send) -> None:
        self.send = send
        self.status = 500

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = int(message["status"])
        await self.send(message)


class RequestMetricsMiddleware:
    """Counts every HTTP request and times it, by route template."""

    def __init__(self, app: ASGIApp, metrics: RequestMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        noted = StatusCapture(send)
        try:
            await self.app(scope, receive, noted)
        finally:
            route, method, status = route_template(scope), scope["method"], noted.status
            self.metrics.requests.labels(method, route, str(status)).inc()
            self.metrics.latency.labels(method, route).observe(time.perf_counter() - started)


def _seconds(at: datetime | None) -> float | None:
    return None if at is None else as_utc(at).timestamp()


class StateCollector(Collector):
    """Figures read from the database and the queue when Prometheus scrapes."""

    def __init__(self, factory: SessionFactory, queue_depth: Callable[[], int | None]) -> None:
        self.factory = factory
        self.queue_depth = queue_depth

    def describe(self) -> Iterator[Metric]:
        """Nothing at registration (reading the state needs the database, which may not be
        migrated yet when the app is built); the families appear at scrape time."""
        return iter(())

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("enms_database_up", "1 when the state could be read, else 0.")
        try:
            rows = self._read()
        except SQLAlchemyError as exc:
            log.warning("/metrics: the database state could not be read: %s", exc)
            up.add_metric((), 0)
            yield up
            return
        up.add_metric((), 1)
        yield up
        jobs, durations, runs, alerts, machines = rows
        yield from self._jobs(jobs)
        yield from self._durations(durations)
        yield from self._runs(runs)
        yield from self._alerts(alerts)
        yield from self._lag(machines)

    def _read(self) -> tuple[Any, Any, Any, Any, Any]:
        with session_scope(self.factory) as session:
            jobs = session.execute(
                select(TrainingJob.training_status, func.count()).group_by(
                    TrainingJob.training_status
                )
            ).all()
            durations = session.execute(
                select(
                    TrainingJob.model_type,
                    func.count(),
                    func.coalesce(func.sum(TrainingJob.training_duration_seconds), 0.0),
                )
                .where(
                    TrainingJob.training_status == "completed",
                    TrainingJob.training_duration_seconds.is_not(None),
                )
                .group_by(TrainingJob.model_type)
            ).all()
            runs = session.execute(
                select(SchedulerRun.job_name, func.max(SchedulerRun.finished_at))
                .where(SchedulerRun.status == "completed")
                .group_by(SchedulerRun.job_name)
            ).all()
            alerts = session.execute(
                select(ModelAlert.severity, func.count())
                .where(ModelAlert.state.in_(UNRESOLVED_STATES))
                .group_by(ModelAlert.severity)
            ).all()
            newest_reading = (
                select(func.max(EnergyReading.ts))
                .where(EnergyReading.machine_id == Machine.id)
                .correlate(Machine)
                .scalar_subquery()
            )
            newest_logged = (
                select(func.max(PredictionPoint.ts))
                .where(
                    PredictionPoint.machine_id == Machine.id, PredictionPoint.ts <= newest_reading
                )
                .correlate(Machine)
                .scalar_subquery()
            )
            machines = session.execute(
                select(Machine.name, newest_reading.label("reading"), newest_logged.label("logged"))
            ).all()
        return jobs, durations, runs, alerts, machines

    def _jobs(self, rows: Any) -> Iterator[Metric]:
        by_state = GaugeMetricFamily(
            "enms_training_jobs", "Training jobs by state.", labels=("state",)
        )
        counts = {state: n for state, n in rows}
        for state in ("pending", "running", "completed", "failed", "cancelled", "timed_out"):
            by_state.add_metric((state,), counts.pop(state, 0))
        for state, n in counts.items():
            by_state.add_metric((state,), n)
        yield by_state
        depth = self.queue_depth()
        if depth is not None:
            yield GaugeMetricFamily(
                "enms_queue_depth", "Messages waiting in the job queue.", value=depth
            )

    @staticmethod
    def _durations(rows: Any) -> Iterator[Metric]:
        summary = SummaryMetricFamily(
            "enms_training_duration_seconds",
            "Wall time of completed training jobs, by model type.",
            labels=("model_type",),
        )
        for model_type, n, total in rows:
            summary.add_metric((model_type,), count_value=n, sum_value=float(total))
        yield summary

    @staticmethod
    def _runs(rows: Any) -> Iterator[Metric]:
        last = GaugeMetricFamily(
            "enms_periodic_job_last_success_timestamp_seconds",
            "When each periodic job last completed (Unix time).",
            labels=("job",),
        )
        for name, finished in rows:
            at = _seconds(finished)
            if at is not None:
                last.add_metric((name,), at)
        yield last

    @staticmethod
    def _alerts(rows: Any) -> Iterator[Metric]:
        open_alerts = GaugeMetricFamily(
            "enms_alerts_unresolved",
            "Open or acknowledged alerts by severity.",
            labels=("severity",),
        )
        counts = dict(rows)
        for severity in ("warning", "critical"):
            open_alerts.add_metric((severity,), counts.get(severity, 0))
        yield open_alerts

    @staticmethod
    def _lag(machines: Any) -> Iterator[Metric]:
        lag = GaugeMetricFamily(
            "enms_prediction_log_lag_seconds",
            "Per machine: its newest reading minus the newest prediction-log target at or "
            "before it (how far scoring is behind the readings).",
            labels=("machine",),
        )
        for name, reading, logged in machines:
            if reading is not None and logged is not None:
                lag.add_metric((name,), (as_utc(reading) - as_utc(logged)).total_seconds())
        yield lag


def build_registry(
    factory: SessionFactory, queue_depth: Callable[[], int | None]
) -> tuple[CollectorRegistry, RequestMetrics]:
    """A fresh registry with the request metrics and the scrape-time state collector."""
    registry = CollectorRegistry(auto_describe=True)
    metrics = RequestMetrics(registry)
    registry.register(StateCollector(factory, queue_depth))
    return registry, metrics


@router.get("/metrics")
def metrics(request: Request) -> Response:
    """Every figure in Prometheus text exposition format."""
    registry: CollectorRegistry = request.app.state.metrics_registry
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
