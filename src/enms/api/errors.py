"""One error format for the whole API: ``{"error": {"code", "message", "details"}}``.

Domain errors map to statuses through ``HTTP_STATUS_BY_CODE``; request validation errors
keep 422 but use the same shape. Anything else stays an honest, logged 500.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from enms.core.errors import DomainError, http_status_for


def error_body(code: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    """The JSON body of every error response."""
    return {"error": {"code": code, "message": message, "details": details or {}}}


async def _domain_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    return JSONResponse(error_body(exc.code, exc.message, exc.details), http_status_for(exc))


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = [
        {
            "location": ".".join(str(p) for p in err.get("loc", ())),
            "problem": err.get("msg", ""),
        }
        for err in exc.errors()
    ]
    first = problems[0] if problems else {"location": "request", "problem": "invalid"}
    message = f"invalid request: {first['location']}: {first['problem']}"
    return JSONResponse(error_body("invalid_request", message, {"problems": problems}), 422)


def register_error_handlers(app: FastAPI) -> None:
    """Install the handlers once, at app assembly."""
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
