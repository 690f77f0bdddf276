"""The id of the HTTP request being handled, for whoever logs meanwhile.

The web layer's request-id middleware (:mod:`enms.api.requestid`) binds the id for the time
it handles a request; the log filter of :mod:`enms.core.logs` reads it and puts it on every
record (``%(request_id)s`` in a text format, ``request_id`` in JSON lines). The value is a
context variable, so it follows the request into the worker threads its handlers run on and
never leaks into another request or a background job.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_request_id: ContextVar[str | None] = ContextVar("enms_request_id", default=None)


def current_request_id() -> str | None:
    """The id of the request being handled here, or None outside a request.

    >>> current_request_id() is None
    True
    >>> with bound_request_id("abc-123"):
    ...     current_request_id()
    'abc-123'
    """
    return _request_id.get()


@contextmanager
def bound_request_id(request_id: str) -> Iterator[None]:
    """Make ``request_id`` the current request's id until the block ends."""
    token = _request_id.set(request_id)
    try:
        yield
    finally:
        _request_id.reset(token)
