"""Request ids, and the last line of defence that turns an unexpected exception into a 500.

Every HTTP response carries ``X-Request-ID``: the caller's own id when it sent a sane one
(letters, digits and ``._:-``, at most 128 characters), else a fresh random one. The id is
kept in the request's state (``request.state.request_id``) so error handlers put it in
``details.request_id`` of every 5xx answer and in the log line that records the failure:
a user quoting the id from a 500 leads straight to its traceback. It is also bound for
logging while the request is handled (:mod:`enms.core.request_context`): every record logged
meanwhile carries it (``request_id`` in ``ENMS_LOG_FORMAT=json`` lines).
"""

from __future__ import annotations

import logging
import re
import uuid
from typing import Any

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from enms.api.errors import error_body
from enms.core.request_context import bound_request_id

log = logging.getLogger("enms.api")
HEADER = "x-request-id"
_SANE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")


def incoming_or_new(headers: list[tuple[bytes, bytes]]) -> str:
    """The caller's ``X-Request-ID`` when it is sane, else a new random id.

    >>> incoming_or_new([(b"x-request-id", b"abc-123")])
    'abc-123'
    >>> len(incoming_or_new([(b"x-request-id", b"<script>")]))
    32
    """
    for name, value in headers:
        if name.lower() == HEADER.encode():
            text = value.decode("latin-1").strip()
            if _SANE.fullmatch(text):
                return text
    return uuid.uuid4().hex


class RequestIdMiddleware:
    """Pure ASGI middleware: assign the id, echo it in the response headers, and answer an
    exception nobody handled with a logged 500 in the common error shape."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = incoming_or_new(list(scope.get("headers", [])))
        scope.setdefault("state", {})["request_id"] = request_id
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = [
                    (k, v) for k, v in message.get("headers", []) if k.lower() != HEADER.encode()
                ]
                headers.append((HEADER.encode(), request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        with bound_request_id(request_id):
            try:
                await self.app(scope, receive, send_with_id)
            except Exception as exc:
                if started:  # too late for an error answer; let the server close the connection
                    raise
                log.exception(
                    "%s %s failed with an unexpected %s (request id %s)",
                    scope.get("method", "?"),
                    scope.get("path", "?"),
                    type(exc).__name__,
                    request_id,
                )
                response = internal_error(request_id)
                await response(scope, receive, send_with_id)


def internal_error(request_id: str) -> JSONResponse:
    """The answer to an unexpected failure: nothing internal leaks, the id is given."""
    body: dict[str, Any] = error_body(
        "internal_error",
        f"internal server error; quote request id {request_id} when reporting it "
        "(the server log has the details)",
        {"request_id": request_id},
    )
    return JSONResponse(body, status_code=500)
