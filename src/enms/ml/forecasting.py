"""Rolling-origin evaluation of forecasters, and the time grid both forecasters share.

This module owns how a forecast is *used* and judged: forecasts are issued at origins on a
grid (every ``horizon`` steps, aligned to UTC midnight, so a one-day horizon gives the
classic day-ahead forecast issued at 00:00 UTC), each conditioned only on readings stamped
before its origin with the fitted version's parameters -- no refit, no peeking at actuals
after the origin. Every forecaster (``forecast_arima``, ``forecast_prophet``) exposes
``forecast(frame, *, alpha)`` returning one row per target timestamp with its origin, lead
``step`` (1 = the first slot after the origin), point ``forecast`` and the ``lower``/``upper``
bounds of the central ``1 - alpha`` prediction interval.

The evaluation compares against the weekly seasonal-naive forecast (same slot one week
earlier) on exactly the same targets and reports ``mape, rmse, mae, skill, coverage, n``
overall and per hour-ahead bucket. ``skill = 1 - RMSE/RMSE_naive`` (> 0 beats naive).

Drivers are treated as *known in advance* at forecast time: a production schedule is known
day-ahead; outdoor temperature is taken from the readings, i.e. perfect-foresight weather,
so the part of the skill that comes from weather is an upper bound of what a run fed by a
weather forecast achieves. Fit with ``drivers=()`` to forecast from energy alone.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np
import pandas as pd

from enms.ml.base import TARGET, EnergyModel, InsufficientData
from enms.ml.features import driver_columns, validate_frame
from enms.ml.metrics import MetricUndefined, forecast_skill, interval_coverage, mae, mape, rmse

WEEK = pd.Timedelta(days=7)
DAY = pd.Timedelta(days=1)
HOUR = pd.Timedelta(hours=1)
FORECAST_COLUMNS = ("origin", "step", "forecast", "lower", "upper")
TEMPERATURE = "outdoor_temp_c"
TEMP_KNOTS = (5.0, 10.0, 15.0, 20.0)
"""Hinge points (°C) of the temperature spline; around usual heating/cooling balance points."""


def infer_step(index: pd.DatetimeIndex) -> pd.Timedelta:
    """The reading interval: the most common spacing between timestamps.

    >>> infer_step(pd.date_range("2024-01-01", periods=5, freq="15min", tz="UTC"))
    Timedelta('0 days 00:15:00')
    """
    if len(index) < 2:
        raise InsufficientData("need at least two readings to know their interval")
    diffs = pd.Series(index[1:] - index[:-1])
    step = pd.Timedelta(diffs.mode().iloc[0])
    if step <= pd.Timedelta(0) or DAY % step != pd.Timedelta(0):
        raise ValueError(f"reading interval {step} does not divide a day evenly")
    return step


def regular(frame: pd.DataFrame, step: pd.Timedelta) -> pd.DataFrame:
    """``frame`` on a gap-free grid of ``step`` (missing slots become NaN rows)."""
    grid = pd.date_range(frame.index[0], frame.index[-1], freq=step, tz="UTC")
    return frame if len(grid) == len(frame) else frame.reindex(grid)


def select_drivers(frame: pd.DataFrame, drivers: tuple[str, ...] | None) -> list[str]:
    """Driver columns to use: ``drivers`` as given, or every numeric driver that varies."""
    if drivers is not None:
        missing = [d for d in drivers if d not in frame.columns]
        if missing:
            raise InsufficientData(f"driver column(s) {missing} are not in the readings")
        return list(drivers)
    return [c for c in driver_columns(frame) if frame[c].dropna().nunique() > 1]


def driver_table(frame: pd.DataFrame, drivers: list[str], fill: dict[str, float]) -> pd.DataFrame:
    """Regressor columns for ``drivers``: gaps filled, temperature as a linear spline.

    Heating and cooling make energy piecewise linear in outdoor temperature, so
    ``outdoor_temp_c`` also enters as hinge terms ``max(0, T - k)`` at :data:`TEMP_KNOTS`; a
    single linear slope learnt in winter would extrapolate badly into summer.

    >>> f = pd.DataFrame({"outdoor_temp_c": [0.0, 20.0]})
    >>> driver_table(f, ["outdoor_temp_c"], {}).iloc[1].tolist()
    [20.0, 15.0, 10.0, 5.0, 0.0]
    """
    table = pd.DataFrame(index=frame.index)
    for name in drivers:
        values = frame[name].astype(float).ffill().bfill().fillna(fill.get(name, 0.0))
        table[name] = values
        if name == TEMPERATURE:
            for knot in TEMP_KNOTS:
                table[f"{name}_above_{knot:g}"] = np.maximum(0.0, values - knot)
    return table


def check_drivers(frame: pd.DataFrame, drivers: list[str]) -> None:
    """Raise if a driver the model was fitted with is missing from ``frame``."""
    missing = [d for d in drivers if d not in frame.columns]
    if missing:
        raise ValueError(f"frame lacks driver column(s) {missing} the model was fitted with")


def check_horizon(horizon: int, step: pd.Timedelta) -> None:
    """A horizon is at least one step and at most a week (the naive reference's lag)."""
    if not 1 <= horizon <= WEEK // step:
        raise ValueError(
            f"horizon must be 1..{WEEK // step} steps of {step} (at most one week), got {horizon}"
        )


def offday_mask(local: pd.DatetimeIndex, country: str | None) -> np.ndarray:
    """True on Sundays and public holidays of ``country`` (local calendar dates)."""
    mask = np.asarray(local.day_of_week == 6)
    if country:
        import holidays  # local: only forecasters with a country need the calendar

        years = sorted(set(local.year))
        days = holidays.country_holidays(country, years=years)
        dates = pd.DatetimeIndex(pd.to_datetime(sorted(days.keys())))
        mask |= np.asarray(local.normalize().tz_localize(None).isin(dates))
    return mask


def origin_positions(index: pd.DatetimeIndex, step: pd.Timedelta, horizon: int) -> np.ndarray:
    """Positions of forecast origins: the first slot and every ``horizon`` steps from 00:00 UTC.

    >>> idx = pd.date_range("2024-01-01 22:00", periods=30, freq="1h", tz="UTC")
    >>> origin_positions(idx, pd.Timedelta("1h"), 24).tolist()
    [0, 2, 26]
    """
    slot = np.asarray((index - index.normalize()) // step, dtype=np.int64)
    day = np.asarray((index.normalize() - pd.Timestamp(0, tz="UTC")) // DAY, dtype=np.int64)
    steps_per_day = DAY // step
    absolute = day * steps_per_day + slot
    positions = np.flatnonzero(absolute % horizon == 0)
    if len(positions) == 0 or positions[0] != 0:
        positions = np.concatenate([[0], positions])
    return positions


def long_forecast(
    index: pd.DatetimeIndex,
    positions: np.ndarray,
    horizon: int,
    mean: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
) -> pd.DataFrame:
    """Assemble the per-target forecast frame from per-origin ``(n_origins, horizon)`` arrays.

    An origin's forecasts stop where the next origin takes over, so every target appears
    once, forecast from the latest origin at or before it.
    """
    bounds = [*positions[1:].tolist(), len(index)]
    origin_pos, rows, cols = [], [], []
    for i, k in enumerate(positions):
        span = min(k + horizon, bounds[i]) - k
        origin_pos.append(np.full(span, k))
        rows.append(np.full(span, i))
        cols.append(np.arange(span))
    row, col = np.concatenate(rows), np.concatenate(cols)
    org = np.concatenate(origin_pos)
    return pd.DataFrame(
        {
            "origin": index[org],
            "step": col + 1,
            "forecast": mean[row, col],
            "lower": lower[row, col],
            "upper": upper[row, col],
        },
        index=index[org + col],
    )


class Forecaster(EnergyModel):
    """Shared surface of the forecasters: tiled rolling-origin forecasts and intervals."""

    horizon_: int
    step_: pd.Timedelta

    @abstractmethod
    def forecast(self, frame: pd.DataFrame, *, alpha: float = 0.1) -> pd.DataFrame:
        """Forecasts for ``frame``'s timestamps from origins on the grid (see module)."""

    def predict(self, frame: pd.DataFrame) -> pd.Series:
        """Point forecasts aligned to ``frame.index`` (each from its latest origin)."""
        self._check_fitted()
        out = self.forecast(frame)["forecast"].reindex(frame.index)
        return out.rename(TARGET)

    def predict_interval(self, frame: pd.DataFrame, alpha: float = 0.1) -> pd.DataFrame:
        """``lower``/``upper`` bounds of the central ``1 - alpha`` interval per timestamp."""
        self._check_fitted()
        if not 0.0 < alpha < 1.0:
            raise ValueError(f"alpha must lie in (0, 1), got {alpha}")
        return self.forecast(frame, alpha=alpha)[["lower", "upper"]].reindex(frame.index)


def seasonal_naive(frame: pd.DataFrame, step: pd.Timedelta) -> pd.Series:
    """Weekly seasonal-naive forecast: the reading in the same slot one week earlier."""
    grid = regular(validate_frame(frame), step)[TARGET]
    naive = grid.shift(WEEK // step)
    return naive.reindex(frame.index)


@dataclass(frozen=True)
class ForecastEvaluation:
    """Rolling-origin scores of a forecaster and of the seasonal-naive reference."""

    overall: dict[str, float | None]
    by_lead: list[dict[str, float | None]]
    undefined: dict[str, str] = field(default_factory=dict)
    n_origins: int = 0
    alpha: float = 0.1
    naive_rmse: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict with lower-snake-case metric keys."""
        return {
            **self.overall,
            "n_origins": self.n_origins,
            "nominal_coverage": 1.0 - self.alpha,
            "naive_rmse": self.naive_rmse,
            "by_lead": self.by_lead,
            "undefined": self.undefined,
        }


def _scores(part: pd.DataFrame, undefined: dict[str, str], prefix: str) -> dict[str, float | None]:
    y, f, ref = part["actual"], part["forecast"], part["naive"]
    funcs: dict[str, Callable[[], float]] = {
        "mape": lambda: mape(y, f),
        "rmse": lambda: rmse(y, f),
        "mae": lambda: mae(y, f),
        "skill": lambda: forecast_skill(y, f, ref),
        "coverage": lambda: interval_coverage(y, part["lower"], part["upper"]),
    }
    values: dict[str, float | None] = {}
    for key, func in funcs.items():
        try:
            values[key] = func()
        except MetricUndefined as exc:
            values[key] = None
            undefined[f"{prefix}{key}"] = exc.reason
    values["n"] = float(len(part))
    return values


def evaluate_forecaster(
    model: Forecaster,
    frame: pd.DataFrame,
    *,
    start: pd.Timestamp | None = None,
    alpha: float = 0.1,
) -> ForecastEvaluation:
    """Score rolling-origin forecasts with origins at or after ``start``.

    ``frame`` holds the readings to forecast *and* the context before ``start`` (at least
    one week, which the seasonal-naive reference needs). ``start`` defaults to one week
    after the first reading, and origins earlier than that are never scored (they have no
    reference). Only targets where the actual, the forecast and the naive reference all
    exist are scored, so both are judged on the same points.
    """
    frame = validate_frame(frame)
    step = model.step_
    first = frame.index[0] + WEEK
    if start is not None:
        start = pd.Timestamp(start)
        start = start.tz_localize("UTC") if start.tzinfo is None else start  # naive = UTC
    start = first if start is None else max(start, first)
    if start > frame.index[-1]:
        raise InsufficientData(
            "evaluation needs a week of readings before the first scored origin "
            f"(seasonal-naive reference); the frame spans only {frame.index[-1] - frame.index[0]}"
        )
    fc = model.forecast(frame, alpha=alpha)
    fc = fc[fc["origin"] >= start]
    table = fc.assign(
        actual=frame[TARGET].reindex(fc.index).to_numpy(),
        naive=seasonal_naive(frame, step).reindex(fc.index).to_numpy(),
    ).dropna(subset=["actual", "forecast", "naive", "lower", "upper"])
    undefined: dict[str, str] = {}
    overall = _scores(table, undefined, "")
    lead = np.ceil(table["step"].to_numpy() * (step / HOUR)).astype(int)
    by_lead = []
    for hours, part in table.groupby(lead, sort=True):
        ahead = cast(int, hours)
        by_lead.append({"hours_ahead": float(ahead), **_scores(part, undefined, f"{ahead}h.")})
    naive_rmse = None
    if len(table):
        naive_rmse = rmse(table["actual"], table["naive"])
    return ForecastEvaluation(
        overall=overall,
        by_lead=by_lead,
        undefined=undefined,
        n_origins=int(table["origin"].nunique()),
        alpha=alpha,
        naive_rmse=naive_rmse,
    )
