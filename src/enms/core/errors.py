"""Domain errors with stable codes, and the one table mapping codes to HTTP statuses.

Services raise these (never ``HTTPException``) so the CLI and workers can reuse them;
the API registers one handler that renders ``{"error": {"code", "message", "details"}}``.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A failure the caller can act on: a stable ``code`` plus a human message."""

    code = "domain_error"

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}


class NotFound(DomainError):
    """The named thing does not exist."""

    code = "not_found"


class AlreadyExists(DomainError):
    """Creating the thing would duplicate an existing one."""

    code = "already_exists"


class InvalidInput(DomainError):
    """The request is well-formed but its content is wrong (bad value, bad window, …)."""

    code = "invalid_input"


class InvalidFile(InvalidInput):
    """An uploaded or imported file was rejected as a whole."""

    code = "invalid_file"


class InsufficientReadings(InvalidInput):
    """A machine has too few readings for what was asked (e.g. training a model type)."""

    code = "insufficient_readings"


class Conflict(DomainError):
    """The request clashes with the current state (e.g. a job already running)."""

    code = "conflict"


class SchemaOutOfDate(DomainError):
    """The database schema is older (or newer) than this code expects."""

    code = "schema_out_of_date"


HTTP_STATUS_BY_CODE: dict[str, int] = {
    NotFound.code: 404,
    AlreadyExists.code: 409,
    Conflict.code: 409,
    InvalidInput.code: 422,
    InvalidFile.code: 422,
    InsufficientReadings.code: 422,
    SchemaOutOfDate.code: 503,
    DomainError.code: 400,
}


def http_status_for(error: DomainError) -> int:
    """HTTP status for a domain error, by its code.

    >>> http_status_for(NotFound("no machine 7"))
    404
    """
    return HTTP_STATUS_BY_CODE.get(error.code, 400)
