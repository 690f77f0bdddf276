"""Attempts and retries shared by the channels: :class:`Outcome`, :func:`with_retries`.

A channel's single attempt either returns (delivered, with an optional response code) or
raises :class:`AttemptFailed` saying whether the failure is worth retrying (a 5xx, 429,
timeout or refused connection is; a 4xx is not). ``ENMS_NOTIFICATIONS__RETRIES`` extra
attempts follow a retryable failure, the k-th after a real wait of
``ENMS_NOTIFICATIONS__BACKOFF_SECONDS * 2**(k-1)``. Every attempt is counted.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

MAX_ERROR_CHARS = 1000


class AttemptFailed(Exception):
    """One attempt failed; ``retryable`` says whether another may succeed."""

    def __init__(self, message: str, *, retryable: bool, code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.retryable = retryable
        self.code = code


@dataclass(frozen=True)
class Outcome:
    """How a delivery went after all its attempts."""

    status: str  # sent | failed
    attempts: int
    response_code: int | None
    last_error: str | None


def backoff_delay(backoff_seconds: float, retry: int) -> float:
    """Wait before retry ``retry`` (1-based).

    >>> [backoff_delay(2, k) for k in (1, 2, 3)]
    [2.0, 4.0, 8.0]
    """
    return backoff_seconds * 2.0 ** (retry - 1)


def with_retries(
    attempt: Callable[[], int | None],
    *,
    retries: int,
    backoff_seconds: float,
    sleep: Callable[[float], None] = time.sleep,
) -> Outcome:
    """Run ``attempt`` until it returns (sent) or fails for good (failed)."""
    attempts = 0
    last: AttemptFailed | None = None
    while attempts <= retries:
        if attempts:
            delay = backoff_delay(backoff_seconds, attempts)
            if delay > 0:
                sleep(delay)
        attempts += 1
        try:
            code = attempt()
        except AttemptFailed as failure:
            last = failure
            if not failure.retryable:
                break
            continue
        return Outcome("sent", attempts, code, None)
    assert last is not None
    return Outcome("failed", attempts, last.code, last.message[:MAX_ERROR_CHARS])
