"""The candidate models ``forecast_arima`` chooses from, one small class each.

Every candidate works on a regular grid at the working resolution (hourly for sub-hourly
readings), is fitted once, and issues ``(n_origins, horizon)`` mean paths from any origin
positions using only the values before each origin (Kalman filtering with fixed
parameters, :mod:`enms.ml.forecast_statespace`). Seasonality follows the machine's wall
clock (:func:`enms.ml.forecast_grid.time_of_week`).

* :class:`WeeklyDiffSarima` -- SARIMA(2,0,1)(0,0,1)\\ :sub:`day` on the weekly difference
  ``y_t - y_(t-1 week)``: last week's level plus what the last hours say about the change.
* :class:`MstlArima` -- MSTL(day, week) of the last weeks; the latest daily + weekly
  seasonal pattern is repeated, and ARIMA(2,1,1) forecasts the rest (trend + remainder).
* :class:`ProfileArma` -- mean time-of-week profile (holidays as Sundays) plus a regression
  on the planned drivers, ARMA(2,0,1) on the residual standardised per day type and slot.

The weekly seasonal naive itself is handled by the forecaster at the native interval.
"""

from __future__ import annotations

import warnings
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import ClassVar, Self

import numpy as np
import pandas as pd

from enms.ml.base import TARGET
from enms.ml.forecast_base import driver_table
from enms.ml.forecast_grid import DAY, WEEK, seasonal_naive, target_positions, time_of_week
from enms.ml.forecast_statespace import ArimaSpec, arima_paths, fit_arima


