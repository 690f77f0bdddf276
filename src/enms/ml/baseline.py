"""The energy baseline (ISO 50001 EnB): expected energy from drivers, weather and schedule.

``energy ~ time-of-week + drivers + heating/cooling change-point terms``, fitted by OLS:

* time-of-week: one level per local hour of week for sub-daily data, per day of week for
  daily data (kept only when a nested F-test at ``max_term_pvalue`` prefers them to one
  level; CalTRACK's daily model has none), none for coarser data (local time from the
  ``timezone`` hyperparameter);
* drivers: ``production_units``, ``operating_hours`` and any other numeric column (or the
  ``drivers`` given); an auto-detected driver that is constant, or fully explained by the
  time-of-week levels, is dropped and named in ``summary_["dropped_drivers"]``;
* ``max(0, Tb_h − T)`` and ``max(0, T − Tb_c)`` on ``outdoor_temp_c``. Balance points are
  searched on a grid (step ``balance_point_step_c``) *inside* the observed temperatures,
  leaving at least ``min_days_beyond`` days' worth of readings on each side, and a term
  must have at least ``min_share_beyond`` of the readings (and that many days' worth)
  beyond its balance point (CalTRACK: 10 % and 10 days). A term is kept only when its
  best balance point is interior to the grid (an edge optimum means no kink was found:
  the "term" would be a linear trend), its slope is positive and significant at
  ``max_term_pvalue`` and it lowers SSR/dof (raises adjusted R²). CalTRACK uses p < 0.10
  per term; the grid tries ~50 candidates per term, so the default 0.01 is a rough
  multiple-comparison correction of that rule. A chosen term must also survive a level
  shift: when the weather-free residuals show a change in level, the selection is redone
  with that shift (additive and proportional to the drivers) as extra regressors, at
  CalTRACK's p < 0.10, and a term it no longer selects is dropped — a leak that starts in
  June is not a cooling load;
* temperature basis (sub-daily data, ``temperature_basis="auto"``): the terms are searched
  on the interval's temperature and on its local-day mean (buildings respond to the day's
  weather through their thermal mass; CalTRACK's daily model uses daily means) and the
  basis whose selected model has the lower SSR/dof wins (``summary_["temperature_basis"]``);
  in ``predict`` the day mean is taken over the frame's rows of that local day;
* occupancy (sub-daily data, ``occupancy=True``; CalTRACK hourly): time-of-week slots are
  classed occupied/unoccupied from the residuals of a temperature-only fit
  (:mod:`enms.ml.occupancy`) and each weather term gets one slope per class
  (``heating_degrees_c_occupied`` / ``_unoccupied``...) when a nested F-test at
  ``max_term_pvalue`` says the split explains more than one shared slope.

Every fit also reports (``report_``, merged into the version's in-sample metrics):
``training_window_check`` — a change-point test on the in-sample residuals in time order
(:mod:`enms.ml.window_check`), ``sufficiency`` — CalTRACK data sufficiency of the window
(:mod:`enms.ml.sufficiency`), and ``flags`` (``"training_window_change"``,
``"insufficient_data"``) that a promotion gate may refuse on. ASHRAE Guideline 14 checks
are in :mod:`enms.ml.ashrae`.

Speed: the time-of-week levels are partialled out by group demeaning and the drivers by one
small least-squares solve (Frisch–Waugh–Lovell), so every grid candidate is scored from a
Gram matrix of the demeaned change-point columns; standard errors and p-values are computed
once, for the chosen model. Equivalent to the full dummy-variable OLS, at a fraction of the
cost.

Missing data: rows whose target or any used driver is NaN are dropped in ``fit`` (and
counted as missing by the sufficiency check); ``predict`` returns NaN for rows with a NaN
driver and raises :class:`~enms.ml.base.MissingColumns` when a used column is absent. Rows
labelled ``is_anomaly`` are left out of the fit. Time-of-week levels never seen in training
fall back to the average level.
"""

from __future__ import annotations

import functools
import math
from typing import Any, Self

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import stats
from threadpoolctl import ThreadpoolController  # type: ignore[import-untyped]

