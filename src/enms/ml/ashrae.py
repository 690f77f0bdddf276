"""ASHRAE Guideline 14 calibration checks of a fitted baseline (hourly and monthly).

What is computed, exactly (``y`` actual, ``ŷ`` fitted, totals per period, ``n`` periods):

* ``CV(RMSE) = 100 · sqrt(Σ(y−ŷ)² / (n − p)) / mean(y)`` — ASHRAE's ``n − p`` degrees of
  freedom;
* ``NMBE = 100 · Σ(y−ŷ) / (n · mean(y))`` — the one NMBE definition enms uses everywhere
  (:func:`enms.ml.metrics.nmbe`, DESIGN.md); positive means the model under-predicts.

Hourly check (data at one hour or finer): hourly totals, ``p`` = every parameter of the
model (time-of-week levels included); passes at CV(RMSE) ≤ 30 % and |NMBE| ≤ 10 %.

Monthly check: totals over *whole* local calendar months only (a month the window covers
from its first to its last day; partial first/last months are left out), at least three of
them, and ``p`` = the parameters a monthly regression on the same variables would have —
intercept, drivers and weather terms; time-of-week levels are left out of ``p`` because
within a whole month every level occurs in a fixed proportion, so they collapse into the
intercept. Passes at CV(RMSE) ≤ 15 % and |NMBE| ≤ 5 %. With ``n − p < 1`` (too few whole
months for the model's variables) the flag is ``None`` and ``monthly_reason`` says why.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from enms.ml import metrics
from enms.ml.localtime import local_months

FloatArray = npt.NDArray[np.float64]

HOURLY_CV_MAX, HOURLY_NMBE_MAX = 30.0, 10.0
MONTHLY_CV_MAX, MONTHLY_NMBE_MAX = 15.0, 5.0
MIN_MONTHS = 3


def hourly_check(
    index: pd.DatetimeIndex, y: FloatArray, fitted: FloatArray, n_params: int
) -> tuple[bool | None, dict[str, Any]]:
    """ASHRAE 14 hourly flag and figures on hourly totals (UTC hours)."""
    key = index.as_unit("ns").asi8 // 3_600_000_000_000
    _, inv = np.unique(key, return_inverse=True)
    yh, fh = np.bincount(inv, weights=y), np.bincount(inv, weights=fitted)
    if yh.size - n_params < 1:
        return None, {"hourly_reason": f"{yh.size} hours do not exceed {n_params} parameters"}
    cv = metrics.cv_rmse(yh, fh, n_params=n_params)
    nb = metrics.nmbe(yh, fh)
    flag = bool(cv <= HOURLY_CV_MAX and abs(nb) <= HOURLY_NMBE_MAX)
    return flag, {"hourly_cv_rmse": cv, "hourly_nmbe": nb, "hourly_n": int(yh.size)}


def whole_months(
    index: pd.DatetimeIndex, start: pd.Timestamp, end: pd.Timestamp, timezone: str
) -> npt.NDArray[np.int64]:
    """Month key (``year·12 + month − 1``) per row, ``-1`` for rows of a partial month.

    >>> idx = pd.date_range("2025-01-15", "2025-04-10", freq="D", tz="UTC")
    >>> keys = whole_months(idx, idx[0], idx[-1] + pd.Timedelta("1D"), "UTC")
    >>> sorted(set(keys.tolist()))
    [-1, 24301, 24302]
    """
    key = local_months(index, timezone)
    first, stop = start.tz_convert(timezone), end.tz_convert(timezone)  # end is exclusive
    first_whole = first.year * 12 + first.month - 1
    if first != first.normalize().replace(day=1):
        first_whole += 1
    last_whole = stop.year * 12 + stop.month - 2
    return np.where((key >= first_whole) & (key <= last_whole), key, -1)


def monthly_check(
    *,
    index: pd.DatetimeIndex,
    y: FloatArray,
    fitted: FloatArray,
    n_params: int,
    start: pd.Timestamp,
    end: pd.Timestamp,
    timezone: str,
) -> tuple[bool | None, dict[str, Any]]:
    """ASHRAE 14 monthly flag and figures on whole local calendar months."""
    key = whole_months(index, start, end, timezone)
    inside = key >= 0
    months, inv = np.unique(key[inside], return_inverse=True)
    detail: dict[str, Any] = {"monthly_n": int(months.size), "monthly_n_params": n_params}
    if months.size < MIN_MONTHS:
        detail["monthly_reason"] = (
            f"{months.size} whole calendar month(s) in the window; the check needs {MIN_MONTHS}"
        )
        return None, detail
    if months.size - n_params < 1:
        detail["monthly_reason"] = (
            f"{months.size} whole months do not exceed the {n_params} parameters of a monthly model"
        )
        return None, detail
    ym = np.bincount(inv, weights=y[inside])
    fm = np.bincount(inv, weights=fitted[inside])
    cv = metrics.cv_rmse(ym, fm, n_params=n_params)
    nb = metrics.nmbe(ym, fm)
    detail |= {"monthly_cv_rmse": cv, "monthly_nmbe": nb}
    return bool(cv <= MONTHLY_CV_MAX and abs(nb) <= MONTHLY_NMBE_MAX), detail
