"""Which logged points an A/B test counts (pure: :mod:`enms.experiments.tagging`).

Forecasters: only day-ahead points (lead 0–24 h), the newest such origin per target;
baselines and detectors: every point with an actual and a prediction. The arm of a
timestamp is the arm any point of A or B carries there (served), else the slot's."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd

from enms.experiments.arms import arms_for
from enms.experiments.models import ABTest
from enms.experiments.tagging import arm_frames, scored

T0 = pd.Timestamp("2025-06-02", tz="UTC")


def _points(
    ts: list[pd.Timestamp],
    origins: list[pd.Timestamp],
    predicted: list[float],
    actual: list[float | None],
    arm: list[str | None] | None = None,
) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "origin": origins,
            "predicted": predicted,
            "actual": actual,
            "arm": arm or [None] * len(ts),
        },
        index=pd.DatetimeIndex(ts),
    )
    frame["actual"] = frame["actual"].astype(float)
    return frame


def test_forecasters_count_the_newest_day_ahead_origin_only() -> None:
    target = T0 + pd.Timedelta(hours=30)
    points = _points(
        [target, target, target, T0 + pd.Timedelta(hours=31)],
        [T0 - pd.Timedelta(days=1), T0, T0 + pd.Timedelta(hours=12), T0 + pd.Timedelta(hours=31)],
        [1.0, 2.0, 3.0, 4.0],
        [10.0, 10.0, 10.0, None],
    )
    kept = scored(points, "forecast_arima")
    # lead 54 h dropped, lead 30 h dropped, lead 18 h kept; no actual yet: dropped
    assert kept["predicted"].tolist() == [3.0]
    assert scored(points.iloc[:3], "baseline")["predicted"].tolist() == [3.0]  # one per target


def test_served_arms_override_the_slots_and_the_paired_sample_is_every_common_reading() -> None:
    ts = pd.date_range(T0, periods=48, freq="h")
    test = ABTest(id=3, model_type="baseline", traffic_split=0.5, slot_minutes=60,
                  start_date=datetime(2025, 6, 2, tzinfo=UTC))  # fmt: skip
    slot = arms_for(3, ts, 0.5, slot_minutes=60)
    served: list[str | None] = [None] * 48
    flip = int(np.flatnonzero(slot == "a")[0])
    served[flip] = "b"  # served by B although its slot says A
    a = _points(list(ts), list(ts), [1.0] * 48, [2.0] * 48)
    b = _points(list(ts), list(ts), [1.5] * 48, [2.0] * 48, arm=served)
    frames = arm_frames(test, a, b)
    expected = slot.copy()
    expected[flip] = "b"
    assert frames.arm_a.index.equals(ts[expected == "a"])
    assert frames.arm_b.index.equals(ts[expected == "b"])
    assert len(frames.paired_a) == len(frames.paired_b) == 48
