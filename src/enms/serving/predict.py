"""What a loaded model says about the requested rows (pure: no database, never trains).

- ``baseline``: ``predicted`` = :meth:`BaselineModel.predict`, the expected energy.
- ``anomaly``: ``predicted`` = the detector's internal baseline's expected energy, ``score``
  and ``flagged`` from the detector's own ``score``/``flag`` (the rows carry ``energy_kwh``,
  the reading scored), exactly as shadow scoring logs them.
- ``forecast_*``: the mean path and central 90 % interval of :meth:`Forecaster.paths` from
  **one origin**: the grid slot right after the machine's newest reading before the first
  requested timestamp. So a served forecast uses every reading known before its targets and
  none at or after its origin; a repeated request (no new readings) has the same origin, the
  same forecast and the same log key ``(version, ts, origin)``; a live request ("the next
  24 h") is forecast from now. Rows must lie on the model's grid (its reading interval) within
  its horizon from that origin; planned drivers (if the model has any) come from the rows.

Baselines and detectors are logged with ``origin = ts`` (the key shadow points have).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from enms.core.errors import Conflict, InvalidInput
from enms.ml.base import TARGET, EnergyModel
from enms.ml.forecast_base import Forecaster
from enms.ml.scoring import model_columns
from enms.serving.rows import require_drivers

ALPHA = 0.1
"""Served forecast intervals are central 90 % intervals (as in the prediction log)."""


def required_columns(model: EnergyModel) -> list[str]:
    """The columns a request's rows must carry for ``model``."""
    columns = list(model_columns(model))
    if model.model_type == "anomaly":
        columns = [TARGET, *columns]
    return columns


def predict(
    model: EnergyModel, rows: pd.DataFrame, *, label: str, history: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Points for ``rows`` (index: UTC timestamps): ``origin, predicted, lower, upper, score,
    flagged``; ``history`` holds the readings before the first row (forecasters only)."""
    ordered = rows.sort_index()
    if isinstance(model, Forecaster):
        require_drivers(ordered, list(model.drivers_), label=label)
        if history is None or history.empty:
            raise Conflict(
                f"{label} forecasts from the readings before the requested timestamps, and the "
                f"machine has none before {ordered.index[0].isoformat()}: import readings first",
                details={"reason": "no_history"},
            )
        return forecast(model, ordered, history, label=label)
    require_drivers(ordered, required_columns(model), label=label)
    if model.model_type == "anomaly":
        inner = model.baseline_  # type: ignore[attr-defined]
        out = pd.DataFrame(
            {
                "predicted": inner.predict(ordered).to_numpy(dtype=float),
                "score": model.score(ordered).to_numpy(dtype=float),  # type: ignore[attr-defined]
                "flagged": model.flag(ordered).to_numpy(dtype=bool),  # type: ignore[attr-defined]
            },
            index=ordered.index,
        )
    else:
        out = pd.DataFrame(
            {"predicted": model.predict(ordered).to_numpy(dtype=float)}, index=ordered.index
        )
    out["origin"] = out.index
    return out


def forecast_origin(model: Forecaster, history: pd.DataFrame) -> pd.Timestamp:
    """The origin of a served forecast: the slot after the newest reading in ``history``."""
    return pd.Timestamp(history.index[-1]) + model.step_


def forecast(
    model: Forecaster, rows: pd.DataFrame, history: pd.DataFrame, *, label: str
) -> pd.DataFrame:
    """The forecaster's paths from :func:`forecast_origin` at the rows' timestamps."""
    step, h = model.step_, model.horizon_
    origin = forecast_origin(model, history)
    lead = (pd.DatetimeIndex(rows.index) - origin) / step
    steps = np.asarray(lead, dtype=float)
    off_grid = np.flatnonzero(~np.isclose(steps, np.round(steps)))
    if len(off_grid):
        ts = rows.index[off_grid[0]]
        raise InvalidInput(
            f"{label} forecasts every {_span(step)} from {origin.isoformat()}; "
            f"{ts.isoformat()} is not on that grid",
            details={"field": "timestamp", "step_seconds": step.total_seconds()},
        )
    k = np.round(steps).astype(np.int64)
    beyond = np.flatnonzero((k < 0) | (k >= h))
    if len(beyond):
        ts = rows.index[beyond[0]]
        raise InvalidInput(
            f"{label} forecasts {_span(step * h)} ahead of its origin {origin.isoformat()} (the "
            f"slot after the newest reading before the first row); {ts.isoformat()} is outside "
            f"[{origin.isoformat()}, {(origin + step * h).isoformat()}): ask for fewer rows or "
            "import the newer readings first",
            details={"field": "timestamp", "origin": origin.isoformat(), "horizon_steps": h},
        )
    grid = model._grid(history, ALPHA)
    index = pd.date_range(grid.index[0], origin + step * (h - 1), freq=step, tz="UTC")
    grid = grid.reindex(index)
    targets = index.get_indexer(rows.index)
    for name in model.drivers_:
        values = grid[name].to_numpy(dtype=float, copy=True)
        values[targets] = rows[name].to_numpy(dtype=float)
        grid[name] = values
    position = int(index.get_indexer(pd.DatetimeIndex([origin]))[0])
    if position < 0:
        raise InvalidInput(
            f"{label}: its origin {origin.isoformat()} is not on the grid of the readings before it"
        )
    mean, lower, upper = model.paths(grid, np.array([position]), alpha=ALPHA)
    return pd.DataFrame(
        {
            "origin": pd.DatetimeIndex([origin] * len(rows)),
            "predicted": mean[0, k],
            "lower": lower[0, k],
            "upper": upper[0, k],
        },
        index=rows.index,
    )


def _span(delta: pd.Timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    return f"{minutes // 60} h" if minutes % 60 == 0 else f"{minutes} min"