from enms.ml import ashrae, metrics, occupancy, shift_guard, sufficiency, window_check
from enms.ml import changepoint as cp
from enms.ml.base import LABEL, TARGET, EnergyModel, InsufficientData, MissingColumns
from enms.ml.features import (
    datetime_index,
    driver_columns,
    infer_interval,
    time_of_week_groups,
    validate_frame,
)

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@functools.cache
def _blas_controller() -> ThreadpoolController:
    return ThreadpoolController()


INTERVAL, DAY_MEAN, AUTO = "interval", "local_day_mean", "auto"
HEATING = "heating_degrees_c"
COOLING = "cooling_degrees_c"
OCCUPIED, UNOCCUPIED = "_occupied", "_unoccupied"
MIN_ROWS = 30
ONE_DAY = pd.Timedelta(days=1)


class BaselineModel(EnergyModel):
    """Change-point + drivers + time-of-week OLS baseline with ISO 50006 reporting.

    Learned attributes: ``drivers_``, ``heating_balance_c_``, ``cooling_balance_c_``,
    ``occupied_`` (occupied flag per time-of-week slot when the weather slopes are split by
    occupancy, else ``None``), ``coefficients_`` (estimate, std_error, t_value, p_value per
    term), ``summary_`` (``r_squared, adj_r_squared, rmse, cv_rmse, nmbe, f_pvalue, n,
    n_params, ...``), ``ashrae14_`` (``{"hourly": bool|None, "monthly": bool|None}``),
    ``report_`` (``training_window_check``, ``sufficiency``, ``flags``), ``interval_``.
    """

    model_type = "baseline"

    def __init__(
        self,
        *,
        timezone: str = "Europe/Berlin",
        drivers: tuple[str, ...] | None = None,
        temperature_column: str = "outdoor_temp_c",
        time_of_week: bool = True,
        occupancy: bool = True,
        temperature_basis: str = AUTO,
        balance_point_step_c: float = 1.0,
        min_share_beyond: float = 0.10,
        min_days_beyond: float = 10.0,
        min_days: float = 14.0,
        max_term_pvalue: float = 0.01,
        window_check_alpha: float = window_check.ALPHA,
        window_check_min_shift_percent: float = window_check.MIN_SHIFT_PERCENT,
    ) -> None:
        self.timezone = timezone
        self.drivers = drivers
        self.temperature_column = temperature_column
        self.time_of_week = time_of_week
        self.occupancy = occupancy
        self.temperature_basis = temperature_basis
        self.balance_point_step_c = balance_point_step_c
        self.min_share_beyond = min_share_beyond
        self.min_days_beyond = min_days_beyond
        self.min_days = min_days
        self.max_term_pvalue = max_term_pvalue
        self.window_check_alpha = window_check_alpha
        self.window_check_min_shift_percent = window_check_min_shift_percent

    # ----------------------------------------------------------------- fit
    def _select_drivers(self, f: pd.DataFrame) -> tuple[list[str], bool]:
        if self.drivers is None:
            return [c for c in driver_columns(f) if c != self.temperature_column], False
        missing = [c for c in self.drivers if c not in f.columns]
        if missing:
            raise InsufficientData(f"driver column(s) {missing} are not in the readings")
        return list(self.drivers), True

    def _groups(self, index: pd.DatetimeIndex, interval: pd.Timedelta) -> tuple[IntArray, int]:
        if not self.time_of_week:
            return np.zeros(len(index), dtype=np.int64), 1
        return time_of_week_groups(index, self.timezone, interval)

    def fit(self, frame: pd.DataFrame) -> Self:
        """Fit on a UTC-indexed readings frame (see module docstring for the rules)."""
        # The matrices are small (n × ~60): multi-threaded BLAS only adds spin-waiting,
        # which doubled CPU time per fit on a 2-core machine, so run it single-threaded.
        with _blas_controller().limit(limits=1, user_api="blas"):
            return self._fit(frame)

    def _fit(self, frame: pd.DataFrame) -> Self:
        if self.temperature_basis not in (AUTO, INTERVAL, DAY_MEAN):
            raise ValueError(
                f"temperature_basis must be one of {AUTO!r}, {INTERVAL!r}, {DAY_MEAN!r}; "
                f"got {self.temperature_basis!r}"
            )
        f = validate_frame(frame)
        full_index = datetime_index(f)
        interval = infer_interval(full_index)
        window = (full_index[0], full_index[-1] + interval)
        drivers, explicit = self._select_drivers(f)
        temp = self.temperature_column if self.temperature_column in f.columns else None
        used = [TARGET, *drivers] + ([temp] if temp else [])
        arr = f[used].to_numpy(dtype=np.float64)
        complete = ~np.isnan(arr).any(axis=1)
        present = full_index[complete]
        if LABEL in f.columns:
            complete &= ~f[LABEL].fillna(False).astype(bool).to_numpy()
        arr, index = arr[complete], full_index[complete]
        n = len(arr)
        if n < MIN_ROWS:
            raise InsufficientData(f"{n} complete readings; the baseline needs {MIN_ROWS}")
        span_days = (index[-1] - index[0] + interval) / ONE_DAY
        if span_days < self.min_days:
            raise InsufficientData(
                f"readings span {span_days:.1f} days; the baseline needs {self.min_days:g}"
            )
        groups, n_groups = self._groups(index, interval)
        counts = np.bincount(groups, minlength=n_groups).astype(np.float64)
        n_d = len(drivers)
        x = arr[:, : 1 + n_d]
        means, sums, gram = cp.within_gram(x, groups, counts)
        raw_ss = np.einsum("ij,ij->j", x[:, 1:] - means[1:], x[:, 1:] - means[1:])
        dropped, keep = [], []
        for j, name in enumerate(drivers):
            if raw_ss[j] == 0.0 or gram[1 + j, 1 + j] <= 1e-6 * raw_ss[j]:
                if explicit:
                    raise InsufficientData(
                        f"driver {name!r} is constant (or fixed by the time of week) in the "
                        "training window, so its effect cannot be estimated"
                    )
                dropped.append(name)
            else:
                keep.append(j)
        d_idx = [1 + j for j in keep]
        dof0 = n - int(np.sum(counts > 0))
        self.drivers_ = [drivers[j] for j in keep]
        self.temperature_column_ = temp
        self.interval_ = interval
        self.temperature_basis_: str | None = None
        h = c = None
        grid = np.empty(0)
        best = math.inf
        for basis, t in self._temperature_bases(index, arr[:, -1] if temp else None).items():
            if not float(np.std(t)) > 0.0:
                continue
            min_rows = math.ceil(self.min_days_beyond * max(ONE_DAY / interval, 1.0))
            g = cp.balance_point_grid(t, self.balance_point_step_c, min_rows)
            min_active = max(math.ceil(self.min_share_beyond * n), min_rows)
            gb, wb, tb = cp.hinge_gram(x, t, g, min_active, groups, counts)
            hb, cb = cp.select_balance_points(gb, d_idx, 1 + n_d, g, dof0, self.max_term_pvalue)
            if hb is not None or cb is not None:
                hb, cb = shift_guard.shift_robust_terms(
                    w=wb, transform=tb, gram=gb, groups=groups, counts=counts, index=index,
                    timezone=self.timezone, d_idx=d_idx, grid=g, dof0=dof0,
                    max_pvalue=self.max_term_pvalue, alpha=self.window_check_alpha,
                    chosen=(hb, cb),
                )  # fmt: skip
            if hb is None and cb is None:
                continue
            idx = d_idx + ([1 + n_d + hb] if hb is not None else [])
            idx += [1 + n_d + g.size + cb] if cb is not None else []
            score = shift_guard.ssr(gb, idx) / (dof0 - len(idx))  # adjusted-R² rule across bases
            if score < best:
                best, h, c, grid, self.temperature_basis_ = score, hb, cb, g, basis
        self.heating_balance_c_ = float(grid[h]) if h is not None else None
        self.cooling_balance_c_ = float(grid[c]) if c is not None else None
        weather = np.empty((n, 0))
        if self.temperature_basis_ is not None:
            weather = self._weather(self._temperature(index, arr[:, -1]))
        names = ([HEATING] if h is not None else []) + ([COOLING] if c is not None else [])
        self.occupied_ = None
        if self.occupancy and self.time_of_week and interval < ONE_DAY and names:
            self.occupied_ = occupancy.occupied_slots(arr[:, 0], weather, groups, n_groups)
        xf = np.hstack([arr[:, [0, *d_idx]], weather])
        if self.occupied_ is not None:
            xf = np.hstack([xf, self._split(weather, self.occupied_[groups])])
        means, sums, gram = cp.within_gram(xf, groups, counts)
        k_d, k_w = len(d_idx), len(names)
        w_idx = list(range(1, 1 + k_d + k_w))
        if self.occupied_ is not None:
            split_idx = list(range(1, 1 + k_d)) + list(range(1 + k_d + k_w, 1 + k_d + 3 * k_w))
            dof_split = dof0 - k_d - 2 * k_w
            p_split = occupancy.nested_f_pvalue(
                shift_guard.ssr(gram, w_idx), shift_guard.ssr(gram, split_idx), k_w, dof_split
            )
            if p_split < self.max_term_pvalue:
                w_idx = split_idx
                names = [f"{t}{o}" for o in (OCCUPIED, UNOCCUPIED) for t in names]
            else:
                self.occupied_ = None
        self.time_of_week_ = self.time_of_week and n_groups > 1
        if self.time_of_week_ and interval >= ONE_DAY:
            # Daily data: CalTRACK's daily model has no day-of-week terms; keep the seven
            # levels only when a nested F-test says they explain more than one level.
            one = np.zeros(n, dtype=np.int64)
            pooled = cp.within_gram(xf, one, np.array([float(n)]))
            seen = int(np.sum(counts > 0))
            p_dow = occupancy.nested_f_pvalue(
                shift_guard.ssr(pooled[2], w_idx),
                shift_guard.ssr(gram, w_idx),
                seen - 1,
                n - seen - len(w_idx),
            )
            if p_dow >= self.max_term_pvalue:
                self.time_of_week_ = False
                groups, counts = one, np.array([float(n)])
                means, sums, gram = pooled
        fitted = self._finish(index, xf, means, sums, gram, groups, counts, w_idx, names, window)
        self.summary_["dropped_drivers"] = dropped
        self.summary_["heating_balance_c"] = self.heating_balance_c_
        self.summary_["cooling_balance_c"] = self.cooling_balance_c_
        self.summary_["occupancy_split"] = self.occupied_ is not None
        self.summary_["temperature_basis"] = self.temperature_basis_
        self.report_ = self._report(index, arr[:, 0], fitted, present, window)
        return self

    def _temperature_bases(
        self, index: pd.DatetimeIndex, t: FloatArray | None
    ) -> dict[str, FloatArray]:
        if t is None:
            return {}
        bases = {INTERVAL: t}
        if self.interval_ < ONE_DAY and self.temperature_basis in (AUTO, DAY_MEAN):
            bases[DAY_MEAN] = shift_guard.day_mean(index, t, self.timezone)
            if self.temperature_basis == DAY_MEAN:
                del bases[INTERVAL]
        return bases

    def _temperature(self, index: pd.DatetimeIndex, t: FloatArray) -> FloatArray:
        """The temperature the weather terms use: per interval, or its local-day mean."""
        return (
            shift_guard.day_mean(index, t, self.timezone)
            if self.temperature_basis_ == DAY_MEAN
            else t
        )

    def _weather(self, t: FloatArray) -> FloatArray:
        cols = []
        if self.heating_balance_c_ is not None:
            cols.append(np.maximum(0.0, self.heating_balance_c_ - t))
        if self.cooling_balance_c_ is not None:
            cols.append(np.maximum(0.0, t - self.cooling_balance_c_))
        return np.column_stack(cols) if cols else np.empty((len(t), 0))

    @staticmethod
    def _split(weather: FloatArray, occupied_row: npt.NDArray[np.bool_]) -> FloatArray:
        occ = occupied_row[:, None]
        return np.hstack([weather * occ, weather * ~occ])

    def _finish(
        self,
        index: pd.DatetimeIndex,
        x: FloatArray,
        means: FloatArray,
        sums: FloatArray,
        gram: FloatArray,
        groups: IntArray,
        counts: FloatArray,
        w_idx: list[int],
        weather: list[str],
        window: tuple[pd.Timestamp, pd.Timestamp],
    ) -> FloatArray:
        """OLS of the chosen model: coefficients, standard errors, fit statistics."""
        n, k1 = len(x), len(w_idx)
        y = x[:, 0]
        a_ww = gram[np.ix_(w_idx, w_idx)]
        beta = np.linalg.solve(a_ww, gram[w_idx, 0]) if k1 else np.empty(0)
        seen = counts > 0
        per = np.maximum(counts, 1.0)[:, None]
        level = means[0] + sums[:, 0] / per[:, 0] - (means[w_idx] + sums[:, w_idx] / per) @ beta
        level[~seen] = float(np.sum(level[seen] * counts[seen]) / n)
        fitted: FloatArray = level[groups] + x[:, w_idx] @ beta
        resid = y - fitted
        ssr = float(resid @ resid)
        n_params = int(np.sum(seen)) + k1
        dof = n - n_params
        if dof < 1:
            raise InsufficientData(f"{n} readings cannot support {n_params} model parameters")
        sigma2 = ssr / dof
        cov = sigma2 * np.linalg.inv(a_ww) if k1 else np.empty((0, 0))
        w_bar = means[w_idx]
        est = np.concatenate([[float(means[0] - w_bar @ beta)], beta])
        se = np.sqrt(np.concatenate([[sigma2 / n + float(w_bar @ cov @ w_bar)], np.diag(cov)]))
        t_val = est / se
        p_val = 2.0 * stats.t.sf(np.abs(t_val), dof)
        self.coefficients_ = pd.DataFrame(
            {"estimate": est, "std_error": se, "t_value": t_val, "p_value": p_val},
            index=pd.Index(["intercept", *self.drivers_, *weather], name="term"),
        )
        sst = float(np.sum((y - means[0]) ** 2))
        k_model = n_params - 1
        r2 = 1.0 - ssr / sst if sst > 0 else float("nan")
        f_stat = ((sst - ssr) / k_model) / sigma2 if k_model > 0 and sigma2 > 0 else float("nan")
        f_p = float(stats.f.sf(f_stat, k_model, dof)) if k_model > 0 else None
        self.beta_ = beta
        self.levels_ = level
        self.residual_autocorrelation_ = metrics.lag1_autocorrelation(resid)
        self.cv_rmse_ = metrics.cv_rmse(y, fitted, n_params=n_params)
        hourly: tuple[bool | None, dict[str, Any]] = (None, {})
        if self.interval_ <= pd.Timedelta(hours=1):
            hourly = ashrae.hourly_check(index, y, fitted, n_params)
        monthly = ashrae.monthly_check(
            index=index, y=y, fitted=fitted, n_params=1 + k1,
            start=window[0], end=window[1], timezone=self.timezone,
        )  # fmt: skip
        self.ashrae14_ = {"hourly": hourly[0], "monthly": monthly[0]}
        self.summary_: dict[str, Any] = {
            "n": n,
            "n_params": n_params,
            "interval_seconds": self.interval_.total_seconds(),
            "r_squared": r2,
            "adj_r_squared": 1.0 - (1.0 - r2) * (n - 1) / dof,
            "rmse": math.sqrt(sigma2),
            "cv_rmse": self.cv_rmse_,
            "nmbe": metrics.nmbe(y, fitted),
            "f_statistic": f_stat,
            "f_pvalue": f_p,
            "residual_autocorrelation": self.residual_autocorrelation_,
            "doe_enpi_valid": bool(
                r2 >= 0.5 and f_p is not None and f_p < 0.10 and bool(np.all(p_val[1:] < 0.2))
            ),
            **hourly[1],
            **monthly[1],
        }
        return fitted

    def _report(
        self,
        index: pd.DatetimeIndex,
        y: FloatArray,
        fitted: FloatArray,
        present: pd.DatetimeIndex,
        window: tuple[pd.Timestamp, pd.Timestamp],
    ) -> dict[str, Any]:
        check = window_check.training_window_check(
            index=index,
            residuals=y - fitted,
            actual=y,
            timezone=self.timezone,
            alpha=self.window_check_alpha,
            min_shift_percent=self.window_check_min_shift_percent,
        )
        enough = sufficiency.sufficiency(
            present=present, start=window[0], end=window[1], interval=self.interval_,
            timezone=self.timezone,
        )  # fmt: skip
        flags = (["training_window_change"] if check["change_detected"] else []) + (
            [] if enough["sufficient"] else ["insufficient_data"]
        )
        return {"training_window_check": check, "sufficiency": enough, "flags": flags}

    # ------------------------------------------------------------- predict
    def _needed(self) -> list[str]:
        needed = list(self.drivers_)
        if self.heating_balance_c_ is not None or self.cooling_balance_c_ is not None:
            needed.append(str(self.temperature_column_))
        return needed

    def _design(self, f: pd.DataFrame, groups: IntArray) -> FloatArray:
        cols = [f[c].to_numpy(dtype=np.float64) for c in self.drivers_]
        if self.heating_balance_c_ is not None or self.cooling_balance_c_ is not None:
            raw = f[str(self.temperature_column_)].to_numpy(dtype=np.float64)
            weather = self._weather(self._temperature(datetime_index(f), raw))
            if self.occupied_ is not None:
                weather = self._split(weather, self.occupied_[groups])
            cols.extend(weather.T)
        return np.column_stack(cols) if cols else np.empty((len(f), 0))

    def _prepare(self, frame: pd.DataFrame) -> tuple[pd.DataFrame, IntArray]:
        self._check_fitted()
        f = validate_frame(frame, require_target=False)
        missing = [c for c in self._needed() if c not in f.columns]
        if missing:
            raise MissingColumns(missing)
        if self.time_of_week_:
            groups, _ = time_of_week_groups(datetime_index(f), self.timezone, self.interval_)
        else:
            groups = np.zeros(len(f), dtype=np.int64)
        return f, groups

    def regressors(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The non-time-of-week columns of the design (drivers, weather terms) for ``frame``,
        named and ordered like ``coefficients_`` after the intercept."""
        f, groups = self._prepare(frame)
        return pd.DataFrame(
            self._design(f, groups), index=f.index, columns=list(self.coefficients_.index[1:])
        )

    def predict(self, frame: pd.DataFrame) -> pd.Series:
        """Expected energy (kWh per interval) for each row; NaN where a driver is NaN."""
        f, groups = self._prepare(frame)
        values = self.levels_[groups] + self._design(f, groups) @ self.beta_
        out = pd.Series(values, index=f.index, name="expected_energy_kwh")
        if f.index is not frame.index:
            out = out.reindex(datetime_index(frame).tz_convert("UTC"))
            out.index = frame.index
        return out

    def fitted_residuals(self, frame: pd.DataFrame) -> pd.Series:
        """Actual minus expected energy for a frame with an ``energy_kwh`` column."""
        f = validate_frame(frame)
        return (f[TARGET].astype(np.float64) - self.predict(f)).rename("residual_kwh")

    def savings_uncertainty(self, *, savings_fraction: float, reporting_points: int) -> float:
        """ASHRAE 14 fractional savings uncertainty (percent, 68 %) of a savings claim."""
        self._check_fitted()
        return metrics.fractional_savings_uncertainty(
            savings_fraction=savings_fraction,
            cv_rmse_percent=self.cv_rmse_,
            n_baseline=int(self.summary_["n"]),
            m_reporting=reporting_points,
            n_params=int(self.summary_["n_params"]),
            autocorrelation=self.residual_autocorrelation_,
        )
