"""The shared surface of the forecasters: drivers, working resolution, origins and intervals.

This module owns what ``forecast_arima`` and ``forecast_prophet`` have in common:

* **drivers** are *planned* drivers only (``drivers=()`` by default: calendar and holidays
  alone). A driver is whatever the caller declares known at the origin -- a production
  plan, a shift schedule, a weather *forecast* column; the measured outdoor temperature
  (:data:`MEASURED_ONLY`) is never used unless a caller passes it explicitly, and then every
  evaluation says its skill is an upper bound.
* **working resolution**: sub-hourly readings are modelled as hourly means (in per-reading
  units) and forecasts are disaggregated back to the reading interval with the machine's
  mean intra-hour shape per wall-clock time-of-week slot (:class:`Resolution`).
* **origins**: :meth:`Forecaster.paths` gives ``(mean, lower, upper)`` arrays for any set
  of origin positions, each using only readings before its origin; ``forecast`` tiles
  them (one origin per ``horizon`` from 00:00 UTC, every target once) and
  ``forecast_from`` overlaps them (origins every few hours, every lead of each).
* **intervals**: empirical quantiles of the validation residuals by lead
  (:mod:`enms.ml.forecast_select`), stored in ``resid_``.
"""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from enms.ml.base import TARGET, EnergyModel, InsufficientData, MissingColumns
from enms.ml.features import validate_frame
from enms.ml.forecast_grid import (
    HOUR,
    every_positions,
    infer_step,
    origin_positions,
    regular,
    target_positions,
    time_of_week,
)
from enms.ml.forecast_select import (
    cross_fitted_coverage,
    interval_offsets,
    lead_hours,
    selection_report,
)

TEMPERATURE = "outdoor_temp_c"
TEMP_KNOTS = (5.0, 10.0, 15.0, 20.0)
"""Hinge points (°C) of the temperature spline; around usual heating/cooling balance points."""
MEASURED_ONLY = (TEMPERATURE,)
"""Columns that are measurements of the target hour, never known a day ahead."""
FORECAST_COLUMNS = ("origin", "step", "forecast", "lower", "upper")
SIX_HOURS = pd.Timedelta(hours=6)
CONTINUE_WITHIN = pd.Timedelta(weeks=4)
"""A frame starting this soon after training is prefixed with the stored training tail."""


def select_drivers(frame: pd.DataFrame, drivers: tuple[str, ...] | None) -> list[str]:
    """The planned driver columns, checked to be present in the training frame.

    ``None`` (a JSON ``null`` override) means none: drivers are never guessed from the
    frame, because a measured column is not known a day ahead.
    """
    drivers = drivers or ()
    missing = [d for d in drivers if d not in frame.columns]
    if missing:
        raise InsufficientData(f"planned driver column(s) {missing} are not in the readings")
    return list(drivers)


