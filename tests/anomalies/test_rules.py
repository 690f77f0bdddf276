"""The pure rules: directions and reasons, and the cluster window that ends at a new event."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from enms.anomalies.detect import (
    Cluster,
    FlaggedPoint,
    cluster_message,
    densest_window,
    direction_and_reason,
)

T0 = datetime(2025, 3, 5, 3, 0, tzinfo=UTC)


def _hours(*offsets: float) -> list[tuple[datetime, int]]:
    return [(T0 + timedelta(hours=h), i + 1) for i, h in enumerate(offsets)]


def test_direction_and_reason() -> None:
    below = direction_and_reason(FlaggedPoint(T0, 3.0, 9.25, 4.31), 3.0)
    assert below == (
        "below_expected",
        "3.0 kWh is 6.2 kWh below the expected 9.2 kWh (score 4.3 > threshold 3.0)",
    )
    assert direction_and_reason(FlaggedPoint(T0, 3.0, None, 4.3), 3.0)[0] == "unusual"


def test_an_old_cluster_is_not_reported_again_by_a_later_isolated_event() -> None:
    events = _hours(0, 1, 2, 3, 20)
    old = {t for t, _ in events[:4]}
    later = densest_window(events, {events[-1][0]}, 6)
    assert later is not None
    assert later.count == 1
    found = densest_window(events, old, 6)
    assert found is not None
    assert [i for _, i in found.events] == [1, 2, 3, 4]
    assert densest_window(events, set(), 6) is None


def test_the_window_is_half_open_on_the_left() -> None:
    events = _hours(0, 6, 6.5)  # (0.5, 6.5] leaves out the event six and a half hours back
    found = densest_window(events, {events[-1][0]}, 6)
    assert found is not None
    assert found.count == 2


def test_cluster_message_names_the_span() -> None:
    same_day = Cluster(_hours(0, 5.75))
    assert cluster_message("Compressor C1", same_day) == (
        "Compressor C1: 2 anomalous readings between 2025-03-05 03:00 and 08:45 UTC"
    )
    overnight = Cluster(_hours(0, 22))
    assert cluster_message("C1", overnight).endswith("2025-03-05 03:00 and 2025-03-06 01:00 UTC")
