"""The webhook channel: POST a JSON body (signed when a secret is set), with retries.

Signature (Stripe style), when ``ENMS_NOTIFICATIONS__WEBHOOK_SECRET`` is set::

    X-Enms-Timestamp: <t>
    X-Enms-Signature: t=<t>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>

``t`` is the sending time in Unix seconds and ``body`` the exact bytes posted. A receiver
checks it with :func:`verify_signature` (or the same three lines of hmac), refusing stale
timestamps so a captured request cannot be replayed later. Slack and Teams ignore the
headers.

Each attempt has ``ENMS_NOTIFICATIONS__WEBHOOK_TIMEOUT_SECONDS``; 5xx, 429, timeouts and
connection errors are retried (:mod:`enms.alerts.notify.attempts`), other 4xx are not.
Only the standard library is used (``urllib.request``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from enms.alerts.notify.attempts import AttemptFailed, Outcome, with_retries

SIGNATURE_HEADER = "X-Enms-Signature"
TIMESTAMP_HEADER = "X-Enms-Timestamp"
USER_AGENT = "enms-notify/1"
DEFAULT_TOLERANCE_S = 300


def encode(payload: dict[str, Any]) -> bytes:
    """The exact bytes posted (and signed): compact UTF-8 JSON."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def sign(secret: str, body: bytes, timestamp: int) -> str:
    """The ``X-Enms-Signature`` value for ``body`` sent at ``timestamp`` (Unix seconds).

    >>> sign("s3cret", b'{"a":1}', 1700000000)[:16]
    't=1700000000,v1='
    """
    digest = hmac.new(
        secret.encode("utf-8"), f"{timestamp}.".encode() + body, hashlib.sha256
    ).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify_signature(
    secret: str,
    header: str | None,
    body: bytes | str,
    now: datetime | float,
    tolerance_s: float = DEFAULT_TOLERANCE_S,
) -> bool:
    """Whether ``header`` (an ``X-Enms-Signature`` value) signs ``body`` with ``secret`` and
    its timestamp lies within ``tolerance_s`` of ``now`` (a datetime or Unix seconds).

    >>> h = sign("k", b"{}", 1700000000)
    >>> verify_signature("k", h, b"{}", 1700000100), verify_signature("k", h, b"{}", 1700001000)
    (True, False)
    >>> verify_signature("other", h, b"{}", 1700000000), verify_signature("k", "junk", "{}", 0)
    (False, False)
    """
    if not header:
        return False
    fields: dict[str, list[str]] = {}
    for part in header.split(","):
        key, sep, value = part.strip().partition("=")
        if sep:
            fields.setdefault(key, []).append(value)
    try:
        timestamp = int(fields["t"][0])
    except (KeyError, ValueError):
        return False
    moment = now.timestamp() if isinstance(now, datetime) else float(now)
    if abs(moment - timestamp) > tolerance_s:
        return False
    raw = body.encode("utf-8") if isinstance(body, str) else body
    expected = sign(secret, raw, timestamp).partition(",v1=")[2]
    return any(hmac.compare_digest(expected, given) for given in fields.get("v1", []))


def redact_url(url: str) -> str:
    """The URL as logged: no credentials, query or path beyond its first segment (incoming
    webhook URLs carry their secret token in the path or the query).

    >>> redact_url("https://hooks.slack.com/services/T000/B000/XXXX")
    'https://hooks.slack.com/services/***'
    >>> redact_url("http://user:pw@127.0.0.1:8080/hook?sig=abc")
    'http://127.0.0.1:8080/hook?***'
    """
    parts = urlsplit(url)
    netloc = parts.netloc.rpartition("@")[2]
    segments = parts.path.split("/")
    path = "/".join(segments[:2]) + ("/***" if len(segments) > 2 and any(segments[2:]) else "")
    return urlunsplit((parts.scheme, netloc, path, "***" if parts.query else "", ""))


def post(
    url: str,
    body: bytes,
    *,
    secret: str | None,
    timeout_s: float,
    retries: int,
    backoff_seconds: float,
    now: Callable[[], datetime],
    sleep: Callable[[float], None] = time.sleep,
) -> Outcome:
    """POST ``body`` to ``url`` until it is accepted (2xx) or fails for good."""

    def attempt() -> int | None:
        headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": USER_AGENT}
        if secret:
            timestamp = int(now().timestamp())
            headers[TIMESTAMP_HEADER] = str(timestamp)
            headers[SIGNATURE_HEADER] = sign(secret, body, timestamp)
        return _attempt(url, body, headers, timeout_s)

    return with_retries(attempt, retries=retries, backoff_seconds=backoff_seconds, sleep=sleep)


def _attempt(url: str, body: bytes, headers: dict[str, str], timeout_s: float) -> int:
    try:
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    except ValueError as error:  # not an http(s) URL: no attempt can succeed
        raise AttemptFailed(f"invalid webhook URL: {error}", retryable=False) from None
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            status = int(response.status)
    except urllib.error.HTTPError as error:
        status = int(error.code)
        retryable = status >= 500 or status == 429
        raise AttemptFailed(
            f"HTTP {status} {error.reason}", retryable=retryable, code=status
        ) from None
    except TimeoutError as error:
        raise AttemptFailed(f"timed out after {timeout_s:g} s: {error}", retryable=True) from None
    except urllib.error.URLError as error:
        raise AttemptFailed(f"connection failed: {error.reason}", retryable=True) from None
    except (ConnectionError, OSError) as error:
        raise AttemptFailed(f"connection failed: {error}", retryable=True) from None
    if not 200 <= status < 300:
        raise AttemptFailed(f"HTTP {status}: not a success", retryable=False, code=status)
    return status
