"""Application assembly: ``create_app(settings)`` wires engine, routers, pages and errors."""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy import Engine

from enms import __version__
from enms.api.errors import register_error_handlers
from enms.api.health import router as health_router
from enms.core import schema
from enms.core.clock import Clock, SystemClock
from enms.core.config import Settings
from enms.core.db import create_db_engine, create_session_factory
from enms.readings.api import router as readings_router
from enms.web.pages import mount_web

API_PREFIX = "/api/v1"


def create_app(
    settings: Settings, *, engine: Engine | None = None, clock: Clock | None = None
) -> FastAPI:
    """Build the FastAPI application for ``settings`` (an engine may be shared, e.g. in tests)."""
    app = FastAPI(
        title="enms",
        version=__version__,
        description="Model performance tracking for industrial energy management.",
    )
    app.state.settings = settings
    app.state.engine = engine or create_db_engine(settings.database_url)
    app.state.session_factory = create_session_factory(app.state.engine)
    app.state.clock = clock or SystemClock()
    app.state.schema_head = schema.head_revision(app.state.engine)
    register_error_handlers(app)
    app.include_router(health_router)
    app.include_router(readings_router, prefix=API_PREFIX)
    mount_web(app)
    return app