@dataclass(frozen=True)
class Calendar:
    """Where the machine is: its clock (``timezone``), holidays and working interval."""

    timezone: str
    country: str | None
    step: pd.Timedelta

    @property
    def per_day(self) -> int:
        return int(DAY // self.step)


def _tail(series: pd.Series, days: float) -> pd.Series:
    out: pd.Series = series[series.index > series.index[-1] - pd.Timedelta(days=days)]
    return out


class Candidate(ABC):
    """One forecasting method at the working resolution."""

    name: ClassVar[str]
    drivers: list[str]

    @abstractmethod
    def fit(self, work: pd.DataFrame) -> Self:
        """Estimate from the work grid (readings up to the end of the fitting window)."""

    @abstractmethod
    def paths(self, work: pd.DataFrame, positions: np.ndarray, horizon: int) -> np.ndarray:
        """Mean paths from each origin position of ``work``."""


@dataclass
class WeeklyDiffSarima(Candidate):
    """SARIMA on the weekly difference (see module docstring)."""

    cal: Calendar
    fit_days: int = 28
    drivers: list[str] = field(default_factory=list)
    name: ClassVar[str] = "weekly_diff_sarima"

    def __post_init__(self) -> None:
        spd = self.cal.per_day
        self.spec = ArimaSpec((2, 0, 1), (0, 0, 1, spd) if spd >= 4 else (0, 0, 0, 0))

    def _split(self, work: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        y = work[[TARGET]].ffill()
        lag = seasonal_naive(y, self.cal.step, timezone=self.cal.timezone).to_numpy()
        return lag, work[TARGET].to_numpy(dtype=float) - lag

    def fit(self, work: pd.DataFrame) -> Self:
        _, w = self._split(work)
        window = w[-self.fit_days * self.cal.per_day :]
        self.params = fit_arima(self.spec, window)
        return self

    def paths(self, work: pd.DataFrame, positions: np.ndarray, horizon: int) -> np.ndarray:
        lag, w = self._split(work)
        mean = arima_paths(self.spec, self.params, w, positions, horizon)
        out: np.ndarray = lag[target_positions(positions, horizon, len(w))] + mean
        return out


@dataclass
class RecentWeeksSarima(WeeklyDiffSarima):
    """SARIMA on the difference from the mean of the last ``weeks`` weeks' same wall-clock
    slot: the weekly difference with a less noisy reference week."""

    weeks: int = 4
    name: ClassVar[str] = "recent_weeks_sarima"

    def _split(self, work: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        y = work[[TARGET]].ffill()
        tz, step = self.cal.timezone, self.cal.step
        lags = np.vstack(
            [
                seasonal_naive(y, step, timezone=tz, days=7 * k).to_numpy()
                for k in range(1, self.weeks + 1)
            ]
        )
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN slots at the start
            lag = np.nanmean(lags, axis=0)
        return lag, work[TARGET].to_numpy(dtype=float) - lag


@dataclass
class MstlArima(Candidate):
    """MSTL(day, week) + ARIMA on the deseasonalised series (see module docstring)."""

    cal: Calendar
    fit_weeks: int = 8
    arima_days: int = 28
    drivers: list[str] = field(default_factory=list)
    name: ClassVar[str] = "mstl_arima"
    spec: ClassVar[ArimaSpec] = ArimaSpec((2, 1, 1))

    def _keys(self, index: pd.Index) -> np.ndarray:
        key, _ = time_of_week(pd.DatetimeIndex(index), self.cal.timezone, self.cal.step)
        return key

    def fit(self, work: pd.DataFrame) -> Self:
        from statsmodels.tsa.seasonal import MSTL

        spd = self.cal.per_day
        if spd < 4:
            raise ValueError("MSTL needs at least four readings per day")
        y = _tail(work[TARGET], 7 * self.fit_weeks).interpolate(limit_direction="both")
        if len(y) < 2 * 7 * spd or y.isna().any():
            raise ValueError("MSTL needs two whole weeks of readings")
        seasonal = MSTL(y.to_numpy(), periods=(spd, 7 * spd)).fit().seasonal
        last = np.asarray(seasonal, dtype=float).sum(axis=1)[-7 * spd :]
        keys = self._keys(y.index[-7 * spd :])
        n_keys = 7 * spd
        counts = np.bincount(keys, minlength=n_keys)
        sums = np.bincount(keys, weights=last, minlength=n_keys)
        pattern = np.divide(sums, counts, out=np.full(n_keys, np.nan), where=counts > 0)
        # a slot absent from the last week (the spring DST gap) takes its neighbours' mean
        self.pattern = pd.Series(pattern).interpolate(limit_direction="both").to_numpy()
        d = work[TARGET].to_numpy(dtype=float) - self.pattern[self._keys(work.index)]
        self.params = fit_arima(self.spec, d[-self.arima_days * spd :])
        return self

    def paths(self, work: pd.DataFrame, positions: np.ndarray, horizon: int) -> np.ndarray:
        keys = self._keys(work.index)
        d = work[TARGET].to_numpy(dtype=float) - self.pattern[keys]
        mean = arima_paths(self.spec, self.params, d, positions, horizon)
        out: np.ndarray = self.pattern[keys[target_positions(positions, horizon, len(d))]] + mean
        return out


@dataclass
class ProfileArma(Candidate):
    """Time-of-week profile + planned-driver regression + ARMA on the residual."""

    cal: Calendar
    drivers: list[str] = field(default_factory=list)
    order: tuple[int, int, int] = (2, 0, 1)
    arma_window_days: int = 56
    name: ClassVar[str] = "profile_arma"

    def _design(self, work: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        week_key, type_key = time_of_week(
            pd.DatetimeIndex(work.index), self.cal.timezone, self.cal.step, self.cal.country
        )
        fill = dict(zip(self.drivers, self.driver_means, strict=True))
        x = driver_table(work, self.drivers, fill).to_numpy(dtype=float).reshape(len(work), -1)
        return week_key, type_key, x

    def fit(self, work: pd.DataFrame) -> Self:
        data = work.dropna(subset=[TARGET])
        self.driver_means = [float(data[d].mean()) for d in self.drivers]
        week_key, type_key, x = self._design(data)
        y = data[TARGET].to_numpy(dtype=float)
        spd = self.cal.per_day
        n_keys = 7 * spd
        counts = np.bincount(week_key, minlength=n_keys).astype(float)
        have = counts > 0

        def slot_mean(v: np.ndarray) -> np.ndarray:
            sums = np.bincount(week_key, weights=v, minlength=n_keys)
            out: np.ndarray = np.divide(sums, counts, out=np.full(n_keys, np.nan), where=have)
            return out

        # fixed-effects regression: demean y and drivers within each time-of-week slot
        if x.shape[1]:
            xd = x - np.column_stack([slot_mean(x[:, j]) for j in range(x.shape[1])])[week_key]
            coef, *_ = np.linalg.lstsq(xd, y - slot_mean(y)[week_key], rcond=None)
        else:
            coef = np.zeros(0)
        self.coef = coef
        profile = slot_mean(y - x @ coef)
        by_slot = pd.Series(profile).groupby(np.arange(n_keys) % spd).transform("mean")
        profile = np.where(have, profile, by_slot.to_numpy())
        self.profile = np.nan_to_num(profile, nan=float(np.nanmean(profile)))
        resid = y - self.profile[week_key] - x @ coef
        spread = pd.Series(resid).groupby(type_key).std().reindex(range(3 * spd))
        floor = max(float(np.nanstd(resid)) * 0.05, 1e-9)
        self.scale = spread.fillna(float(np.nanstd(resid))).clip(lower=floor).to_numpy()
        z = pd.Series(resid / self.scale[type_key], index=data.index)
        z = z.reindex(work.index)
        window = _tail(z, self.arma_window_days).to_numpy()
        self.spec = ArimaSpec(self.order)
        self.params = fit_arima(self.spec, window)
        return self

    def paths(self, work: pd.DataFrame, positions: np.ndarray, horizon: int) -> np.ndarray:
        week_key, type_key, x = self._design(work)
        det = self.profile[week_key] + x @ self.coef
        scale = self.scale[type_key]
        z = (work[TARGET].to_numpy(dtype=float) - det) / scale
        mean = arima_paths(self.spec, self.params, z, positions, horizon)
        targets = target_positions(positions, horizon, len(z))
        out: np.ndarray = det[targets] + scale[targets] * mean
        return out


__all__ = [
    "WEEK",
    "Calendar",
    "Candidate",
    "MstlArima",
    "ProfileArma",
    "RecentWeeksSarima",
    "WeeklyDiffSarima",
]
