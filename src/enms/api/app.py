"""Application assembly: ``create_app(settings)`` wires engine, queue, routers, pages, errors.

With the embedded (SQLite) queue and ``ENMS_QUEUE__IN_PROCESS=true`` (the default), the
server also runs the queue's consumer threads, so nothing else needs starting; with
``ENMS_QUEUE_URL=redis://…`` it only enqueues and `enms worker` processes do the work.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from sqlalchemy import Engine

from enms import __version__
from enms.alerts.api import router as alerts_router
from enms.alerts.notify.api import router as notifications_router
from enms.anomalies.api import router as anomalies_router
from enms.api.body_limit import BodyLimitMiddleware
from enms.api.docs import mount_docs
from enms.api.errors import ERROR_RESPONSES, register_error_handlers
from enms.api.health import router as health_router
from enms.api.metrics import RequestMetricsMiddleware, build_registry
from enms.api.metrics import router as metrics_router
from enms.api.request_audit import RequestAuditMiddleware
from enms.api.requestid import RequestIdMiddleware
from enms.api.security_headers import SecurityHeadersMiddleware
from enms.auth.api import router as access_router
from enms.auth.deps import API_ACCESS
from enms.auth.gate import AuthGate
from enms.auth.ratelimit import RateLimiter
from enms.bootstrap import build_runtime
from enms.core import schema
from enms.core.clock import Clock, SystemClock
from enms.core.config import Settings
from enms.core.db import create_db_engine, create_session_factory
from enms.core.secrets import instance_secret_for
from enms.drift.api import router as drift_router
from enms.evaluation.api import router as evaluation_router
from enms.evaluation.performance_api import router as performance_router
from enms.experiments.api import router as ab_tests_router
from enms.jobs.api import router as scheduler_router
from enms.jobs.queue import is_embedded
from enms.kpis.api import router as kpis_router
from enms.predictions.api import router as predictions_router
from enms.promotion.api import router as promotion_router
from enms.readings.api import router as readings_router
from enms.registry.api import router as registry_router
from enms.serving.api import router as serving_router
from enms.training.api import router as training_router
from enms.web.pages import mount_web

API_PREFIX = "/api/v1"


def create_app(
    settings: Settings,
    *,
    engine: Engine | None = None,
    clock: Clock | None = None,
    view_clock: Clock | None = None,
    bind_host: str | None = None,
) -> FastAPI:
    """Build the FastAPI application for ``settings`` (an engine may be shared, e.g. in tests).

    ``view_clock``: what the dashboard takes as "now" for its default ranges and ages, when
    that is not ``clock`` (the demo's replayed plant); the server itself always uses ``clock``.
    ``bind_host``: the interface the server listens on (default ``settings.server.host``);
    anything but loopback enforces authentication (:mod:`enms.auth.gate`).
    """
    engine = engine or create_db_engine(settings.database_url)
    clock = clock or SystemClock()
    runtime = build_runtime(settings, engine=engine, clock=clock)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        from enms.jobs.consumer import start_in_process

        # The watchdog always runs (with Redis too); consumer threads only on the embedded
        # queue. Shutdown drains: running jobs get ENMS_QUEUE__GRACE_SECONDS, then go back.
        background = start_in_process(
            runtime,
            periodic=settings.queue.periodic,
            consume=is_embedded(settings) and settings.queue.in_process,
        )
        try:
            yield
        finally:
            background.stop(graceful=True)

    app = FastAPI(
        title="enms",
        version=__version__,
        description="Model performance tracking for industrial energy management.",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.session_factory = create_session_factory(engine, secret=instance_secret_for(settings))
    app.state.clock = clock
    app.state.view_clock = view_clock
    app.state.runtime = runtime
    app.state.enqueue_training = runtime.enqueue_training
    app.state.schema_head = schema.head_revision(engine)
    app.state.auth_gate = AuthGate(
        app.state.session_factory,
        settings,
        bind_host=bind_host or settings.server.host,
        clock=clock,
    )
    app.state.rate_limiter = RateLimiter(settings.rate_limits)
    register_error_handlers(app)
    app.add_middleware(BodyLimitMiddleware, settings=settings)
    app.add_middleware(RequestAuditMiddleware, factory=app.state.session_factory, clock=clock)
    app.add_middleware(RequestIdMiddleware)
    registry, request_metrics = build_registry(app.state.session_factory, runtime.queue_depth)
    app.state.metrics_registry = registry
    app.add_middleware(RequestMetricsMiddleware, metrics=request_metrics)
    app.add_middleware(SecurityHeadersMiddleware)
    app.include_router(health_router)
    app.include_router(metrics_router, dependencies=API_ACCESS)
    for router in (
        readings_router,
        registry_router,
        training_router,
        evaluation_router,
        predictions_router,
        performance_router,
        drift_router,
        scheduler_router,
        alerts_router,
        notifications_router,
        anomalies_router,
        kpis_router,
        ab_tests_router,
        promotion_router,
        serving_router,
        access_router,
    ):
        app.include_router(
            router, prefix=API_PREFIX, dependencies=API_ACCESS, responses=ERROR_RESPONSES
        )
    mount_docs(app)
    mount_web(app)
    return app
