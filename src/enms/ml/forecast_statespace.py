"""Fit a (seasonal) ARIMA once and forecast from many origins without refitting.

This module owns the state-space arithmetic the forecasters share. Parameters come from
statsmodels ``SARIMAX`` fitted on a window; a forecast at an origin runs the Kalman filter
with those fixed parameters over the whole series (gaps are NaN and simply skipped) and
propagates the predicted state ``a[t|t-1]`` -- which uses only observations before ``t``
-- ``horizon`` steps ahead. One filter pass serves every origin, so a rolling-origin
validation with dozens of origins costs about one forecast.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ArimaSpec:
    """Orders and trend of a SARIMAX (``seasonal`` is ``(P, D, Q, s)``)."""

    order: tuple[int, int, int] = (2, 0, 1)
    seasonal: tuple[int, int, int, int] = (0, 0, 0, 0)
    trend: str = "n"

    def model(self, series: np.ndarray) -> object:
        from statsmodels.tsa.statespace.sarimax import SARIMAX

        return SARIMAX(series, order=self.order, seasonal_order=self.seasonal, trend=self.trend)


def fit_arima(spec: ArimaSpec, series: np.ndarray, *, maxiter: int = 50) -> np.ndarray:
    """Maximum-likelihood parameters of ``spec`` on ``series`` (NaN gaps allowed)."""
    finite = series[np.isfinite(series)]
    if len(finite) < 10 * (sum(spec.order) + spec.seasonal[0] + spec.seasonal[2] + 1):
        raise ValueError(f"too few observations ({len(finite)}) for ARIMA {spec}")
    with warnings.catch_warnings():
        # convergence chatter from the optimiser; the parameters are still usable
        warnings.simplefilter("ignore")
        result = spec.model(series).fit(disp=False, maxiter=maxiter)  # type: ignore[attr-defined]
    params = np.asarray(result.params, dtype=float)
    if not np.all(np.isfinite(params)):
        raise ValueError(f"ARIMA {spec} did not converge to finite parameters")
    return params


def arima_paths(
    spec: ArimaSpec, params: np.ndarray, series: np.ndarray, positions: np.ndarray, horizon: int
) -> np.ndarray:
    """``(n_origins, horizon)`` mean forecasts of ``series`` from each origin position,
    each using only the values before it."""
    model = spec.model(series)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        filt = model.filter(params).filter_results  # type: ignore[attr-defined]
    ssm = model.ssm  # type: ignore[attr-defined]
    k = int(model.k_states)  # type: ignore[attr-defined]
    design = np.asarray(ssm["design"]).reshape(k)
    trans = np.asarray(ssm["transition"]).reshape(k, k)
    intercept = np.asarray(ssm["state_intercept"]).reshape(k)
    obs_intercept = float(np.asarray(ssm["obs_intercept"]).ravel()[0])
    state = filt.predicted_state[:, positions]
    mean = np.empty((len(positions), horizon))
    for j in range(horizon):
        mean[:, j] = design @ state + obs_intercept
        state = trans @ state + intercept[:, None]
    return mean
