"""Wall-clock time of week on both DST days (Europe/Berlin), and forecasts that follow it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from enms.ml.base import TARGET
from enms.ml.forecast_arima import ArimaForecaster
from enms.ml.forecast_grid import seasonal_naive, time_of_week, wall_clock_earlier, wall_slot
from enms.ml.forecast_prophet import ProphetForecaster

TZ = "Europe/Berlin"
HOUR = pd.Timedelta("1h")
SPRING = pd.Timestamp("2025-03-30")  # 02:00 CET -> 03:00 CEST
AUTUMN = pd.Timestamp("2025-10-26")  # 03:00 CEST -> 02:00 CET


def _local_hours(day: pd.Timestamp) -> pd.DatetimeIndex:
    start = day.tz_localize(TZ).tz_convert("UTC")
    end = (day + pd.Timedelta(days=1)).tz_localize(TZ).tz_convert("UTC")
    return pd.date_range(start, end, freq="1h", inclusive="left")


def test_wall_slots_on_both_dst_days() -> None:
    spring = _local_hours(SPRING)
    assert len(spring) == 23
    assert wall_slot(spring, TZ, HOUR).tolist() == [0, 1, *range(3, 24)]
    autumn = _local_hours(AUTUMN)
    assert len(autumn) == 25
    assert wall_slot(autumn, TZ, HOUR).tolist() == [0, 1, 2, 2, *range(3, 24)]
    quarter = pd.date_range(spring[0], periods=23 * 4, freq="15min")
    assert wall_slot(quarter, TZ, pd.Timedelta("15min"))[8] == 12  # 03:00 CEST is slot 12
    week_key, type_key = time_of_week(autumn, TZ, HOUR)
    assert (week_key == 6 * 24 + wall_slot(autumn, TZ, HOUR)).all()  # a Sunday
    assert (type_key == 2 * 24 + wall_slot(autumn, TZ, HOUR)).all()


def test_seasonal_naive_reads_the_same_wall_clock_hour_a_week_earlier() -> None:
    after_spring = _local_hours(SPRING + pd.Timedelta(days=7))
    earlier = wall_clock_earlier(after_spring, TZ)
    assert (
        earlier.tz_convert(TZ).hour[[0, 5, 12]] == after_spring.tz_convert(TZ).hour[[0, 5, 12]]
    ).all()
    # 02:00 did not exist on the spring day: it moves on to 03:00 CEST
    assert earlier.tz_convert(TZ)[2].hour == 3
    idx = pd.date_range("2025-03-20", "2025-04-10", freq="1h", tz="UTC")
    frame = pd.DataFrame({TARGET: np.asarray(idx.tz_convert(TZ).hour, dtype=float)}, index=idx)
    naive = seasonal_naive(frame, HOUR, timezone=TZ).dropna()
    local_hour = pd.DatetimeIndex(naive.index).tz_convert(TZ).hour.to_numpy().astype(float)
    spring_gap = local_hour == 2  # a week after the gap, 02:00 has no reading a week back
    np.testing.assert_array_equal(naive.to_numpy()[~spring_gap], local_hour[~spring_gap])


def _plant(day: pd.Timestamp, seed: int) -> pd.DataFrame:
    """Hourly load that is high from 06:00 to 22:00 local time every day, four weeks
    before ``day`` and two days from it."""
    start = (day - pd.Timedelta(days=28)).tz_localize(TZ).tz_convert("UTC")
    idx = pd.date_range(start, periods=30 * 24, freq="1h")
    hour = np.asarray(idx.tz_convert(TZ).hour)
    rng = np.random.default_rng(seed)
    y = 10.0 + 40.0 * ((hour >= 6) & (hour < 22)) + rng.normal(0.0, 1.0, len(idx))
    return pd.DataFrame({TARGET: y}, index=idx)


@pytest.mark.parametrize("day", [SPRING, AUTUMN], ids=["spring", "autumn"])
@pytest.mark.parametrize("cls", [ArimaForecaster, ProphetForecaster])
def test_forecasts_follow_the_wall_clock_on_dst_days(
    day: pd.Timestamp, cls: type[ArimaForecaster] | type[ProphetForecaster]
) -> None:
    frame = _plant(day, seed=int(day.month))
    cut = day.tz_localize(TZ).tz_convert("UTC")
    model = cls(timezone=TZ).fit(frame[frame.index < cut])
    forecast = model.predict(frame)
    target = forecast[(forecast.index >= cut) & (forecast.index < cut + pd.Timedelta(hours=23))]
    local = pd.DatetimeIndex(target.index).tz_convert(TZ).hour
    busy = (local >= 6) & (local < 22)
    # the shift edges sit at 06:00 and 22:00 on the wall clock, not an hour off
    assert target[busy].min() > 30.0
    assert target[~busy].max() < 30.0
