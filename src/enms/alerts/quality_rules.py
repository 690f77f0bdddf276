"""Pure data-quality rules over one machine's recent readings (no database).

Owns :func:`evaluate`: given the newest readings of a machine (timestamps and energy), the
time ``now`` and ``ENMS_DATA_QUALITY__*`` (:class:`enms.core.config.DataQualitySettings`),
it returns the conditions found. The machine's interval is inferred as the median step
between its readings. The rules:

``meter_stopped``
    No reading for ``stopped_hours`` or more: ``now − newest timestamp ≥ stopped_hours``.
    Critical once the silence reaches ``CRITICAL_STOPPED_FACTOR × stopped_hours`` (24 h with
    the defaults), a warning before. A site that uploads its readings once a day must set
    ``stopped_hours`` above a day.
``stale``
    The newest readings carry one identical, non-zero energy value over at least
    ``stale_hours`` (the run covers ``newest − first of the run + one interval``). A constant
    **zero** is a machine that is switched off, not a stale meter: it never counts. A run
    needs two readings or more.
``gaps``
    In the 24 h up to the newest reading, more than ``gap_share`` of the expected readings
    (window length / interval) are missing. When the machine's history is shorter than the
    window, the expected count starts at its first reading.

**Historical data is not a live meter.** A machine whose newest reading is older than
``ENMS_DATA_QUALITY__LIVE_DAYS`` days before ``now`` — a year of history imported at once
(``enms demo --no-replay``), a back-fill, a machine taken out of service — is reported as
``not_live`` and no rule runs on it: no alert opens, and an alert opened while it was live is
neither raised nor cleared (it stays until readings arrive or someone resolves it). A machine with
no readings at all is ``no_readings`` and checked neither.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any

from enms.core.config import DataQualitySettings

#: meter_stopped is critical once the silence lasts this many times ``stopped_hours``.
CRITICAL_STOPPED_FACTOR = 4
#: The window of the gaps rule, up to the newest reading.
GAP_WINDOW = timedelta(hours=24)
#: How much history before the newest reading the rules read (the gaps window, plus room
#: to infer the interval and to see a stale run start): the caller's bounded query.
LOOKBACK = timedelta(hours=48)
KINDS = ("meter_stopped", "stale", "gaps")


@dataclass(frozen=True)
class Condition:
    """One data-quality condition with its figures (JSON-able ``details``)."""

    kind: str  # one of KINDS
    since: datetime
    severity: str  # warning | critical
    text: str  # a readable fragment for the alert's message
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Verdict:
    """What the rules found for one machine."""

    status: str  # checked | not_live | no_readings
    newest: datetime | None
    interval: timedelta | None
    conditions: tuple[Condition, ...] = ()

    @property
    def severity(self) -> str:
        """The highest severity of the conditions (``warning`` when there are none)."""
        return "critical" if any(c.severity == "critical" for c in self.conditions) else "warning"


def fmt_time(at: datetime) -> str:
    """``2025-06-03 14:00 UTC``.

    >>> fmt_time(datetime(2025, 6, 3, 14, tzinfo=UTC))
    '2025-06-03 14:00 UTC'
    """
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _hours(delta: timedelta) -> float:
    return round(delta.total_seconds() / 3600, 2)


def infer_interval(ts: Sequence[datetime]) -> timedelta | None:
    """The median positive step between sorted timestamps; None with fewer than two.

    >>> t0 = datetime(2025, 1, 1, tzinfo=UTC)
    >>> infer_interval([t0 + timedelta(minutes=m) for m in (0, 15, 30, 90)])
    datetime.timedelta(seconds=900)
    >>> infer_interval([t0]) is None
    True
    """
    steps = [(b - a).total_seconds() for a, b in pairwise(ts) if b > a]
    if not steps:
        return None
    return timedelta(seconds=statistics.median(steps))


def evaluate(
    ts: Sequence[datetime],
    energy: Sequence[float],
    *,
    now: datetime,
    settings: DataQualitySettings,
) -> Verdict:
    """Every condition the machine's readings show at ``now`` (readings sorted by time).

    Hourly readings until 08:00, then nothing; at 15:00 the meter has been silent 7 h:

    >>> t0 = datetime(2025, 6, 3, tzinfo=UTC)
    >>> ts = [t0 + timedelta(hours=h) for h in range(9)]
    >>> energy = [10.0 + h for h in range(9)]
    >>> v = evaluate(ts, energy, now=t0 + timedelta(hours=15), settings=DataQualitySettings())
    >>> [(c.kind, c.severity, c.text) for c in v.conditions]
    [('meter_stopped', 'warning', 'no reading since 2025-06-03 08:00 UTC (7.0 h)')]

    At 11:00 (3 h of silence) nothing is wrong; a year later the machine is not live:

    >>> v = evaluate(ts, energy, now=t0 + timedelta(hours=11), settings=DataQualitySettings())
    >>> v.status, v.interval, v.conditions
    ('checked', datetime.timedelta(seconds=3600), ())
    >>> evaluate(ts, energy, now=t0 + timedelta(days=365), settings=DataQualitySettings()).status
    'not_live'

    Energy stuck at 12.5 kWh for the last five hours is stale; stuck at zero is a machine
    that is off:

    >>> stuck = energy[:4] + [12.5] * 5
    >>> (c,) = evaluate(ts, stuck, now=ts[-1], settings=DataQualitySettings()).conditions
    >>> c.kind, c.details["value"], c.details["readings"], c.details["hours"]
    ('stale', 12.5, 5, 5.0)
    >>> evaluate(ts, energy[:4] + [0.0] * 5, now=ts[-1], settings=DataQualitySettings()).conditions
    ()

    A day of hourly readings with 8 of them missing (a third; more than ``gap_share``):

    >>> day = [t0 + timedelta(hours=h) for h in range(25) if not 4 <= h < 12]
    >>> (c,) = evaluate(day, [1.0 + h for h in range(17)], now=day[-1],
    ...                 settings=DataQualitySettings()).conditions
    >>> c.kind, c.details["missing"], c.details["expected"], c.details["longest_gap_hours"]
    ('gaps', 8, 24, 8.0)
    """
    if not ts:
        return Verdict("no_readings", None, None)
    newest = ts[-1]
    interval = infer_interval(ts)
    if now - newest > timedelta(days=settings.live_days):
        return Verdict("not_live", newest, interval)
    found = [
        c
        for c in (
            _stopped(newest, now=now, settings=settings),
            _stale(ts, energy, interval, settings=settings),
            _gaps(ts, interval, settings=settings),
        )
        if c is not None
    ]
    return Verdict("checked", newest, interval, tuple(found))


def _stopped(newest: datetime, *, now: datetime, settings: DataQualitySettings) -> Condition | None:
    silence = now - newest
    limit = timedelta(hours=settings.stopped_hours)
    if silence < limit:
        return None
    critical = silence >= CRITICAL_STOPPED_FACTOR * limit
    hours = silence.total_seconds() / 3600
    return Condition(
        kind="meter_stopped",
        since=newest,
        severity="critical" if critical else "warning",
        text=f"no reading since {fmt_time(newest)} ({hours:.1f} h)",
        details={
            "kind": "meter_stopped",
            "since": newest.isoformat(),
            "hours": _hours(silence),
            "stopped_hours": settings.stopped_hours,
            "critical_after_hours": CRITICAL_STOPPED_FACTOR * settings.stopped_hours,
        },
    )


def _same(a: float, b: float) -> bool:
    # a stale meter repeats its register exactly; the tolerance only absorbs float round-trips
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


def _stale(
    ts: Sequence[datetime],
    energy: Sequence[float],
    interval: timedelta | None,
    *,
    settings: DataQualitySettings,
) -> Condition | None:
    if interval is None or len(ts) < 2:
        return None
    value = energy[-1]
    if _same(value, 0.0):  # switched off, not stale
        return None
    first = len(energy) - 1
    while first > 0 and _same(energy[first - 1], value):
        first -= 1
    count = len(energy) - first
    span = ts[-1] - ts[first] + interval
    if count < 2 or span < timedelta(hours=settings.stale_hours):
        return None
    hours = span.total_seconds() / 3600
    return Condition(
        kind="stale",
        since=ts[first],
        severity="warning",
        text=f"energy stuck at {value:g} kWh since {fmt_time(ts[first])} ({hours:.1f} h)",
        details={
            "kind": "stale",
            "since": ts[first].isoformat(),
            "value": value,
            "readings": count,
            "hours": _hours(span),
            "stale_hours": settings.stale_hours,
            # the run may go back further than the readings the check reads
            "run_starts_before_lookback": first == 0,
        },
    )


def _gaps(
    ts: Sequence[datetime], interval: timedelta | None, *, settings: DataQualitySettings
) -> Condition | None:
    if interval is None:
        return None
    newest = ts[-1]
    # (start, newest]: a full window holds GAP_WINDOW / interval readings; a shorter history
    # is expected to hold readings from its first one on
    start = max(newest - GAP_WINDOW, ts[0] - interval)
    expected = round((newest - start) / interval)
    present = sum(1 for t in ts if start < t <= newest)
    missing = max(expected - present, 0)
    if expected < 2 or missing / expected <= settings.gap_share:
        return None
    inside = [start, *(t for t in ts if start < t <= newest)]
    longest, longest_from = max(
        ((b - a, a) for a, b in pairwise(inside)), default=(interval, start)
    )
    return Condition(
        kind="gaps",
        since=start,
        severity="warning",
        text=(
            f"{missing} of {expected} expected readings missing in the 24 h before "
            f"{fmt_time(newest)} (longest gap {_hours(longest - interval):g} h)"
        ),
        details={
            "kind": "gaps",
            "since": start.isoformat(),
            "until": newest.isoformat(),
            "expected": expected,
            "present": present,
            "missing": missing,
            "share_missing": round(missing / expected, 3),
            "gap_share": settings.gap_share,
            "interval_seconds": interval.total_seconds(),
            "longest_gap_from": longest_from.isoformat(),
            "longest_gap_hours": _hours(longest - interval),
        },
    )
