"""Security headers on every response the server sends.

- ``Content-Security-Policy``: scripts only from the app itself (plotly.js is served from the
  installed package, so no CDN needs an exception; page data travels in
  ``<script type="application/json">`` blocks, which are not executed), styles from the app
  plus inline ``style`` attributes (plotly draws with them), images from the app or
  ``data:``, fetches to the app only, no plugins, no framing by other sites, forms posting
  only to the app.
- ``X-Content-Type-Options: nosniff``, ``X-Frame-Options: DENY`` (for browsers without
  ``frame-ancestors``), ``Referrer-Policy: same-origin``, ``Cross-Origin-Opener-Policy``.

A response that sets its own policy keeps it: ``/docs`` adds the hash of Swagger UI's one
inline start-up script (:func:`policy_with_script_hashes`).
"""

from __future__ import annotations

import base64
import hashlib
import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP_DIRECTIVES = (
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
)
CSP = "; ".join(CSP_DIRECTIVES)
HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (b"cross-origin-opener-policy", b"same-origin"),
)
_INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", re.DOTALL)


def policy_with_script_hashes(html: str) -> str:
    """:data:`CSP` that also allows exactly the inline scripts of ``html`` (by SHA-256).

    >>> policy = policy_with_script_hashes("<script>go()</script><script src='/a.js'></script>")
    >>> "script-src 'self' 'sha256-" in policy and policy.count("sha256-") == 1
    True
    """
    hashes = [
        "'sha256-" + base64.b64encode(hashlib.sha256(body.encode()).digest()).decode() + "'"
        for body in _INLINE_SCRIPT.findall(html)
    ]
    script_src = " ".join(["script-src 'self'", *hashes])
    return "; ".join(script_src if d.startswith("script-src") else d for d in CSP_DIRECTIVES)


class SecurityHeadersMiddleware:
    """Adds :data:`HEADERS` to every HTTP response that does not set them itself."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers += [(n, v) for n, v in HEADERS if n not in present]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)
