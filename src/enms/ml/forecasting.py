"""Rolling-origin evaluation of forecasters against seasonal-naive references.

This module owns how a forecast is *judged*. Origins fall every ``origin_every`` hours
(default 6: 00, 06, 12 and 18 UTC) and each issues a full-horizon forecast conditioned
only on readings stamped before it with the fitted version's parameters -- no refit, no
peeking at actuals after the origin. Because origins sit at several times of day, the
per-lead metrics (``by_lead``, by hours ahead) mean lead time, not hour of day.

Each scored target is compared with the weekly seasonal-naive forecast (the same
wall-clock slot one week earlier, in the model's ``timezone``) on exactly the same points;
``skill = 1 - RMSE/RMSE_naive`` (> 0 beats naive). The daily seasonal naive (the same slot
on the last day before the origin) is reported alongside as a second reference.

Day-ahead honesty: every evaluation records ``drivers_used`` and ``skill_upper_bound``.
The model's drivers are the caller's *planned* drivers (known at the origin), so the
bound is true only when a driver used is not declared planned: a column in ``planned``
(when the caller passes the machine's declared list) or, by default, a measured-only
column such as the actual ``outdoor_temp_c`` passed explicitly as a driver.

The shared surface (``Forecaster``, the time grid) lives in :mod:`enms.ml.forecast_base`
and :mod:`enms.ml.forecast_grid`; names are re-exported here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from enms.ml.base import TARGET, InsufficientData
from enms.ml.features import validate_frame
from enms.ml.forecast_base import (
    FORECAST_COLUMNS,
    MEASURED_ONLY,
    TEMP_KNOTS,
    TEMPERATURE,
    Forecaster,
    Resolution,
    check_drivers,
    driver_table,
    long_forecast,
    select_drivers,
)
from enms.ml.forecast_grid import (
    DAY,
    HOUR,
    WEEK,
    check_horizon,
    every_positions,
    infer_step,
    offday_mask,
    origin_positions,
    regular,
    seasonal_naive,
    time_of_week,
    wall_clock_earlier,
    wall_slot,
)
from enms.ml.metrics import MetricUndefined, forecast_skill, interval_coverage, mae, mape, rmse

SIX_HOURS = pd.Timedelta(hours=6)

__all__ = [
    "DAY",
    "FORECAST_COLUMNS",
    "HOUR",
    "MEASURED_ONLY",
    "TEMPERATURE",
    "TEMP_KNOTS",
    "WEEK",
    "ForecastEvaluation",
    "Forecaster",
    "Resolution",
    "check_drivers",
    "check_horizon",
    "driver_table",
    "evaluate_forecaster",
    "every_positions",
    "infer_step",
    "long_forecast",
    "offday_mask",
    "origin_positions",
    "regular",
    "seasonal_naive",
    "select_drivers",
    "time_of_week",
    "wall_clock_earlier",
    "wall_slot",
]


@dataclass(frozen=True)
class ForecastEvaluation:
    """Rolling-origin scores of a forecaster and of the seasonal-naive references."""

    overall: dict[str, float | None]
    by_lead: list[dict[str, float | None]]
    undefined: dict[str, str] = field(default_factory=dict)
    n_origins: int = 0
    alpha: float = 0.1
    naive_rmse: float | None = None
    references: dict[str, dict[str, float | None]] = field(default_factory=dict)
    drivers_used: list[str] = field(default_factory=list)
    skill_upper_bound: bool = False
    origin_every_hours: float = 6.0
    #: Forecast points (origin, target) left out: actual or a naive reference missing.
    n_dropped: int = 0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict with lower-snake-case metric keys."""
        return {
            **self.overall,
            "n_origins": self.n_origins,
            "n_dropped": self.n_dropped,
            "origin_every_hours": self.origin_every_hours,
            "nominal_coverage": 1.0 - self.alpha,
            "naive_rmse": self.naive_rmse,
            "references": self.references,
            "drivers_used": self.drivers_used,
            "skill_upper_bound": self.skill_upper_bound,
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


def _reference(table: pd.DataFrame, column: str) -> dict[str, float | None]:
    y, f = table["actual"], table[column]
    out: dict[str, float | None] = {}
    for key, func in (("mape", mape), ("rmse", rmse), ("mae", mae)):
        try:
            out[key] = func(y, f)
        except MetricUndefined:
            out[key] = None
    try:
        out["skill"] = forecast_skill(y, f, table["naive"])
    except MetricUndefined:
        out["skill"] = None
    return out


def _daily_naive(frame: pd.DataFrame, fc: pd.DataFrame, step: pd.Timedelta, tz: str) -> np.ndarray:
    """Same wall-clock slot on the last whole day before the origin (1 day back for leads
    up to a day, 2 for the second day, ...)."""
    grid = regular(frame, step)[TARGET]
    lead_days = np.ceil(fc["step"].to_numpy() * (step / DAY)).astype(int)
    out = np.full(len(fc), np.nan)
    index = pd.DatetimeIndex(fc.index)
    for days in np.unique(lead_days):
        sel = lead_days == days
        earlier = wall_clock_earlier(index[sel], tz, int(days))
        out[sel] = grid.reindex(earlier).to_numpy()
    return out


def evaluate_forecaster(
    model: Forecaster,
    frame: pd.DataFrame,
    *,
    start: pd.Timestamp | None = None,
    alpha: float = 0.1,
    origin_every: pd.Timedelta = SIX_HOURS,
    planned: tuple[str, ...] | None = None,
) -> ForecastEvaluation:
    """Score overlapping rolling-origin forecasts with origins at or after ``start``.

    ``frame`` holds the readings to forecast *and* the context before ``start`` (at least
    one week, which the seasonal-naive reference needs). ``start`` defaults to one week
    after the first reading. Only targets where the actual, the forecast and both naive
    references exist are scored, so all are judged on the same points. ``planned`` is the
    machine's declared planned drivers (see the module docstring).
    """
    frame = validate_frame(frame)
    step = model.step_
    tz = getattr(model, "timezone", "UTC")
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
    fc = model.forecast_from(frame, every=origin_every, start=start, alpha=alpha)
    table = fc.assign(
        actual=frame[TARGET].reindex(fc.index).to_numpy(),
        naive=seasonal_naive(frame, step, timezone=tz).reindex(fc.index).to_numpy(),
        daily_naive=_daily_naive(frame, fc, step, tz),
    )
    issued = len(table)
    table = table.dropna(subset=["actual", "forecast", "naive", "daily_naive", "lower", "upper"])
    undefined: dict[str, str] = {}
    overall = _scores(table, undefined, "")
    lead = np.ceil(table["step"].to_numpy() * (step / HOUR)).astype(int)
    by_lead = []
    for hours, part in table.groupby(lead, sort=True):
        ahead = int(hours)  # type: ignore[call-overload]
        by_lead.append({"hours_ahead": float(ahead), **_scores(part, undefined, f"{ahead}h.")})
    naive_rmse = rmse(table["actual"], table["naive"]) if len(table) else None
    references = {}
    if len(table):
        references = {
            "weekly_naive": _reference(table, "naive"),
            "daily_naive": _reference(table, "daily_naive"),
        }
    used = list(model.drivers_)
    declared = [d for d in used if d not in MEASURED_ONLY] if planned is None else list(planned)
    return ForecastEvaluation(
        overall=overall,
        by_lead=by_lead,
        undefined=undefined,
        n_origins=int(table["origin"].nunique()),
        alpha=alpha,
        naive_rmse=naive_rmse,
        references=references,
        drivers_used=used,
        skill_upper_bound=any(d not in declared for d in used),
        origin_every_hours=origin_every / HOUR,
        n_dropped=issued - len(table),
    )
