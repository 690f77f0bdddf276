"""The write gate: writers of one process queue first come, first served.

Used by :mod:`enms.core.db` in front of SQLite's single write lock (capacity one) and in
front of PostgreSQL for writing web requests (a bounded number at a time).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager

#: How long a writer waits at the gate before giving up (the single writer is slow, not dead).
DEFAULT_WRITE_WAIT_SECONDS = 120.0


class WriteGateTimeout(TimeoutError):
    """A writer waited longer than the gate allows (someone holds the write lock for long)."""


class WriteGate:
    """A first-come-first-served gate admitting ``capacity`` writers at a time (SQLite: one).

    Not tied to a thread: a web framework may open a request's unit of work in one worker
    thread and close it in another, so whoever ends the unit of work releases the gate. A
    writing unit of work opened inside another one waits for itself; it ends with
    :class:`WriteGateTimeout` (as SQLite would end it with "database is locked").
    """

    def __init__(
        self, *, capacity: int = 1, wait_seconds: float = DEFAULT_WRITE_WAIT_SECONDS
    ) -> None:
        self._cond = threading.Condition()
        self._queue: deque[object] = deque()
        self._inside = 0
        self._capacity = capacity
        self._wait_seconds = wait_seconds

    @property
    def waiting(self) -> int:
        """Writers queued right now (for diagnostics and tests)."""
        with self._cond:
            return len(self._queue)

    def acquire(self) -> None:
        """Wait for this writer's turn (in arrival order)."""
        ticket = object()
        with self._cond:
            self._queue.append(ticket)
            deadline = time.monotonic() + self._wait_seconds
            while self._inside >= self._capacity or self._queue[0] is not ticket:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    self._queue.remove(ticket)
                    self._cond.notify_all()
                    raise WriteGateTimeout(
                        f"waited {self._wait_seconds:g} s for the database's write lock: another "
                        "unit of work holds it for long (or this one is nested inside it)"
                    )
                self._cond.wait(remaining)
            self._queue.popleft()
            self._inside += 1
            self._cond.notify_all()  # the next in line may fit too (capacity > 1)

    def release(self) -> None:
        """Hand the place to the next writer in line."""
        with self._cond:
            self._inside -= 1
            self._cond.notify_all()

    @contextmanager
    def held(self) -> Iterator[None]:
        """``with gate.held():`` — for writers that bypass ``session_scope``."""
        self.acquire()
        try:
            yield
        finally:
            self.release()
