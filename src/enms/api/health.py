"""``GET /health``: is the database reachable and its schema current?

A 503 names its request id (as every 5xx does) in the body and in the log line.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from enms import __version__
from enms.core import schema

router = APIRouter(tags=["health"])
log = logging.getLogger("enms.api")


@router.get("/health")
def health(request: Request) -> JSONResponse:
    """200 when the database answers and its schema is at this code's head, else 503."""
    engine = request.app.state.engine
    body: dict[str, Any] = {"version": __version__, "database": engine.dialect.name}
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        current, head = schema.current_revision(engine), request.app.state.schema_head
    except SQLAlchemyError as exc:
        problem = f"database unreachable: {exc.__class__.__name__}"
        return _unhealthy(request, body, problem)
    body |= {"schema_revision": current, "schema_head": head}
    if current != head:
        return _unhealthy(request, body, "schema out of date: run `enms db upgrade`")
    return JSONResponse(body | {"status": "ok"})


def _unhealthy(request: Request, body: dict[str, Any], problem: str) -> JSONResponse:
    request_id = str(getattr(request.state, "request_id", "-"))
    log.error("GET /health answered 503: %s (request id %s)", problem, request_id)
    return JSONResponse(
        body | {"status": "error", "problem": problem, "request_id": request_id}, 503
    )
