"""The energy baseline (ISO 50001 EnB): expected energy from drivers, weather and schedule.

``energy ~ time-of-week + drivers + heating/cooling change-point terms``, fitted by OLS:

* time-of-week: one level per local hour of week for sub-daily data, per day of week for
  daily data, none for coarser data (local time from the ``timezone`` hyperparameter);
* drivers: ``production_units``, ``operating_hours`` and any other numeric column (or the
  ``drivers`` given); an auto-detected driver that is constant, or fully explained by the
  time-of-week levels, is dropped and named in ``summary_["dropped_drivers"]``;
* ``max(0, Tb_h − T)`` and ``max(0, T − Tb_c)`` on ``outdoor_temp_c``, with the balance
  points chosen on a grid (between the 5th and 95th temperature percentile, step
  ``balance_point_step_c``) by adjusted R², keeping only positive slopes significant at
  ``max_term_pvalue``. CalTRACK uses 0.10 per term; because the grid tries ~50 candidates,
  that admitted spurious kinks on temperature-independent machines of the demo plant
  (t ≈ 1.8), so the default is 0.01 as a rough multiple-comparison correction.

Speed: the time-of-week levels are partialled out by group demeaning and the drivers by one
small least-squares solve (Frisch–Waugh–Lovell), so every grid candidate is scored from a
Gram matrix of the demeaned change-point columns; standard errors and p-values are computed
once, for the chosen model. Equivalent to the full dummy-variable OLS, at a fraction of the
cost.

Missing data: rows whose target or any used driver is NaN are dropped in ``fit``;
``predict`` returns NaN for rows with a NaN driver. Rows labelled ``is_anomaly`` are left
out of the fit. Time-of-week levels never seen in training fall back to the average level.
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

from enms.ml import changepoint as cp
from enms.ml import metrics
from enms.ml.base import LABEL, TARGET, EnergyModel, InsufficientData
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


HEATING = "heating_degrees_c"
COOLING = "cooling_degrees_c"
MIN_ROWS = 30


class BaselineModel(EnergyModel):
    """Change-point + drivers + time-of-week OLS baseline with ISO 50006 reporting.

    Learned attributes: ``drivers_``, ``heating_balance_c_``, ``cooling_balance_c_``,
    ``coefficients_`` (estimate, std_error, t_value, p_value per term), ``summary_``
    (``r_squared, adj_r_squared, rmse, cv_rmse, nmbe, f_pvalue, n, n_params, ...``),
    ``ashrae14_`` (``{"hourly": bool|None, "monthly": bool|None}``), ``interval_``.
    """

    model_type = "baseline"

    def __init__(
        self,
        *,
        timezone: str = "Europe/Berlin",
        drivers: tuple[str, ...] | None = None,
        temperature_column: str = "outdoor_temp_c",
        time_of_week: bool = True,
        balance_point_step_c: float = 1.0,
        min_active_fraction: float = 0.05,
        min_days: float = 14.0,
        max_term_pvalue: float = 0.01,
    ) -> None:
        self.timezone = timezone
        self.drivers = drivers
        self.temperature_column = temperature_column
        self.time_of_week = time_of_week
        self.balance_point_step_c = balance_point_step_c
        self.min_active_fraction = min_active_fraction
        self.min_days = min_days
        self.max_term_pvalue = max_term_pvalue

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
        f = validate_frame(frame)
        interval = infer_interval(datetime_index(f))
        if LABEL in f.columns:
            f = f[~f[LABEL].fillna(False).astype(bool)]
        drivers, explicit = self._select_drivers(f)
        temp = self.temperature_column if self.temperature_column in f.columns else None
        used = [TARGET, *drivers] + ([temp] if temp else [])
        arr = f[used].to_numpy(dtype=np.float64)
        complete = ~np.isnan(arr).any(axis=1)
        arr, index = arr[complete], datetime_index(f)[complete]
        n = len(arr)
        if n < MIN_ROWS:
            raise InsufficientData(f"{n} complete readings; the baseline needs {MIN_ROWS}")
        span_days = (index[-1] - index[0] + interval) / pd.Timedelta(days=1)
        if span_days < self.min_days:
            raise InsufficientData(
                f"readings span {span_days:.1f} days; the baseline needs {self.min_days:g}"
            )
        groups, n_groups = self._groups(index, interval)
        counts = np.bincount(groups, minlength=n_groups).astype(np.float64)
        n_d = len(drivers)
        grid, z = np.empty(0), np.empty((n, 0))
        if temp and float(np.std(arr[:, -1])) > 0.0:
            grid = cp.balance_point_grid(arr[:, -1], self.balance_point_step_c)
            z = cp.hinge_columns(arr[:, -1], grid, self.min_active_fraction)
        x = np.hstack([arr[:, : 1 + n_d], z])
        means, sums, gram = cp.within_gram(x, groups, counts)
        raw_ss = np.einsum("ij,ij->j", x[:, 1 : 1 + n_d] - means[1 : 1 + n_d],
                           x[:, 1 : 1 + n_d] - means[1 : 1 + n_d])  # fmt: skip
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
        h, c = cp.select_balance_points(gram, d_idx, 1 + n_d, grid, dof0, self.max_term_pvalue)
        m = grid.size
        w_idx = d_idx + ([1 + n_d + h] if h is not None else [])
        w_idx += [1 + n_d + m + c] if c is not None else []
        weather = ([HEATING] if h is not None else []) + ([COOLING] if c is not None else [])
        self.drivers_ = [drivers[j] for j in keep]
        self.heating_balance_c_ = float(grid[h]) if h is not None else None
        self.cooling_balance_c_ = float(grid[c]) if c is not None else None
        self.temperature_column_ = temp
        self._finish(index, x, means, sums, gram, groups, counts, interval, w_idx, weather)
        self.summary_["dropped_drivers"] = dropped
        self.summary_["heating_balance_c"] = self.heating_balance_c_
        self.summary_["cooling_balance_c"] = self.cooling_balance_c_
        return self

    def _finish(
        self,
        index: pd.DatetimeIndex,
        x: FloatArray,
        means: FloatArray,
        sums: FloatArray,
        gram: FloatArray,
        groups: IntArray,
        counts: FloatArray,
        interval: pd.Timedelta,
        w_idx: list[int],
        weather: list[str],
    ) -> None:
        """OLS of the chosen model: coefficients, standard errors, fit statistics."""
        n, k1 = len(x), len(w_idx)
        y = x[:, 0]
        a_ww = gram[np.ix_(w_idx, w_idx)]
        beta = np.linalg.solve(a_ww, gram[w_idx, 0]) if k1 else np.empty(0)
        seen = counts > 0
        per = np.maximum(counts, 1.0)[:, None]
        level = means[0] + sums[:, 0] / per[:, 0] - (means[w_idx] + sums[:, w_idx] / per) @ beta
        level[~seen] = float(np.sum(level[seen] * counts[seen]) / n)
        fitted = level[groups] + x[:, w_idx] @ beta
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
        self.interval_ = interval
        self.beta_ = beta
        self.levels_ = level
        self.residual_autocorrelation_ = metrics.lag1_autocorrelation(resid)
        self.cv_rmse_ = metrics.cv_rmse(y, fitted, n_params=n_params)
        self.ashrae14_, ashrae_detail = self._ashrae(index, y, fitted, n_params, interval)
        self.summary_: dict[str, Any] = {
            "n": n,
            "n_params": n_params,
            "interval_seconds": interval.total_seconds(),
            "r_squared": r2,
            "adj_r_squared": 1.0 - (1.0 - r2) * (n - 1) / dof,
            "rmse": math.sqrt(sigma2),
            "cv_rmse": self.cv_rmse_,
            "nmbe": metrics.nmbe(y, fitted, n_params=n_params),
            "f_statistic": f_stat,
            "f_pvalue": f_p,
            "residual_autocorrelation": self.residual_autocorrelation_,
            "doe_enpi_valid": bool(
                r2 >= 0.5 and f_p is not None and f_p < 0.10 and bool(np.all(p_val[1:] < 0.2))
            ),
            **ashrae_detail,
        }

    def _ashrae(
        self,
        index: pd.DatetimeIndex,
        y: FloatArray,
        fitted: FloatArray,
        n_params: int,
        interval: pd.Timedelta,
    ) -> tuple[dict[str, bool | None], dict[str, float | None]]:
        """ASHRAE Guideline 14 flags on hourly totals and on local calendar-month totals."""
        flags: dict[str, bool | None] = {"hourly": None, "monthly": None}
        detail: dict[str, float | None] = {}
        if interval <= pd.Timedelta(hours=1):
            key = index.as_unit("ns").asi8 // 3_600_000_000_000
            _, inv = np.unique(key, return_inverse=True)
            yh, fh = np.bincount(inv, weights=y), np.bincount(inv, weights=fitted)
            cv = metrics.cv_rmse(yh, fh, n_params=min(n_params, len(yh) - 1))
            nb = metrics.nmbe(yh, fh, n_params=min(n_params, len(yh) - 1))
            flags["hourly"] = bool(cv <= 30.0 and abs(nb) <= 10.0)
            detail |= {"hourly_cv_rmse": cv, "hourly_nmbe": nb}
        local = index.tz_convert(self.timezone)
        month = np.asarray(local.year * 12 + local.month, dtype=np.int64)
        _, inv = np.unique(month, return_inverse=True)
        if inv.max() >= 2:  # at least three calendar months
            ym, fm = np.bincount(inv, weights=y), np.bincount(inv, weights=fitted)
            cv, nb = metrics.cv_rmse(ym, fm), metrics.nmbe(ym, fm)
            flags["monthly"] = bool(cv <= 15.0 and abs(nb) <= 5.0)
            detail |= {"monthly_cv_rmse": cv, "monthly_nmbe": nb}
        return flags, detail

    # ------------------------------------------------------------- predict
    def _design(self, f: pd.DataFrame) -> FloatArray:
        cols = [f[c].to_numpy(dtype=np.float64) for c in self.drivers_]
        if self.heating_balance_c_ is not None or self.cooling_balance_c_ is not None:
            assert self.temperature_column_ is not None
            t = f[self.temperature_column_].to_numpy(dtype=np.float64)
            if self.heating_balance_c_ is not None:
                cols.append(np.maximum(0.0, self.heating_balance_c_ - t))
            if self.cooling_balance_c_ is not None:
                cols.append(np.maximum(0.0, t - self.cooling_balance_c_))
        return np.column_stack(cols) if cols else np.empty((len(f), 0))

    def predict(self, frame: pd.DataFrame) -> pd.Series:
        """Expected energy (kWh per interval) for each row; NaN where a driver is NaN."""
        self._check_fitted()
        f = validate_frame(frame, require_target=False)
        needed = list(self.drivers_)
        if self.heating_balance_c_ is not None or self.cooling_balance_c_ is not None:
            needed.append(str(self.temperature_column_))
        missing = [c for c in needed if c not in f.columns]
        if missing:
            raise ValueError(f"readings lack the driver column(s) {missing} this baseline uses")
        if self.time_of_week:
            groups, _ = time_of_week_groups(datetime_index(f), self.timezone, self.interval_)
        else:
            groups = np.zeros(len(f), dtype=np.int64)
        values = self.levels_[groups] + self._design(f) @ self.beta_
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
