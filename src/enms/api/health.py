"""Health probes for people and load balancers.

- ``GET /health``: is the database reachable and its schema current? (200 / 503)
- ``GET /health/live``: the process answers (liveness: restart it when this fails); touches
  nothing else, so a database outage does not get healthy servers killed.
- ``GET /health/ready``: the database answers with a current schema **and** the job queue
  answers (readiness: send it traffic) — Redis down means triggers could not be enqueued.

A 503 names its request id (as every 5xx does) in the body and in the log line.
"""

from __future__ import annotations

import json
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
#: What an unhealthy answer declares (OpenAPI): the body names the problem and the request id.
UNHEALTHY: dict[int | str, dict[str, Any]] = {
    503: {"description": "Unhealthy: `problem` says what fails, with the request id."}
}


@router.get("/health", responses=UNHEALTHY)
def health(request: Request) -> JSONResponse:
    """200 when the database answers and its schema is at this code's head, else 503."""
    return _database_check(request)


@router.get("/health/live")
def live() -> JSONResponse:
    """200 while the process serves requests (nothing else is checked)."""
    return JSONResponse({"status": "ok", "version": __version__})


@router.get("/health/ready", responses=UNHEALTHY)
def ready(request: Request) -> JSONResponse:
    """200 when the database (schema current) and the job queue answer, else 503 naming
    what does not."""
    answer = _database_check(request)
    if answer.status_code != 200:
        return answer
    body: dict[str, Any] = json.loads(bytes(answer.body))
    runtime = request.app.state.runtime
    queue = "embedded" if runtime.settings.queue_url is None else "redis"
    body["queue"] = queue
    if not runtime.queue_ready():
        body.pop("status", None)
        return _unhealthy(request, body, f"job queue ({queue}) unreachable")
    return JSONResponse(body)


def _database_check(request: Request) -> JSONResponse:
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
    log.error("GET %s answered 503: %s (request id %s)", request.url.path, problem, request_id)
    return JSONResponse(
        body | {"status": "error", "problem": problem, "request_id": request_id}, 503
    )
