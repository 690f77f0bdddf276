"""``forecast_arima``: day-ahead forecasts from the best of four candidates, chosen per machine.

This module owns the ARIMA-family forecaster. ``fit`` holds out the last
``validation_days`` of the training window and issues day-ahead forecasts over it from
origins every ``origin_every_hours`` (several times of day), with each candidate fitted on
the readings before the held-out tail:

* ``seasonal_naive`` -- the same wall-clock slot one week earlier (the floor);
* ``weekly_diff_sarima``, ``recent_weeks_sarima``, ``mstl_arima``, ``profile_arma`` --
  see :mod:`enms.ml.forecast_candidates`.

The candidate with the lowest validation RMSE is refitted on the whole window and kept;
all candidates' validation MAPE/RMSE/skill go into ``report_["selection"]``, and a winner
whose skill against the weekly seasonal naive is not positive (the naive itself, or a
tie) adds ``"skill_not_positive"`` to ``report_["flags"]`` so promotion can refuse it.
The interval is the winner's empirical validation-residual quantiles by lead.

Why these candidates: on real load series without drivers, a fixed average week loses to
seasonal naive (it ignores last week's level), so two candidates carry the latest level
and pattern (the weekly difference, the latest MSTL seasonal), one keeps what the demo
plant rewarded (profile + planned drivers + ARMA, holidays as Sundays), and the naive
guarantees that the chosen candidate was at least as good as naive on validation. Held-out
skill on three real series without drivers (``benchmarks/scenarios/accuracy_forecast.py``,
8 weeks of training, 84-112 origins): 0.36 (UCI household, hourly), 0.36 (UCI
electricity, hourly), 0.27 (England & Wales demand, half-hourly), fits of 1.5-2.5 s.

statsmodels, not statsforecast: statsforecast 2.1.1's MSTL + AutoARIMA (numba, fitted
once, run over the same origins) scored 0.37 / 0.40 / 0.51 on the same targets but spent
26-151 s CPU per series (JIT included) against 1.5-2.5 s here, because it decomposes again
at every origin; it wins on accuracy but not on speed, so it is not a dependency.

Sub-hourly readings are modelled as hourly means and disaggregated with the intra-hour
shape (:class:`~enms.ml.forecast_base.Resolution`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Self

import numpy as np
import pandas as pd

from enms.ml.base import TARGET
from enms.ml.features import validate_frame
from enms.ml.forecast_base import Forecaster, Resolution, select_drivers, validation_start
from enms.ml.forecast_candidates import (
    Calendar,
    Candidate,
    MstlArima,
    ProfileArma,
    RecentWeeksSarima,
    WeeklyDiffSarima,
)
from enms.ml.forecast_grid import (
    DAY,
    HOUR,
    check_horizon,
    infer_step,
    regular,
)
from enms.ml.forecast_select import (
    actual_paths,
    naive_paths,
    select,
    validation_positions,
)

NAIVE = "seasonal_naive"
CANDIDATES: tuple[type[Candidate], ...] = (
    WeeklyDiffSarima,
    RecentWeeksSarima,
    MstlArima,
    ProfileArma,
)


class ArimaForecaster(Forecaster):
    """Best of seasonal naive, weekly-differenced SARIMA, MSTL + ARIMA and profile + ARMA.

    Parameters
    ----------
    horizon:
        Forecast horizon in steps of the data's interval; ``None`` means one day.
    drivers:
        *Planned* driver columns (known at the origin); ``()`` uses calendar only.
    timezone:
        IANA zone of the machine; seasonality follows its wall clock.
    country:
        ISO code whose public holidays count as Sundays; ``None`` for no holidays.
    validation_days:
        Days at the end of the training window held out to choose the candidate.
    origin_every_hours:
        Spacing of validation origins (several per day, so leads mean lead time).
    """

    model_type = "forecast_arima"

    def __init__(
        self,
        *,
        horizon: int | None = None,
        drivers: tuple[str, ...] = (),
        timezone: str = "Europe/Berlin",
        country: str | None = None,
        validation_days: int = 14,
        origin_every_hours: int = 6,
    ) -> None:
        self.horizon = horizon
        self.drivers = drivers
        self.timezone = timezone
        self.country = country
        self.validation_days = validation_days
        self.origin_every_hours = origin_every_hours

    def _make(self, name: str) -> Candidate:
        cal = Calendar(self.timezone, self.country, max(self.step_, HOUR))
        if name == ProfileArma.name:
            return ProfileArma(cal, drivers=list(self.drivers_))
        cls = {c.name: c for c in CANDIDATES}[name]
        return cls(cal)  # type: ignore[call-arg]

    def fit(self, frame: pd.DataFrame) -> Self:
        """Validate the candidates on the tail, refit the winner on the whole window."""
        frame = validate_frame(frame)
        data = frame.dropna(subset=[TARGET])
        val_start = validation_start(self, data)
        self.step_ = infer_step(pd.DatetimeIndex(data.index))
        self.horizon_ = int(self.horizon) if self.horizon is not None else int(DAY // self.step_)
        check_horizon(self.horizon_, self.step_)
        self.drivers_ = select_drivers(data, self.drivers)
        res = Resolution(self.step_, self.timezone)
        grid = regular(data[[TARGET, *self.drivers_]].astype(float), self.step_)
        work = res.to_work(grid)
        every = pd.Timedelta(hours=self.origin_every_hours)
        pos = validation_positions(pd.DatetimeIndex(grid.index), val_start, every)
        h = self.horizon_
        pre_work = work[work.index < val_start]
        intra = res.intra_hour(grid[grid.index < val_start])
        wpos = res.work_positions(grid, work, pos)

        def run(name: str) -> Callable[[], np.ndarray]:
            def paths() -> np.ndarray:
                cand = self._make(name).fit(pre_work)
                wm = cand.paths(work, wpos, res.work_horizon(h))
                return res.to_native(grid, work, pos, h, wm, intra)

            return paths

        naive = naive_paths(grid, self.step_, self.timezone, pos, h)
        runs: dict[str, Callable[[], np.ndarray]] = {NAIVE: lambda: naive}
        runs |= {c.name: run(c.name) for c in CANDIDATES}
        actual = actual_paths(grid[TARGET].to_numpy(dtype=float), pos, h)
        winner, scores, residuals = select(runs, actual, naive)
        self.winner_ = winner or NAIVE
        self.resid_ = residuals[self.winner_]
        self.report_ = self._report(scores, val_start, len(pos))
        self.candidate_: Candidate | None = None
        if self.winner_ != NAIVE:
            self.candidate_ = self._make(self.winner_).fit(work)
            if self.winner_ != ProfileArma.name:
                self.drivers_ = []  # only the profile candidate uses drivers
        self.intra_ = res.intra_hour(grid)
        self.history_ = grid[grid.index > grid.index[-1] - 2 * pd.Timedelta(days=7)]
        return self

    def paths(
        self, grid: pd.DataFrame, positions: np.ndarray, *, alpha: float
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Winner's mean paths from each origin, with the empirical interval."""
        h = self.horizon_
        if self.candidate_ is None:
            return self._intervals(
                naive_paths(grid, self.step_, self.timezone, positions, h), alpha
            )
        res = Resolution(self.step_, self.timezone)
        work = res.to_work(grid)
        wm = self.candidate_.paths(
            work, res.work_positions(grid, work, positions), res.work_horizon(h)
        )
        return self._intervals(res.to_native(grid, work, positions, h, wm, self.intra_), alpha)
