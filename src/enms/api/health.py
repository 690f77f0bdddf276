"""``GET /health``: is the database reachable and its schema current?"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from enms import __version__
from enms.core import schema

router = APIRouter(tags=["health"])


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
        body |= {"status": "error", "problem": f"database unreachable: {exc.__class__.__name__}"}
        return JSONResponse(body, status_code=503)
    body |= {"schema_revision": current, "schema_head": head}
    if current != head:
        body |= {"status": "error", "problem": "schema out of date: run `enms db upgrade`"}
        return JSONResponse(body, status_code=503)
    return JSONResponse(body | {"status": "ok"})
