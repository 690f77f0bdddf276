"""A size limit on every request body, enforced while it arrives.

A readings import (``POST /api/v1/machines/{id}/readings``) may be as large as
``ENMS_IMPORTS__MAX_UPLOAD_MB`` (plus 1 MiB for multipart framing); every other body at most
``ENMS_SERVER__MAX_BODY_MB``. A declared ``Content-Length`` above the limit is refused before
a byte is read; a body that grows past it while streaming (chunked, or a lying header) is
cut off there — the server never holds more than the limit of one request in memory. Either
way the answer is a 413 in the API's one error shape, naming the limit and its setting.
"""

from __future__ import annotations

import logging
import re

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from enms.api.errors import error_body
from enms.core.config import Settings

log = logging.getLogger("enms.api")
MIB = 1024 * 1024
MULTIPART_SLACK = MIB
_IMPORT = re.compile(r"^/api/v1/machines/[^/]+/readings/?$")


def limit_for(method: str, path: str, settings: Settings) -> tuple[int, str]:
    """The largest body accepted for ``method path`` (bytes) and the setting that sets it.

    >>> s = Settings(database_url="sqlite://")
    >>> limit_for("POST", "/api/v1/machines/3/readings", s)[1]
    'ENMS_IMPORTS__MAX_UPLOAD_MB'
    >>> limit_for("POST", "/api/v1/model-performance/metrics/record", s)
    (16777216, 'ENMS_SERVER__MAX_BODY_MB')
    """
    if method == "POST" and _IMPORT.match(path):
        return settings.imports.max_upload_mb * MIB + MULTIPART_SLACK, "ENMS_IMPORTS__MAX_UPLOAD_MB"
    return settings.server.max_body_mb * MIB, "ENMS_SERVER__MAX_BODY_MB"


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


class BodyLimitMiddleware:
    """Refuses (413) request bodies larger than :func:`limit_for` allows."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit, setting = limit_for(scope["method"], scope["path"], self.settings)
        declared = _declared_length(scope)
        if declared is not None and declared > limit:
            await _too_large(scope, receive, send, limit, setting, declared)
            return
        seen = 0
        started = refused = False

        async def counted() -> Message:
            nonlocal seen, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit and not started:
                    # Answer now; the app sees the client gone and its own answer is dropped.
                    refused = True
                    await _too_large(scope, receive, send, limit, setting, None)
                    return {"type": "http.disconnect"}
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            if refused:
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except Exception:
            if not refused:
                raise
            log.info("%s %s: body over %d bytes refused", scope["method"], scope["path"], limit)


async def _too_large(
    scope: Scope, receive: Receive, send: Send, limit: int, setting: str, declared: int | None
) -> None:
    size = f"{declared:,} bytes" if declared is not None else f"more than {limit:,} bytes"
    message = (
        f"the request body is {size}; {scope['method']} {scope['path']} accepts at most "
        f"{limit // MIB} MiB ({setting})"
    )
    answer = JSONResponse(
        error_body("payload_too_large", message, {"limit_bytes": limit, "setting": setting}),
        status_code=413,
        headers={"connection": "close"},
    )
    await answer(scope, receive, send)
