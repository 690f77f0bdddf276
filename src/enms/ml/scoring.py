"""Score a fitted model on a window of readings, the way its model type is judged.

- ``baseline``: ``r_squared, rmse, mae, mape, cv_rmse, nmbe`` of expected vs actual energy.
- ``anomaly``: ``precision, recall, f1`` against the ``is_anomaly`` labels when the window
  has any, and always the ``alarm_rate``.
- ``forecast_*``: rolling-origin forecasts at the model's horizon, each conditioned only on
  readings before its origin (see :func:`enms.ml.forecasting.evaluate_forecaster`):
  ``mape, rmse, mae, skill`` (against the weekly seasonal-naive forecast), ``coverage``.

Real meters have gaps. Every score carries ``n`` (rows scored) and ``n_dropped`` (rows of
the window left out for a missing value): a baseline or detector row is left out when its
``energy_kwh`` or any driver column the model uses is missing (``extra["dropped"]`` says
which); a forecast target is left out when its ``energy_kwh`` is missing (forecasters fill
driver gaps themselves). A driver column the model uses that is absent from the readings
altogether raises :class:`~enms.ml.base.MissingColumns` before any model runs.

Each score names its *primary* metric, used to compare a new version with the champion on
the same data (``performance_improvement``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from enms.ml import metrics
from enms.ml.base import LABEL, TARGET, EnergyModel, MissingColumns

PRIMARY: dict[str, tuple[str, bool]] = {
    "baseline": ("cv_rmse", False),
    "anomaly": ("f1", True),
    "forecast_arima": ("rmse", False),
    "forecast_prophet": ("rmse", False),
}


@dataclass
class Score:
    """Metric values (None where undefined, with the reason in ``undefined``)."""

    model_type: str
    values: dict[str, float | None]
    undefined: dict[str, str] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def primary(self) -> tuple[str, bool]:
        """(metric name, higher is better) used to compare versions."""
        return PRIMARY[self.model_type]

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: values, the reasons for missing ones, extras."""
        return {**self.values, "undefined": self.undefined, **self.extra}


def model_columns(model: EnergyModel) -> list[str]:
    """Driver columns a fitted ``model`` reads from the readings (the target excluded).

    A model may say so itself (``required_columns()``); otherwise they follow from its
    learned attributes: a baseline's ``drivers_`` plus its temperature column when it has
    a balance point, a detector's internal baseline, a forecaster's ``drivers_``.
    """
    own = getattr(model, "required_columns", None)
    if callable(own):
        return [str(c) for c in own()]
    inner = getattr(model, "baseline_", None)
    if isinstance(inner, EnergyModel):
        return model_columns(inner)
    names = [str(c) for c in getattr(model, "drivers_", None) or ()]
    temperature = getattr(model, "temperature_column_", None)
    balances = (
        getattr(model, "heating_balance_c_", None),
        getattr(model, "cooling_balance_c_", None),
    )
    if temperature is not None and any(b is not None for b in balances):
        names.append(str(temperature))
    return list(dict.fromkeys(names))


def require_columns(model: EnergyModel, frame: pd.DataFrame) -> list[str]:
    """The model's driver columns; :class:`MissingColumns` when ``frame`` lacks any."""
    columns = model_columns(model)
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise MissingColumns(missing)
    return columns


def score(model: EnergyModel, frame: pd.DataFrame, *, start: pd.Timestamp | None = None) -> Score:
    """Score ``model`` on rows of ``frame`` at or after ``start`` (all rows when None).

    Forecasters also read the rows before ``start``: they are the history each rolling
    origin is conditioned on.
    """
    kind = model.model_type
    columns = require_columns(model, frame)
    window = frame if start is None else frame[frame.index >= start]
    if kind.startswith("forecast_"):
        return _forecast(model, frame, window, start)
    complete, dropped = _complete_rows(window, columns)
    if kind == "anomaly":
        result = _anomaly(model, window[complete])
    else:
        kept = window[complete]
        predicted = model.predict(kept).to_numpy(dtype=float) if len(kept) else np.empty(0)
        ok = ~np.isnan(predicted)  # a model may still decline a row; it is dropped too
        if not ok.all():
            dropped["no_prediction"] = int((~ok).sum())
        report = metrics.regression_report(kept[TARGET].to_numpy(dtype=float)[ok], predicted[ok])
        result = Score(kind, report.values, report.undefined)
    return _with_counts(result, dropped, columns)


