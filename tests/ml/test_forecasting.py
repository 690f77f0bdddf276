"""Rolling-origin evaluation: origin grid, seasonal-naive reference, same-point scoring."""

from __future__ import annotations

from typing import Self

import numpy as np
import pandas as pd
import pytest

from enms.ml.base import TARGET, InsufficientData
from enms.ml.forecast_arima import ArimaForecaster
from enms.ml.forecast_prophet import ProphetForecaster
from enms.ml.forecasting import (
    Forecaster,
    evaluate_forecaster,
    origin_positions,
    seasonal_naive,
)


def _series(days: int, freq: str = "1h", seed: int = 0) -> pd.DataFrame:
    idx = pd.date_range(
        "2025-03-03", periods=days * (pd.Timedelta("1D") // pd.Timedelta(freq)), freq=freq, tz="UTC"
    )
    rng = np.random.default_rng(seed)
    hour = idx.hour.to_numpy()
    busy = (idx.day_of_week.to_numpy() < 5) & (hour >= 6) & (hour < 20)
    y = 10.0 + 30.0 * busy + rng.normal(0.0, 2.0, len(idx))
    return pd.DataFrame({TARGET: y}, index=idx)


class _Oracle(Forecaster):
    """Forecasts a fixed series (the truth, or the naive) to pin the scoring arithmetic."""

    model_type = "forecast_test"

    def __init__(self, *, source: str = "truth", drivers: tuple[str, ...] = ()) -> None:
        self.source = source
        self.drivers = drivers

    def fit(self, frame: pd.DataFrame) -> Self:
        self.step_ = pd.Timedelta("1h")
        self.horizon_ = 24
        self.drivers_ = list(self.drivers)
        return self

    def paths(
        self, grid: pd.DataFrame, positions: np.ndarray, *, alpha: float
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        values = grid[TARGET] if self.source == "truth" else seasonal_naive(grid, self.step_)
        tgt = np.minimum(positions[:, None] + np.arange(24)[None, :], len(grid) - 1)
        mean = values.to_numpy()[tgt]
        return mean, mean - 1.0, mean + 1.0


def test_origins_fall_on_utc_midnights_and_targets_tile_once() -> None:
    frame = _series(10).iloc[5:]  # starts at 05:00, so the first origin is the frame start
    index = pd.DatetimeIndex(frame.index)
    pos = origin_positions(index, pd.Timedelta("1h"), 24)
    assert pos[0] == 0
    assert all(index[p].hour == 0 for p in pos[1:])
    fc = _Oracle().fit(frame).forecast(frame)
    assert fc.index.equals(frame.index)  # every target exactly once, in order
    assert fc["step"].max() == 24
    assert (fc.loc[fc["origin"] == index[pos[1]], "step"] == np.arange(1, 25)).all()


def test_seasonal_naive_is_the_same_slot_one_week_earlier() -> None:
    frame = _series(15)
    naive = seasonal_naive(frame, pd.Timedelta("1h"))
    assert naive.iloc[:168].isna().all()
    np.testing.assert_array_equal(naive.iloc[168:].to_numpy(), frame[TARGET].iloc[:-168])


def test_perfect_forecast_has_skill_one_and_naive_has_skill_zero() -> None:
    frame = _series(21)
    perfect = evaluate_forecaster(_Oracle().fit(frame), frame).to_dict()
    assert perfect["skill"] == pytest.approx(1.0)
    assert perfect["rmse"] == 0.0
    assert perfect["coverage"] == 1.0
    # origins every 6 h over the last 14 days; the last three run past the frame's end
    assert perfect["n_origins"] == 14 * 4
    assert perfect["n"] == 53 * 24 + 18 + 12 + 6
    assert perfect["origin_every_hours"] == 6.0
    assert perfect["drivers_used"] == []
    assert perfect["skill_upper_bound"] is False
    assert perfect["references"]["weekly_naive"]["skill"] == pytest.approx(0.0)
    naive = evaluate_forecaster(_Oracle(source="naive").fit(frame), frame)
    assert naive.overall["skill"] == pytest.approx(0.0)
    assert naive.naive_rmse == pytest.approx(naive.overall["rmse"])
    assert [b["hours_ahead"] for b in naive.by_lead] == [float(h) for h in range(1, 25)]
    assert set(naive.by_lead[0]) == {"hours_ahead", "mape", "rmse", "mae", "skill", "coverage", "n"}
    daily = naive.references["daily_naive"]
    # the daily naive of this weekday-shift series is worse than the weekly one (weekends)
    assert daily["skill"] is not None
    assert daily["skill"] < 0.0


def test_lead_time_is_not_the_hour_of_day() -> None:
    frame = _series(10)
    fc = _Oracle().fit(frame).forecast_from(frame, every=pd.Timedelta(hours=6))
    origins = pd.DatetimeIndex(fc["origin"].unique())
    assert set(origins.hour) == {0, 6, 12, 18}
    # the same lead from different origins lands on different hours of the day
    assert set(pd.DatetimeIndex(fc.index[fc["step"] == 1]).hour) == {0, 6, 12, 18}
    full = fc[fc["origin"] == origins[1]]
    assert full["step"].tolist() == list(range(1, 25))
    lead = pd.DatetimeIndex(full.index) - pd.DatetimeIndex(full["origin"])
    assert (lead // pd.Timedelta("1h")).tolist() == list(range(24))


def test_skill_is_an_upper_bound_only_with_an_undeclared_driver() -> None:
    frame = _series(21).assign(outdoor_temp_c=5.0, production_units=1.0)
    planned = evaluate_forecaster(_Oracle(drivers=("production_units",)).fit(frame), frame)
    assert planned.drivers_used == ["production_units"]
    assert planned.skill_upper_bound is False
    measured = _Oracle(drivers=("outdoor_temp_c",)).fit(frame)
    assert evaluate_forecaster(measured, frame).skill_upper_bound is True
    # a machine that declares a temperature column as planned (a weather forecast) is honest
    declared = evaluate_forecaster(measured, frame, planned=("outdoor_temp_c",))
    assert declared.skill_upper_bound is False
    undeclared = _Oracle(drivers=("production_units",)).fit(frame)
    assert evaluate_forecaster(undeclared, frame, planned=()).to_dict()["skill_upper_bound"]


def test_evaluation_needs_a_week_of_context_for_the_naive_reference() -> None:
    frame = _series(6)
    with pytest.raises(InsufficientData, match="a week of readings"):
        evaluate_forecaster(_Oracle().fit(frame), frame)


@pytest.mark.parametrize("cls", [ArimaForecaster, ProphetForecaster])
def test_forecast_at_an_origin_ignores_actuals_after_it(
    cls: type[ArimaForecaster] | type[ProphetForecaster],
) -> None:
    frame = _series(28, seed=1)
    train, rest = frame.iloc[: 21 * 24], frame.iloc[21 * 24 :]
    model = cls(timezone="UTC").fit(train)
    origin = rest.index[3 * 24]  # midnight of the fourth forecast day
    before = model.forecast(rest)
    changed = rest.copy()
    changed.loc[changed.index >= origin, TARGET] *= 3.0  # rewrite everything from the origin
    after = model.forecast(changed)
    same = before["origin"] <= origin
    pd.testing.assert_frame_equal(before[same], after[same])
    if cls is ArimaForecaster:
        # the ARIMA does condition on the past: rewriting the day before the origin moves it
        earlier = rest.copy()
        earlier.loc[
            (earlier.index < origin) & (earlier.index >= origin - pd.Timedelta("1D")), TARGET
        ] += 20.0
        moved = model.forecast(earlier)
        at = before["origin"] == origin
        assert not np.allclose(moved.loc[at, "forecast"], before.loc[at, "forecast"])


def test_a_shorter_horizon_issues_origins_twice_a_day_and_a_week_is_the_limit() -> None:
    frame = _series(28, seed=2)
    model = ArimaForecaster(timezone="UTC", horizon=12).fit(frame.iloc[: 21 * 24])
    fc = model.forecast(frame.iloc[21 * 24 :])
    assert fc["step"].max() == 12
    assert set(pd.DatetimeIndex(fc["origin"].unique()).hour) == {0, 12}
    with pytest.raises(ValueError, match="at most one week"):
        ArimaForecaster(horizon=24 * 7 + 1).fit(frame)
