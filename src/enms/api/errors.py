"""One error format for the whole API: ``{"error": {"code", "message", "details"}}``.

Domain errors map to statuses through ``HTTP_STATUS_BY_CODE``; request validation errors
(422, malformed JSON with its line and column), unknown routes (404) and wrong methods (405)
use the same shape. Anything else stays an honest, logged 500 (see
:mod:`enms.api.requestid`); every 5xx names the request id that is also in the log line.

:data:`ERROR_RESPONSES` declares that shape in the OpenAPI document for the 4xx answers any
``/api/v1`` operation may give; the app assembly adds it to every API router once.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from enms.core.errors import DomainError, http_status_for

log = logging.getLogger("enms.api")

#: Codes for the HTTP errors the framework itself raises (routing, methods, …).
CODE_BY_HTTP_STATUS = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
}


class ErrorInfo(BaseModel):
    """What went wrong: a stable code, a message for people, and structured details."""

    code: str = Field(description="Stable error code, e.g. `not_found`, `invalid_request`.")
    message: str = Field(description="What went wrong, naming the offending input.")
    details: dict[str, Any] = Field(description="Structured details (may be empty).")


class ErrorResponse(BaseModel):
    """The body of every error answer of the API."""

    error: ErrorInfo


def _declared(description: str) -> dict[str, Any]:
    return {"model": ErrorResponse, "description": description}


#: The error answers any API operation may give, in the one error shape (OpenAPI ``responses``).
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: _declared("Bad request: e.g. an unreadable multipart form."),
    401: _declared("No valid credentials: no, an unknown, a revoked or an expired API key."),
    403: _declared("The caller's role may not do this (the message names both roles)."),
    404: _declared("A named thing (machine, model version, job, alert, …) does not exist."),
    409: _declared("The request clashes with the current state (e.g. a job in progress)."),
    413: _declared("The body is larger than the limit named in the message."),
    422: _declared("Invalid input: the message names the parameter or field and the problem."),
    429: _declared("Rate limit reached: retry after the Retry-After header's seconds."),
}


def error_body(code: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    """The JSON body of every error response."""
    return {"error": {"code": code, "message": message, "details": details or {}}}


def _respond(
    request: Request,
    status: int,
    code: str,
    message: str,
    details: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    details = dict(details or {})
    if status >= 500:
        request_id = str(getattr(request.state, "request_id", "-"))
        details["request_id"] = request_id
        log.error(
            "%s %s answered %s %s: %s (request id %s)",
            request.method,
            request.url.path,
            status,
            code,
            message,
            request_id,
        )
    return JSONResponse(error_body(code, message, details), status, headers=headers)


async def _domain_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    return _respond(request, http_status_for(exc), exc.code, exc.message, exc.details)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    status = exc.status_code
    if status == 400 and isinstance(exc.__cause__, UnicodeDecodeError):
        return _undecodable_body(request, exc.__cause__)
    code = CODE_BY_HTTP_STATUS.get(status, "internal_error" if status >= 500 else "http_error")
    details: dict[str, Any] = {}
    if status == 404 and exc.detail == "Not Found":
        message = f"no such endpoint: {request.method} {request.url.path} (the API is under /docs)"
    elif status == 405:
        allowed = (exc.headers or {}).get("Allow", "")
        message = f"{request.method} is not allowed on {request.url.path}" + (
            f"; allowed: {allowed}" if allowed else ""
        )
        details["allowed_methods"] = [m.strip() for m in allowed.split(",") if m.strip()]
    else:
        message = str(exc.detail)
    return _respond(request, status, code, message, details, headers=dict(exc.headers or {}))


def _undecodable_body(request: Request, err: UnicodeDecodeError) -> JSONResponse:
    # FastAPI answers a JSON body that is not text with a bare 400 "error parsing the body";
    # it is malformed JSON like any other, so the same 422 naming where it breaks.
    at = err.start
    problem = (
        f"the body is not valid JSON: not {err.encoding.upper()} text "
        f"(byte 0x{err.object[at]:02x} at offset {at})"
    )
    details = {"problems": [{"location": "body", "problem": problem, "offset": at}]}
    return _respond(request, 422, "invalid_request", f"invalid request: body: {problem}", details)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = [_problem(err, exc.body) for err in exc.errors()]
    first = problems[0] if problems else {"location": "request", "problem": "invalid"}
    message = f"invalid request: {first['location']}: {first['problem']}"
    return _respond(request, 422, "invalid_request", message, {"problems": problems})


def _problem(err: Any, body: Any) -> dict[str, Any]:
    loc = tuple(err.get("loc", ()))
    if err.get("type") == "json_invalid" and len(loc) == 2 and isinstance(loc[1], int):
        line, column = line_and_column(body, loc[1])
        reason = (err.get("ctx") or {}).get("error", "JSON decode error")
        return {
            "location": "body",
            "problem": f"the body is not valid JSON: {reason} at line {line}, column {column}",
            "line": line,
            "column": column,
        }
    return {"location": ".".join(str(p) for p in loc), "problem": err.get("msg", "")}


def line_and_column(document: Any, position: int) -> tuple[int, int]:
    """1-based line and column of character ``position`` in ``document`` (as :mod:`json`
    counts them).

    >>> line_and_column('{"a": 1,\\n  x}', 11)
    (2, 3)
    >>> line_and_column(None, 4)
    (1, 5)
    """
    text = document.decode("utf-8", "replace") if isinstance(document, bytes) else document
    if not isinstance(text, str):
        return 1, position + 1
    line = text.count("\n", 0, position) + 1
    return line, position - (text.rfind("\n", 0, position) + 1) + 1


def register_error_handlers(app: FastAPI) -> None:
    """Install the handlers once, at app assembly (beside the request-id middleware of
    :mod:`enms.api.requestid`, which uses :func:`error_body` for unhandled errors)."""
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
