"""Metrics of one version over one window, computed from its prediction-log points (pure).

No model is run: the log already holds what each version predicted. Per model type:

* ``baseline`` — r², RMSE, MAE, MAPE, CV(RMSE), NMBE (:func:`enms.ml.metrics.regression_report`)
  on actual vs predicted, and the coverage of its interval where bounds were logged.
* ``forecast_*`` — the day-ahead points (lead ``0 < ts − origin ≤ 24 h``; of several origins
  the latest, i.e. the forecast as served a day ahead): MAPE, RMSE, MAE, interval coverage,
  and skill ``1 − RMSE/RMSE_naive`` against the weekly seasonal naive (the reading in the same
  wall-clock slot a week earlier, :func:`enms.ml.forecast_grid.seasonal_naive`).
* ``anomaly`` — alarm rate, and precision/recall/F1 against the readings' ``is_anomaly``
  labels where they carry any.

Points without an actual (or prediction) are counted in ``n_dropped``. For windows past the
raw-point retention, :func:`metrics_from_rollup` gives the same error metrics from the daily
sums of ``prediction_daily`` (:func:`rollup_sums` computes those sums from points).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from enms.ml import metrics as m
from enms.ml.metrics import MAPE_NEAR_ZERO_FRACTION, regression_report

DAY_AHEAD = pd.Timedelta(hours=24)
SUM_FIELDS = ("n", "sum_actual", "sum_actual_sq", "sum_error", "sum_abs_error", "sum_sq_error",
              "n_pct", "sum_abs_pct_error", "n_interval", "n_in_interval", "n_flagged")  # fmt: skip


@dataclass
class LogMetrics:
    """Metric values (None where undefined, with the reason), the points used and dropped."""

    values: dict[str, float | None]
    n: int
    n_dropped: int
    undefined: dict[str, str] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)


def _try(values: dict[str, float | None], undefined: dict[str, str], key: str, f: Any) -> None:
    try:
        values[key] = float(f())
    except m.MetricUndefined as exc:
        values[key] = None
        undefined[key] = exc.reason


def _coverage(points: pd.DataFrame) -> tuple[float | None, int]:
    has = points[["lower", "upper"]].notna().all(axis=1)
    if not has.any():
        return None, 0
    inside = (points["actual"] >= points["lower"]) & (points["actual"] <= points["upper"])
    return float(inside[has].mean()), int(has.sum())


def baseline_metrics(points: pd.DataFrame) -> LogMetrics:
    """Regression metrics of a baseline's points (``actual`` vs ``predicted``)."""
    usable = points.dropna(subset=["actual", "predicted"])
    report = regression_report(usable["actual"].to_numpy(), usable["predicted"].to_numpy())
    values = {k: v for k, v in report.values.items() if k != "n"}
    coverage, n_interval = _coverage(usable)
    return LogMetrics(
        values=values,
        n=len(usable),
        n_dropped=len(points) - len(usable),
        undefined=dict(report.undefined),
        extra={"interval_coverage": coverage, "n_interval": n_interval},
    )


def day_ahead(points: pd.DataFrame) -> pd.DataFrame:
    """Per target timestamp, the forecast of the latest origin at most 24 h before it."""
    lead = pd.TimedeltaIndex(pd.DatetimeIndex(points.index) - pd.DatetimeIndex(points["origin"]))
    mask = np.asarray((lead > pd.Timedelta(0)) & (lead <= DAY_AHEAD))
    keep = points.loc[mask]
    latest = np.asarray(~keep.index.duplicated(keep="last"))  # ordered by ts, origin
    return keep.loc[latest]


def forecast_metrics(points: pd.DataFrame, naive: pd.Series | None) -> LogMetrics:
    """Day-ahead accuracy of a forecaster's points; ``naive`` is the weekly seasonal naive
    indexed by target timestamp (None: skill undefined)."""
    ahead = day_ahead(points)
    usable = ahead.dropna(subset=["actual", "predicted"])
    y, p = usable["actual"].to_numpy(), usable["predicted"].to_numpy()
    values: dict[str, float | None] = {}
    undefined: dict[str, str] = {}
    _try(values, undefined, "mape", lambda: m.mape(y, p))
    _try(values, undefined, "rmse", lambda: m.rmse(y, p))
    _try(values, undefined, "mae", lambda: m.mae(y, p))
    n_reference = 0
    if naive is None:
        values["skill"] = None
        undefined["skill"] = "no readings a week earlier for the seasonal-naive reference"
    else:
        ref = naive.reindex(usable.index).to_numpy(dtype=np.float64)
        both = ~np.isnan(ref)
        n_reference = int(both.sum())
        if not both.any():
            values["skill"] = None
            undefined["skill"] = "no readings a week earlier for the seasonal-naive reference"
        else:
            _try(values, undefined, "skill",
                 lambda: m.forecast_skill(y[both], p[both], ref[both]))  # fmt: skip
    coverage, n_interval = _coverage(usable)
    return LogMetrics(
        values=values,
        n=len(usable),
        n_dropped=len(points) - len(usable),
        undefined=undefined,
        extra={
            "interval_coverage": coverage,
            "n_interval": n_interval,
            "n_origins": int(pd.DatetimeIndex(usable["origin"]).nunique()),
            "n_not_day_ahead": len(points) - len(ahead),
            "skill_reference": "weekly seasonal naive (same wall-clock slot 7 days earlier)",
            "n_skill": n_reference,
        },
    )