def _complete_rows(window: pd.DataFrame, columns: list[str]) -> tuple[np.ndarray, dict[str, int]]:
    """Mask of rows with the target and every used driver present, and the drop counts."""
    has_target = (
        window[TARGET].notna().to_numpy() if TARGET in window else np.zeros(len(window), bool)
    )
    has_drivers = (
        window[columns].notna().all(axis=1).to_numpy() if columns else np.ones(len(window), bool)
    )
    dropped = {
        "missing_target": int((~has_target).sum()),
        "missing_drivers": int((has_target & ~has_drivers).sum()),
    }
    return has_target & has_drivers, dropped


def _with_counts(result: Score, dropped: dict[str, int], columns: list[str]) -> Score:
    n_dropped = sum(dropped.values())
    result.values["n_dropped"] = float(n_dropped)
    result.extra["dropped"] = {k: v for k, v in dropped.items() if v}
    n = result.values.get("n") or 0.0
    if n_dropped and not n:
        why = f"all {n_dropped} rows lack {TARGET}" + (f" or one of {columns}" if columns else "")
        for name, value in result.values.items():
            if value is None:
                result.undefined[name] = why
    return result


def _forecast(
    model: EnergyModel, frame: pd.DataFrame, window: pd.DataFrame, start: pd.Timestamp | None
) -> Score:
    from enms.ml.forecasting import Forecaster, evaluate_forecaster

    assert isinstance(model, Forecaster)
    evaluation = evaluate_forecaster(model, frame, start=start)
    data = evaluation.to_dict()
    undefined = dict(data.pop("undefined", {}))
    values: dict[str, float | None] = {
        k: data.pop(k) for k in ("mape", "rmse", "mae", "skill", "coverage", "n") if k in data
    }
    # Forecasts are scored per (origin, target) point: a missing reading drops every
    # forecast of it, and of the day after whose daily-naive reference it is.
    dropped = int(data.pop("n_dropped", 0))
    result = Score(model.model_type, values, undefined, data)
    return _with_counts(result, {"missing_actual_or_reference": dropped}, [])


def _anomaly(model: EnergyModel, window: pd.DataFrame) -> Score:
    flag = model.flag  # type: ignore[attr-defined]
    flags = flag(window).to_numpy(dtype=bool) if len(window) else np.zeros(0, dtype=bool)
    values: dict[str, float | None] = {"n": float(len(window))}
    undefined: dict[str, str] = {}
    if len(window):
        values["alarm_rate"] = float(np.mean(flags))
    else:
        values["alarm_rate"] = None
        undefined["alarm_rate"] = "empty window: no points to score"
    labels = window.get(LABEL)
    labelled = labels is not None and bool(labels.notna().any())
    for name, func in (
        ("precision", metrics.precision),
        ("recall", metrics.recall),
        ("f1", metrics.f1),
    ):
        if not labelled:
            values[name] = None
            undefined[name] = "no is_anomaly labels in this window"
            continue
        assert labels is not None
        known = labels.notna().to_numpy()
        try:
            values[name] = func(labels[known].astype(bool).to_numpy(), flags[known])
        except metrics.MetricUndefined as exc:
            values[name] = None
            undefined[name] = exc.reason
    return Score("anomaly", values, undefined)


def improvement(new: Score, champion: Score) -> float | None:
    """Relative improvement of ``new`` over ``champion`` on the primary metric, in percent.

    Positive means better. None when either value is undefined or the champion's is zero.

    >>> a = Score("baseline", {"cv_rmse": 10.0}); b = Score("baseline", {"cv_rmse": 12.5})
    >>> improvement(a, b)
    20.0
    """
    name, higher_is_better = new.primary
    ours, theirs = new.values.get(name), champion.values.get(name)
    if ours is None or theirs is None or theirs == 0:
        return None
    change = (ours - theirs) if higher_is_better else (theirs - ours)
    return float(100.0 * change / abs(theirs))
