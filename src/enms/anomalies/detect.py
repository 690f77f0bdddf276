"""Pure rules of anomaly detection: flagged points → events with a reason, and clusters.

No database here: :func:`event_rows` turns a champion's flagged prediction-log points into
``anomaly_events`` rows (direction and a readable reason), :func:`densest_window` finds the
fullest window of ``hours`` that ends at a newly stored event, and :func:`cluster_message`
words the alert.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

ABOVE, BELOW, UNUSUAL = "above_expected", "below_expected", "unusual"


@dataclass(frozen=True)
class FlaggedPoint:
    """A logged point of an anomaly detector whose score crossed its threshold."""

    ts: datetime
    actual: float
    predicted: float | None
    score: float


@dataclass(frozen=True)
class Cluster:
    """The fullest window of events ending at a new one: ``(ts, event id)`` oldest first."""

    events: list[tuple[datetime, int]]

    @property
    def count(self) -> int:
        """How many distinct readings the window holds."""
        return len(self.events)


def direction_and_reason(point: FlaggedPoint, threshold: float) -> tuple[str, str]:
    """``above_expected`` / ``below_expected`` (``unusual`` without an expectation) and the
    sentence saying why.

    >>> direction_and_reason(FlaggedPoint(datetime(2025, 1, 1), 14.2, 9.1, 4.3), 3.0)
    ('above_expected', '14.2 kWh is 5.1 kWh above the expected 9.1 kWh (score 4.3 > threshold 3.0)')
    """
    why = f"(score {point.score:.1f} > threshold {threshold:.1f})"
    if point.predicted is None:
        return UNUSUAL, f"{point.actual:.1f} kWh is unusual for its drivers {why}"
    gap = point.actual - point.predicted
    side = "above" if gap >= 0 else "below"
    text = (
        f"{point.actual:.1f} kWh is {abs(gap):.1f} kWh {side} the expected "
        f"{point.predicted:.1f} kWh {why}"
    )
    return (ABOVE if gap >= 0 else BELOW), text


def event_rows(
    points: list[FlaggedPoint],
    *,
    machine_id: int,
    model_id: int,
    model_version: int,
    threshold: float,
    detected_at: datetime,
) -> list[dict[str, Any]]:
    """``anomaly_events`` rows (column → value) for flagged points of one version."""
    rows = []
    for p in points:
        direction, reason = direction_and_reason(p, threshold)
        rows.append(
            {
                "machine_id": machine_id,
                "model_id": model_id,
                "model_version": model_version,
                "ts": p.ts,
                "energy_kwh": p.actual,
                "expected_kwh": p.predicted,
                "score": p.score,
                "threshold": threshold,
                "direction": direction,
                "reason": reason,
                "detected_at": detected_at,
            }
        )
    return rows


def densest_window(
    events: list[tuple[datetime, int]], new: set[datetime], hours: float
) -> Cluster | None:
    """The window ``(t − hours, t]`` holding the most events among those ending at a new
    event's ``t`` (the latest wins a tie); None when nothing is new.

    A window holding a set of events holds them also when it ends at the newest of them, so
    windows ending at events are the only ones to try; ending at a *new* one keeps a cluster
    that was already reported from being reported again every hour.

    >>> t = [datetime(2025, 1, 1, h) for h in (0, 1, 2, 9)]
    >>> densest_window([(x, i) for i, x in enumerate(t)], {t[2], t[3]}, 6).count
    3
    """
    ordered = sorted(events)
    times = [ts for ts, _ in ordered]
    span = timedelta(hours=hours)
    best: tuple[int, int] | None = None
    for j, ts in enumerate(times):
        if ts not in new:
            continue
        i = bisect_right(times, ts - span)
        if best is None or j - i + 1 >= best[1] - best[0] + 1:
            best = (i, j)
    if best is None:
        return None
    return Cluster(ordered[best[0] : best[1] + 1])


def cluster_message(machine_name: str, cluster: Cluster) -> str:
    """E.g. ``Compressor C1: 9 anomalous readings between 2025-03-05 03:00 and 08:45 UTC``."""
    first, last = cluster.events[0][0], cluster.events[-1][0]
    end = last.strftime("%H:%M" if last.date() == first.date() else "%Y-%m-%d %H:%M")
    return (
        f"{machine_name}: {cluster.count} anomalous readings between "
        f"{first.strftime('%Y-%m-%d %H:%M')} and {end} UTC"
    )