def anomaly_metrics(points: pd.DataFrame, labels: pd.Series | None) -> LogMetrics:
    """Alarm rate of a detector's points; precision/recall/F1 against ``labels`` (bool by
    timestamp, NA where unlabelled) when there are any."""
    usable = points[points["flagged"].notna()]
    flags = usable["flagged"].astype(bool).to_numpy()
    values: dict[str, float | None] = {}
    undefined: dict[str, str] = {}
    truth = None if labels is None else labels.reindex(usable.index)
    labelled = np.zeros(len(usable), dtype=bool) if truth is None else truth.notna().to_numpy()
    if labelled.any():
        assert truth is not None
        y = truth[labelled].astype(bool).to_numpy().astype(float)
        f = flags[labelled].astype(float)
        for key, func in (("precision", m.precision), ("recall", m.recall), ("f1", m.f1)):
            _try(values, undefined, key, lambda func=func: func(y, f))
    else:
        for key in ("precision", "recall", "f1"):
            values[key] = None
            undefined[key] = "the readings of this window carry no is_anomaly labels"
    return LogMetrics(
        values=values,
        n=len(usable),
        n_dropped=len(points) - len(usable),
        undefined=undefined,
        extra={
            "alarm_rate": float(flags.mean()) if len(flags) else None,
            "n_flagged": int(flags.sum()),
            "n_labelled": int(labelled.sum()),
        },
    )


def rollup_sums(points: pd.DataFrame) -> dict[str, float]:
    """The ``prediction_daily`` sums of one day's points (actual and predicted present).

    MAPE terms use the near-zero rule of :func:`enms.ml.metrics.mape` within the day."""
    usable = points.dropna(subset=["actual", "predicted"])
    y = usable["actual"].to_numpy(dtype=np.float64)
    e = y - usable["predicted"].to_numpy(dtype=np.float64)
    scale = float(np.mean(np.abs(y))) if y.size else 0.0
    pct = np.abs(y) >= MAPE_NEAR_ZERO_FRACTION * scale if scale > 0 else np.zeros(0, bool)
    coverage, n_interval = _coverage(usable)
    return {
        "n": float(y.size), "sum_actual": float(y.sum()), "sum_actual_sq": float((y * y).sum()),
        "sum_error": float(e.sum()), "sum_abs_error": float(np.abs(e).sum()),
        "sum_sq_error": float((e * e).sum()), "n_pct": float(pct.sum()),
        "sum_abs_pct_error": float(np.abs(e[pct] / y[pct]).sum()) if pct.any() else 0.0,
        "n_interval": float(n_interval),
        "n_in_interval": float(round((coverage or 0.0) * n_interval)),
        "n_flagged": 0.0,
    }  # fmt: skip


def metrics_from_rollup(days: list[dict[str, float]]) -> LogMetrics:
    """r², RMSE, MAE, MAPE, CV(RMSE), NMBE and coverage from daily sums, exactly as from the
    points (MAPE: when no day left near-zero actuals out differently than the window would).

    >>> s = rollup_sums(pd.DataFrame({"actual": [10.0, 20, 30], "predicted": [12.0, 18, 30],
    ...     "lower": np.nan, "upper": np.nan}))
    >>> round(metrics_from_rollup([s]).values["cv_rmse"], 3)
    8.165
    """
    t = {k: sum(float(d.get(k, 0.0)) for d in days) for k in SUM_FIELDS}
    n = int(t["n"])
    values: dict[str, float | None] = dict.fromkeys(
        ("r_squared", "rmse", "mae", "mape", "cv_rmse", "nmbe")
    )
    undefined: dict[str, str] = {}
    if n == 0:
        undefined = dict.fromkeys(values, "empty window: no points to score")
        return LogMetrics(values=values, n=0, n_dropped=0, undefined=undefined)
    mean = t["sum_actual"] / n
    rmse = math.sqrt(t["sum_sq_error"] / n)
    values["rmse"], values["mae"] = rmse, t["sum_abs_error"] / n
    ss_tot = t["sum_actual_sq"] - t["sum_actual"] ** 2 / n
    if ss_tot > 1e-12 * max(1.0, t["sum_actual_sq"]):
        values["r_squared"] = 1.0 - t["sum_sq_error"] / ss_tot
    else:
        undefined["r_squared"] = "actuals have zero variance, so R² is undefined"
    if abs(mean) >= 1e-12:
        values["cv_rmse"] = 100.0 * rmse / mean
        values["nmbe"] = 100.0 * t["sum_error"] / (n * mean)
    else:
        undefined["cv_rmse"] = undefined["nmbe"] = "mean of actuals is zero"
    if t["n_pct"]:
        values["mape"] = 100.0 * t["sum_abs_pct_error"] / t["n_pct"]
    else:
        undefined["mape"] = "no actual above 1 % of mean |y|"
    coverage = t["n_in_interval"] / t["n_interval"] if t["n_interval"] else None
    return LogMetrics(
        values=values,
        n=n,
        n_dropped=0,
        undefined=undefined,
        extra={
            "interval_coverage": coverage,
            "n_interval": int(t["n_interval"]),
            "from": "prediction_daily rollup",
        },
    )
