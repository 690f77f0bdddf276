"""What every console log record gets on its way out: the request id, secrets redacted, and
(``ENMS_LOG_FORMAT=json``) one JSON object per line.

:class:`RequestIdFilter` puts the current HTTP request's id (:mod:`enms.core.request_context`)
on the record as ``request_id`` (``-`` outside a request), so a text format may name
``%(request_id)s``. :class:`RedactSecrets` is belt and braces: enms logs no credentials, but
a message, traceback or ``extra=`` value that quotes a bearer token, an ``Authorization``
header, a ``password=…`` (or ``secret``/``token``) value or a URL's password has it replaced
by ``***`` before any handler writes it. :class:`JsonFormatter` writes ``time`` (ISO 8601,
UTC), ``level``, ``logger``, ``message``, ``request_id`` (inside a request), ``exc_info``
(the formatted traceback, when there is one) and every JSON-serialisable ``extra=`` field.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from enms.core.request_context import current_request_id

#: ``request_id`` of a record logged outside any HTTP request (never a real id: those start
#: with a letter or digit).
NO_REQUEST = "-"
REDACTED = "***"
#: Attributes every LogRecord has; anything else on a record came from ``extra=``.
_STANDARD = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {
    "message",
    "asctime",
    "request_id",
    "taskName",
}
#: ``extra=`` fields that only repeat the message for another medium: uvicorn's message with
#: terminal colour codes.
_NOT_FIELDS = frozenset({"color_message"})
_SECRET_KEY = r"[\w.-]*(?:password|passwd|pwd|secret|token|api_key|apikey)"
#: (pattern, replacement) pairs, applied in order.
_REDACTIONS: tuple[tuple[re.Pattern[str], str], ...] = (
    # An Authorization header however it is spelt (``Authorization: …``, a dict's repr):
    # the whole value, whatever the scheme.
    (re.compile(r"(?i)(authorization[\"']?\s*[:=]\s*[\"']?)[^\r\n\"']+"), rf"\1{REDACTED}"),
    (re.compile(r"(?i)\b(bearer)\s+[\w\-.~+/]+=*"), rf"\1 {REDACTED}"),
    # ``password=…`` in a conninfo string, a query string or an environment dump.
    (re.compile(rf"(?i)\b({_SECRET_KEY})=[^\s&;,\"']+"), rf"\1={REDACTED}"),
    # ``"password": "…"`` in JSON or a dict's repr.
    (
        re.compile(rf"(?i)([\"']{_SECRET_KEY}[\"']\s*:\s*)([\"'])(?:(?!\2).)*\2"),
        rf"\1\2{REDACTED}\2",
    ),
    # ``scheme://user:password@host``.
    (re.compile(r"(?i)(\b[a-z][a-z0-9+.-]*://[^/\s:@]*:)[^@\s/]+@"), rf"\1{REDACTED}@"),
)


def redact(text: str) -> str:
    """``text`` with credentials it quotes replaced by ``***``.

    >>> redact("GET /x Authorization: Bearer eyJhbGciOi.J9")
    'GET /x Authorization: ***'
    >>> redact("token Bearer abc.def-123 refused")
    'token Bearer *** refused'
    >>> redact("connect host=db user=enms password=hunter2 sslmode=require")
    'connect host=db user=enms password=*** sslmode=require'
    >>> redact("{'smtp_password': 'hunter2', 'port': 25}")
    "{'smtp_password': '***', 'port': 25}"
    >>> redact("postgresql+psycopg://enms:hunter2@db/enms")
    'postgresql+psycopg://enms:***@db/enms'
    >>> redact("password reset for 3 users; no secrets here")
    'password reset for 3 users; no secrets here'
    """
    for pattern, replacement in _REDACTIONS:
        text = pattern.sub(replacement, text)
    return text


def extra_fields(record: logging.LogRecord) -> Iterator[tuple[str, Any]]:
    """The ``extra=`` fields of ``record`` (attributes no LogRecord has by itself)."""
    for key, value in record.__dict__.items():
        if key not in _STANDARD and not key.startswith("_"):
            yield key, value


class RequestIdFilter(logging.Filter):
    """Put the current request's id on every record (``-`` outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:  # an explicit extra= id wins
            record.request_id = current_request_id() or NO_REQUEST
        return True


class RedactSecrets(logging.Filter):
    """Replace credentials in a record's message, traceback, stack and string extras."""

    _tracebacks = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format/args pair: the handler reports it as usual
            return True
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            # Formatted here (formatters reuse exc_text) so the traceback is redacted too.
            record.exc_text = self._tracebacks.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        for key, value in list(extra_fields(record)):
            if isinstance(value, str):
                setattr(record, key, redact(value))
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line.

    >>> record = logging.makeLogRecord(
    ...     {"name": "enms.x", "levelname": "INFO", "msg": "%d rows", "args": (3,),
    ...      "created": 0.0, "machine": "F1", "request_id": "-"}
    ... )
    >>> line = JsonFormatter().format(record)
    >>> json.loads(line) == {"time": "1970-01-01T00:00:00.000Z", "level": "INFO",
    ...     "logger": "enms.x", "message": "3 rows", "machine": "F1"}
    True
    """

    def format(self, record: logging.LogRecord) -> str:
        created = datetime.fromtimestamp(record.created, tz=UTC)
        entry: dict[str, Any] = {
            "time": created.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None)
        if request_id is None:
            request_id = current_request_id()  # a handler without RequestIdFilter
        if request_id not in (None, NO_REQUEST):
            entry["request_id"] = request_id
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exc_info"] = record.exc_text
        if record.stack_info:
            entry["stack_info"] = self.formatStack(record.stack_info)
        for key, value in extra_fields(record):
            if key in entry or key in _NOT_FIELDS:
                continue  # an extra never hides a standard field
            try:
                json.dumps(value, allow_nan=False)
            except (TypeError, ValueError):
                continue  # not JSON (an object, a NaN): left out rather than misquoted
            entry[key] = value
        return json.dumps(entry, ensure_ascii=False)
