"""Half-open time windows ``[from, to)`` parsed from ISO 8601 dates or instants.

Naive input means UTC, everywhere (CLI, API, CSV).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from enms.core.errors import InvalidInput


def parse_instant(text: str, *, field: str = "time") -> datetime:
    """Parse an ISO 8601 date or instant into an aware UTC datetime.

    >>> parse_instant("2025-03-01")
    datetime.datetime(2025, 3, 1, 0, 0, tzinfo=datetime.timezone.utc)
    >>> parse_instant("2025-03-01T10:00+01:00").hour
    9
    >>> parse_instant("March")
    Traceback (most recent call last):
    ...
    enms.core.errors.InvalidInput: time: 'March' is not an ISO 8601 date or instant
    """
    value = text.strip()
    try:
        if len(value) == 10:
            d = date.fromisoformat(value)
            return datetime(d.year, d.month, d.day, tzinfo=UTC)
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(f"{field}: {text!r} is not an ISO 8601 date or instant") from None
    return as_utc(parsed)


def as_utc(moment: datetime) -> datetime:
    """Attach UTC to a naive datetime, or convert an aware one to UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


@dataclass(frozen=True)
class Window:
    """``[start, end)``; either side may be open (None)."""

    start: datetime | None
    end: datetime | None

    @classmethod
    def parse(
        cls,
        start: str | datetime | None,
        end: str | datetime | None,
        *,
        names: tuple[str, str] = ("from", "to"),
    ) -> Window:
        """Build a window from text or datetimes, refusing an empty or inverted one."""
        s = _coerce(start, names[0])
        e = _coerce(end, names[1])
        if s is not None and e is not None and s >= e:
            raise InvalidInput(
                f"{names[0]} ({s.isoformat()}) must be before {names[1]} ({e.isoformat()}): "
                "windows are half-open [from, to)"
            )
        return cls(s, e)


def _coerce(value: str | datetime | None, field: str) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return as_utc(value)
    return parse_instant(value, field=field)