def driver_table(frame: pd.DataFrame, drivers: list[str], fill: dict[str, float]) -> pd.DataFrame:
    """Regressor columns for ``drivers``: gaps filled, temperature as a linear spline.

    A planned driver is known for the whole horizon, so gaps are filled from both sides.

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
    """Raise :class:`MissingColumns` if a driver the model uses is missing from ``frame``."""
    missing = [d for d in drivers if d not in frame.columns]
    if missing:
        raise MissingColumns(missing)


@dataclass(frozen=True)
class Resolution:
    """Native reading interval and the (hourly or coarser) interval models work at."""

    native: pd.Timedelta
    timezone: str

    @property
    def work(self) -> pd.Timedelta:
        return max(self.native, HOUR)

    def to_work(self, grid: pd.DataFrame) -> pd.DataFrame:
        """Hourly means (per-reading units) of a native grid; the grid itself if hourly+."""
        if self.native >= HOUR:
            return grid
        return regular(grid.resample(HOUR).mean(), HOUR)

    def intra_hour(self, grid: pd.DataFrame) -> np.ndarray:
        """Mean deviation of a reading from its hour's mean, per wall-clock native slot."""
        key, _ = time_of_week(pd.DatetimeIndex(grid.index), self.timezone, self.native)
        n_keys = 7 * (pd.Timedelta(days=1) // self.native)
        if self.native >= HOUR:
            return np.zeros(n_keys)
        y = grid[TARGET]
        hours = pd.DatetimeIndex(y.index).floor(HOUR)
        dev = (y - y.groupby(hours).transform("mean")).to_numpy(dtype=float)
        ok = np.isfinite(dev)
        sums = np.bincount(key[ok], weights=dev[ok], minlength=n_keys)
        counts = np.bincount(key[ok], minlength=n_keys)
        return np.divide(sums, counts, out=np.zeros(n_keys), where=counts > 0)

    def work_horizon(self, horizon: int) -> int:
        return int(np.ceil(horizon * (self.native / self.work))) + 1

    def work_positions(
        self, grid: pd.DataFrame, work: pd.DataFrame, positions: np.ndarray
    ) -> np.ndarray:
        """Work-grid position of each native origin (the hour it falls in: only complete
        hours before the origin are used)."""
        if self.native >= HOUR:
            return positions
        hours = pd.DatetimeIndex(grid.index[positions]).floor(HOUR)
        return np.asarray(pd.DatetimeIndex(work.index).get_indexer(hours), dtype=np.int64)

    def to_native(
        self,
        grid: pd.DataFrame,
        work: pd.DataFrame,
        positions: np.ndarray,
        horizon: int,
        work_mean: np.ndarray,
        intra: np.ndarray,
    ) -> np.ndarray:
        """Native ``(n, horizon)`` paths from work-resolution ``work_mean`` paths."""
        if self.native >= HOUR:
            return work_mean[:, :horizon]
        index = pd.DatetimeIndex(grid.index)
        targets = target_positions(positions, horizon, len(index))
        origin_hour = index[positions].floor(HOUR)
        target_hour = index[targets.ravel()].floor(HOUR)
        lead = (target_hour - np.repeat(origin_hour, horizon)) // HOUR
        lead = np.clip(np.asarray(lead, dtype=np.int64).reshape(targets.shape), 0, None)
        lead = np.minimum(lead, work_mean.shape[1] - 1)
        rows = np.arange(len(positions))[:, None]
        key, _ = time_of_week(index, self.timezone, self.native)
        out: np.ndarray = work_mean[rows, lead] + intra[key[targets]]
        return out


class Forecaster(EnergyModel):
    """Tiled and overlapping rolling-origin forecasts with empirical intervals."""

    horizon_: int
    step_: pd.Timedelta
    drivers_: list[str]
    resid_: np.ndarray
    winner_: str
    report_: dict[str, Any]
    timezone: str

    @abstractmethod
    def paths(
        self, grid: pd.DataFrame, positions: np.ndarray, *, alpha: float
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(mean, lower, upper)``, each ``(len(positions), horizon_)``, for origins at
        ``positions`` of the regular ``grid``, each using only rows before its origin."""

    def _report(
        self, scores: dict[str, dict[str, Any]], start: pd.Timestamp, n_origins: int
    ) -> dict[str, Any]:
        """``report_``: the selection (winner ``winner_``) and flags; see forecast_select."""
        buckets = lead_hours(self.horizon_, self.step_)
        selection, flags = selection_report(
            winner=self.winner_,
            scores=scores,
            validation_start=start,
            n_origins=n_origins,
            every=pd.Timedelta(hours=int(getattr(self, "origin_every_hours", 6))),
            coverage=cross_fitted_coverage(self.resid_, buckets, 0.1),
            alpha=0.1,
        )
        return {"selection": selection, "flags": flags}

    def _intervals(
        self, mean: np.ndarray, alpha: float
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        lo, hi = interval_offsets(self.resid_, lead_hours(self.horizon_, self.step_), alpha)
        return mean, mean + lo[None, :], mean + hi[None, :]

    def _grid(self, frame: pd.DataFrame, alpha: float) -> pd.DataFrame:
        self._check_fitted()
        if not 0.0 < alpha < 1.0:
            raise ValueError(f"alpha must lie in (0, 1), got {alpha}")
        frame = validate_frame(frame)
        check_drivers(frame, self.drivers_)
        data = frame[[TARGET, *self.drivers_]].astype(float)
        history: pd.DataFrame | None = getattr(self, "history_", None)
        if history is not None and len(data):
            gap = data.index[0] - history.index[-1]
            if pd.Timedelta(0) < gap <= CONTINUE_WITHIN:
                # continue from the end of training: its last readings precede the frame
                data = pd.concat([history[[TARGET, *self.drivers_]], data])
        return regular(data, self.step_)

    def forecast(self, frame: pd.DataFrame, *, alpha: float = 0.1) -> pd.DataFrame:
        """Tiled forecasts: one row per timestamp of ``frame`` (columns ``origin, step,
        forecast, lower, upper``), each from the latest origin at or before it."""
        frame = validate_frame(frame)
        grid = self._grid(frame, alpha)
        index = pd.DatetimeIndex(grid.index)
        positions = origin_positions(index, self.step_, self.horizon_)
        out = long_forecast(
            index, positions, self.horizon_, *self.paths(grid, positions, alpha=alpha)
        )
        return out[out.index.isin(frame.index)]

    def forecast_from(
        self,
        frame: pd.DataFrame,
        *,
        every: pd.Timedelta = SIX_HOURS,
        start: pd.Timestamp | None = None,
        alpha: float = 0.1,
    ) -> pd.DataFrame:
        """Overlapping forecasts from origins every ``every`` (at or after ``start``): one
        row per (origin, lead), indexed by target; targets past the frame are left out."""
        frame = validate_frame(frame)
        grid = self._grid(frame, alpha)
        index = pd.DatetimeIndex(grid.index)
        positions = every_positions(index, every)
        if start is not None:
            positions = positions[index[positions] >= start]
        h = self.horizon_
        if len(positions) == 0:
            return pd.DataFrame(
                columns=list(FORECAST_COLUMNS), index=pd.DatetimeIndex([], tz="UTC")
            )
        mean, lower, upper = self.paths(grid, positions, alpha=alpha)
        raw = positions[:, None] + np.arange(h)[None, :]
        keep = raw < len(index)
        targets = target_positions(positions, h, len(index))
        out = pd.DataFrame(
            {
                "origin": index[np.broadcast_to(positions[:, None], raw.shape)[keep]],
                "step": np.broadcast_to(np.arange(1, h + 1)[None, :], raw.shape)[keep],
                "forecast": mean[keep],
                "lower": lower[keep],
                "upper": upper[keep],
            },
            index=index[targets[keep]],
        )
        return out[out.index.isin(frame.index)]

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


def long_forecast(
    index: pd.DatetimeIndex,
    positions: np.ndarray,
    horizon: int,
    mean: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
) -> pd.DataFrame:
    """Assemble the tiled per-target frame from per-origin ``(n_origins, horizon)`` arrays.

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


MIN_FIT = pd.Timedelta(days=14)
MIN_VALIDATION = pd.Timedelta(days=7)


def validation_start(model: Forecaster, data: pd.DataFrame) -> pd.Timestamp:
    """First instant of the held-out validation tail, after checking there is enough data:
    ``MIN_FIT`` to fit weekly seasonality and at least ``MIN_VALIDATION`` to validate."""
    days_param = int(getattr(model, "validation_days", 14))
    if days_param < 1 or int(getattr(model, "origin_every_hours", 6)) < 1:
        raise ValueError("validation_days and origin_every_hours must be at least 1")
    kind = model.model_type
    if len(data) < 2:
        raise InsufficientData(f"{kind} needs readings; got {len(data)} with energy")
    span = data.index[-1] - data.index[0]
    step = infer_step(pd.DatetimeIndex(data.index))
    if span < MIN_FIT + MIN_VALIDATION - step:
        raise InsufficientData(
            f"{kind} needs at least {(MIN_FIT + MIN_VALIDATION).days} days of readings: "
            f"{MIN_FIT.days} to learn weekly seasonality (two of each weekday) and "
            f"{MIN_VALIDATION.days} to validate its candidates; got {span}"
        )
    days = min(pd.Timedelta(days=days_param), span - MIN_FIT)
    return pd.Timestamp(data.index[-1] + step - days).ceil(HOUR)
