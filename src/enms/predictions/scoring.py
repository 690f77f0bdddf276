"""Turn a loaded model and a readings frame into prediction-log points (pure: no database).

One function per kind of model, each returning the points of one scoring run and the counts of
what could not be scored (missing data is counted, never hidden):

- ``baseline``: one point per reading in the window, ``predicted`` = expected energy.
  ``BaselineModel`` gives no prediction interval, so ``lower``/``upper`` stay None.
- ``anomaly``: ``predicted`` = the detector's internal baseline's expected energy, ``score``
  and ``flagged`` from :meth:`AnomalyDetector.score` / ``flag``.
- ``forecast_*``: one origin per local day at ``forecast_origin_hour`` in the machine's time
  zone (DST-correct: the wall clock decides), the model's horizon from each, 90 % interval.
  Each origin's paths come from the forecaster's own :meth:`Forecaster.paths`, which uses only
  the rows before the origin; targets past the newest reading are logged with ``actual`` None
  (filled when the reading arrives).

A row whose driver columns (``enms.ml.scoring.model_columns``) are missing gets no point and is
counted in ``missing_drivers``; a prediction the model declines (NaN) in ``no_prediction``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from enms.ml.base import TARGET, EnergyModel, MissingColumns
from enms.ml.scoring import model_columns

ALPHA = 0.1
"""Forecast intervals are central 90 % intervals."""


@dataclass
class Scored:
    """The points of one scoring run (index: target timestamp, UTC) and what was left out."""

    points: pd.DataFrame
    drivers: list[str]
    counts: dict[str, int] = field(default_factory=dict)
    source: str = "shadow"
    #: Set when the run stopped short of its window: the next run starts here (a forecast
    #: origin whose planned drivers are not all known yet is issued once they are).
    covered_until: pd.Timestamp | None = None


def score_window(
    model: EnergyModel,
    frame: pd.DataFrame,
    *,
    start: pd.Timestamp,
    end: pd.Timestamp,
    origin_hour: int = 0,
    timezone: str = "UTC",
) -> Scored:
    """Points of ``model`` for readings (baselines, detectors) or origins (forecasters) in
    ``[start, end)``; ``frame`` also holds the context before ``start`` forecasters need."""
    drivers = model_columns(model)
    if model.model_type.startswith("forecast_"):
        return _forecast(model, frame, start, end, origin_hour, timezone, drivers)
    window = frame[(frame.index >= start) & (frame.index < end)]
    absent = [c for c in drivers if c not in window.columns]
    if absent:
        # The readings never had this driver: nothing in the window can be predicted.
        empty = _empty()
        return Scored(empty, drivers, {"missing_drivers": len(window), "rows": len(window)})
    complete = (
        window[drivers].notna().all(axis=1).to_numpy() if drivers else np.ones(len(window), bool)
    )
    kept = window[complete]
    counts = {"rows": len(window), "missing_drivers": int((~complete).sum())}
    if kept.empty:
        return Scored(_empty(), drivers, counts)
    if model.model_type == "anomaly":
        points = _anomaly(model, kept)
    else:
        points = pd.DataFrame(
            {"predicted": model.predict(kept).to_numpy(dtype=float)}, index=kept.index
        )
    points["origin"] = points.index
    points["actual"] = kept[TARGET].to_numpy(dtype=float)
    declined = points["predicted"].isna().to_numpy()
    counts["no_prediction"] = int(declined.sum())
    return Scored(points[~declined], drivers, counts)


def _anomaly(model: EnergyModel, kept: pd.DataFrame) -> pd.DataFrame:
    inner = model.baseline_  # type: ignore[attr-defined]
    return pd.DataFrame(
        {
            "predicted": inner.predict(kept).to_numpy(dtype=float),
            "score": model.score(kept).to_numpy(dtype=float),  # type: ignore[attr-defined]
            "flagged": model.flag(kept).to_numpy(dtype=bool),  # type: ignore[attr-defined]
        },
        index=kept.index,
    )


def _empty() -> pd.DataFrame:
    return pd.DataFrame(
        {"origin": pd.DatetimeIndex([], tz="UTC"), "predicted": np.empty(0)},
        index=pd.DatetimeIndex([], tz="UTC"),
    )


def daily_origins(
    start: pd.Timestamp, end: pd.Timestamp, *, timezone: str, hour: int
) -> pd.DatetimeIndex:
    """UTC instants of local ``hour``:00 on each local day, within ``[start, end)``.

    The wall clock decides, so the UTC hour moves across a DST change; an hour skipped in
    spring moves forward, an hour repeated in autumn takes its first (summer-time) instant.

    >>> s, e = pd.Timestamp("2025-03-29", tz="UTC"), pd.Timestamp("2025-04-01", tz="UTC")
    >>> [str(t) for t in daily_origins(s, e, timezone="Europe/Berlin", hour=6)]
    ['2025-03-29 05:00:00+00:00', '2025-03-30 04:00:00+00:00', '2025-03-31 04:00:00+00:00']
    """
    first = start.tz_convert(timezone).tz_localize(None).normalize() - pd.Timedelta(days=1)
    last = end.tz_convert(timezone).tz_localize(None).normalize() + pd.Timedelta(days=1)
    wall = pd.date_range(first, last, freq="D") + pd.Timedelta(hours=hour)
    local = wall.tz_localize(
        timezone, ambiguous=np.ones(len(wall), dtype=bool), nonexistent="shift_forward"
    )
    instants = local.tz_convert("UTC")
    return instants[(instants >= start) & (instants < end)]


def _forecast(
    model: EnergyModel,
    frame: pd.DataFrame,
    start: pd.Timestamp,
    end: pd.Timestamp,
    origin_hour: int,
    timezone: str,
    drivers: list[str],
) -> Scored:
    from enms.ml.forecast_base import Forecaster

    assert isinstance(model, Forecaster)
    counts = {"origins": 0, "missing_drivers": 0, "no_prediction": 0}
    if frame.empty:
        return Scored(_empty(), drivers, counts, "forecast")
    absent = [c for c in model.drivers_ if c not in frame.columns]
    if absent:
        raise MissingColumns(absent)
    # The forecaster's own grid (it may prefix its stored training tail), then extended by
    # one horizon of empty rows: an origin at the newest reading forecasts a day not read yet.
    grid = model._grid(frame, ALPHA)
    step, h = model.step_, model.horizon_
    newest = pd.Timestamp(frame.index[-1])
    index = pd.date_range(grid.index[0], newest + h * step, freq=step, tz="UTC")
    grid = grid.reindex(index)
    origins = daily_origins(start, min(end, newest + step), timezone=timezone, hour=origin_hour)
    # An origin off the grid (a zone with a half-hour offset) is issued at the next slot.
    positions = np.unique(index.searchsorted(origins))
    positions = positions[(positions > 0) & (index[positions] <= newest)]
    covered_until = None
    if model.drivers_:
        # Planned drivers (a production plan) are known at the origin in a plant; here they
        # arrive with the readings, so an origin is issued once its whole horizon's drivers
        # are in — with the same readings before the origin, hence the same forecast.
        ready = index[positions + h - 1] <= newest
        if not ready.all():
            covered_until = pd.Timestamp(index[positions[~ready][0]])
            counts["postponed_origins"] = int((~ready).sum())
        positions = positions[ready]
    counts["origins"] = len(positions)
    if len(positions) == 0:
        return Scored(_empty(), drivers, counts, "forecast", covered_until)
    mean, lower, upper = model.paths(grid, positions, alpha=ALPHA)
    targets = positions[:, None] + np.arange(h)[None, :]
    flat = targets.ravel()
    points = pd.DataFrame(
        {
            "origin": np.repeat(index[positions], h),
            "predicted": mean.ravel(),
            "lower": lower.ravel(),
            "upper": upper.ravel(),
            "actual": grid[TARGET].to_numpy(dtype=float)[flat],
        },
        index=index[flat],
    )
    keep = np.ones(len(points), dtype=bool)
    if model.drivers_:
        # A planned driver not known for the target: the forecast would be a guess.
        known = grid[model.drivers_].notna().all(axis=1).to_numpy()[flat]
        counts["missing_drivers"] = int((~known).sum())
        keep &= known
    declined = points["predicted"].isna().to_numpy() & keep
    counts["no_prediction"] = int(declined.sum())
    keep &= ~declined
    return Scored(points[keep], drivers, counts, "forecast", covered_until)


def jsonable_counts(counts: dict[str, Any]) -> dict[str, int]:
    """Counts as plain ints (for the task's JSON result)."""
    return {k: int(v) for k, v in counts.items()}
