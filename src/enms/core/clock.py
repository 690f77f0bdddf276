"""An injectable clock so domain code never calls ``datetime.now()`` directly.

Tests freeze time with :class:`FrozenClock`; everything else uses :class:`SystemClock`.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """Something that tells the current UTC time."""

    def now(self) -> datetime:
        """Current time, timezone-aware UTC."""
        ...


class SystemClock:
    """The real clock."""

    def now(self) -> datetime:
        """Current time, timezone-aware UTC."""
        return datetime.now(UTC)


class FrozenClock:
    """A clock that only moves when told to.

    >>> c = FrozenClock(datetime(2026, 1, 1, tzinfo=UTC))
    >>> c.advance(timedelta(hours=1)).now().hour
    1
    """

    def __init__(self, at: datetime) -> None:
        self._at = at

    def now(self) -> datetime:
        """The frozen instant."""
        return self._at

    def advance(self, delta: timedelta) -> FrozenClock:
        """Move the clock forward by ``delta``; returns self for chaining."""
        self._at += delta
        return self
