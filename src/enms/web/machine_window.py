"""The machine page's time window and the bucket size that keeps its series plottable.

A window is ``[from, to)`` in UTC: explicit ISO dates/instants, or the last ``days`` days up
to ``to`` (default: the server clock's now). The bucket is the smallest of
:data:`BUCKETS` that keeps every series at or below :data:`MAX_POINTS` points (hourly for a
month, 3-hourly for a quarter, 12-hourly for a year, daily beyond); buckets are cut in the
machine's local time, so a daily bucket is a local calendar day like the KPIs' days.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from enms.core.errors import InvalidInput
from enms.core.timewindow import Window

MAX_POINTS = 1_000
DEFAULT_DAYS = 30
MAX_DAYS = 731
#: (pandas frequency, label, hours) from finest to coarsest.
BUCKETS: tuple[tuple[str, str, int], ...] = (
    ("h", "hour", 1),
    ("2h", "2 h", 2),
    ("3h", "3 h", 3),
    ("6h", "6 h", 6),
    ("12h", "12 h", 12),
    ("D", "day", 24),
)


@dataclass(frozen=True)
class Bucket:
    """How the series are aggregated: pandas frequency, a label for axes, its length."""

    freq: str
    label: str
    hours: int


@dataclass(frozen=True)
class SeriesWindow:
    """The resolved window and its bucket."""

    start: datetime
    end: datetime
    bucket: Bucket

    @property
    def days(self) -> float:
        return (self.end - self.start).total_seconds() / 86_400


def bucket_for(span: timedelta) -> Bucket:
    """The finest bucket keeping ``span`` at or below :data:`MAX_POINTS` buckets.

    >>> bucket_for(timedelta(days=30)).label, bucket_for(timedelta(days=90)).label
    ('hour', '3 h')
    >>> bucket_for(timedelta(days=365)).label, bucket_for(timedelta(days=700)).label
    ('12 h', 'day')
    """
    hours = span.total_seconds() / 3600
    for freq, label, size in BUCKETS:
        if hours / size <= MAX_POINTS:
            return Bucket(freq, label, size)
    freq, label, size = BUCKETS[-1]
    return Bucket(freq, label, size)


def resolve(*, start: str | None, end: str | None, days: int | None, now: datetime) -> SeriesWindow:
    """The window of a request: ``from``/``to`` (ISO) or ``days`` up to ``to`` (default now).

    ``from`` together with ``days`` is ambiguous and refused; so are empty, inverted and
    over-long windows (at most :data:`MAX_DAYS` days), each with a message naming the field.
    """
    if start and days is not None:
        raise InvalidInput("give either from or days, not both")
    if days is not None and not 1 <= days <= MAX_DAYS:
        raise InvalidInput(f"days must be between 1 and {MAX_DAYS}, got {days}")
    window = Window.parse(start, end)
    last = window.end or now
    first = window.start or last - timedelta(days=days or DEFAULT_DAYS)
    if first >= last:
        raise InvalidInput(
            f"from ({first.isoformat()}) must be before to ({last.isoformat()}; default: now)"
        )
    if last - first > timedelta(days=MAX_DAYS):
        raise InvalidInput(f"from/to: at most {MAX_DAYS} days per request")
    return SeriesWindow(first, last, bucket_for(last - first))
