"""Request-scoped dependencies: the transaction (owned by the request) and the clock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from enms.core.clock import Clock
from enms.core.config import Settings
from enms.core.db import SessionFactory, request_scope


async def get_session(request: Request) -> AsyncIterator[Session]:
    """One transaction per request: committed when the handler returns, rolled back on error
    (writers queue for SQLite's write lock outside the handlers' thread pool: request_scope)."""
    factory: SessionFactory = request.app.state.session_factory
    async with request_scope(factory, write=request.method not in ("GET", "HEAD")) as session:
        yield session


def get_clock(request: Request) -> Clock:
    """The application's clock (frozen in tests)."""
    clock: Clock = request.app.state.clock
    return clock


def get_view_clock(request: Request) -> Clock:
    """The time the dashboard shows data up to: the application's clock, unless the app was
    given a view clock (the demo's: its replayed readings are a year behind the wall clock).
    Only for what pages show (default ranges, ages) — never for what the server does."""
    clock: Clock = getattr(request.app.state, "view_clock", None) or request.app.state.clock
    return clock


def get_app_settings(request: Request) -> Settings:
    """The settings the application was built with."""
    settings: Settings = request.app.state.settings
    return settings


# scope="function": commit before the response is sent, so a client that got 2xx sees
# its write in the next request (and a failed commit becomes an error response).
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
ClockDep = Annotated[Clock, Depends(get_clock)]
ViewClockDep = Annotated[Clock, Depends(get_view_clock)]
SettingsDep = Annotated[Settings, Depends(get_app_settings)]
