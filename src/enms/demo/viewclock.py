"""The demo dashboard's "now": where the demo plant's data has got to, not the wall clock.

The demo's readings are of 2025 while the wall clock says later; the replay runs the
monitoring jobs with its own clock at the end of each replayed day. A dashboard that took the
wall clock as "now" would show "the last 30 days" as empty and every alert as a year old.
:class:`PlantClock` is given to the server as its *view* clock (``create_app(view_clock=…)``):
the pages use it for their default ranges and ages; everything that acts (jobs, leases,
alert acknowledgements) keeps the real clock.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from enms.core.clock import Clock
from enms.core.db import SessionFactory, session_scope
from enms.readings.models import EnergyReading

#: A replay clock before this has not moved yet (it starts at the epoch).
NOT_STARTED = datetime(2000, 1, 1, tzinfo=UTC)


def newest_reading(factory: SessionFactory) -> datetime | None:
    """The timestamp of the newest reading in the database (None when there is none)."""
    with session_scope(factory) as session:
        found: datetime | None = session.scalar(select(func.max(EnergyReading.ts)))
    if found is None:
        return None
    return found if found.tzinfo else found.replace(tzinfo=UTC)


class PlantClock:
    """The replay's clock once it has moved; before that, the end of the newest reading's
    day — where the data already in the database ends (also the whole story without a
    replay).

    >>> from enms.core.clock import FrozenClock
    >>> c = PlantClock(FrozenClock(datetime(1970, 1, 1, tzinfo=UTC)),
    ...                datetime(2025, 3, 2, 23, 45, tzinfo=UTC))
    >>> c.now().isoformat()
    '2025-03-03T00:00:00+00:00'
    """

    def __init__(self, replay: Clock | None, newest: datetime | None) -> None:
        self._replay = replay
        day = None if newest is None else newest.replace(hour=0, minute=0, second=0, microsecond=0)
        self._data_end = None if day is None else day + timedelta(days=1)

    def now(self) -> datetime:
        """The plant's "now" (the wall clock for a plant with no readings)."""
        if self._replay is not None:
            at = self._replay.now()
            if at >= NOT_STARTED:
                return at
        return self._data_end or datetime.now(UTC)
