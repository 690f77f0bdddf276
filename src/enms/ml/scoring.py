"""Score a fitted model on a window of readings, the way its model type is judged.

- ``baseline``: ``r_squared, rmse, mae, mape, cv_rmse, nmbe, n`` of expected vs actual energy.
- ``anomaly``: ``precision, recall, f1`` against the ``is_anomaly`` labels when the window
  has any, and always the ``alarm_rate``.
- ``forecast_*``: rolling-origin forecasts at the model's horizon, each conditioned only on
  readings before its origin (see :func:`enms.ml.forecasting.evaluate_forecaster`):
  ``mape, rmse, mae, skill`` (against the weekly seasonal-naive forecast), ``coverage``.

Each score names its *primary* metric, used to compare a new version with the champion on
the same data (``performance_improvement``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from enms.ml import metrics
from enms.ml.base import LABEL, TARGET, EnergyModel

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


def score(model: EnergyModel, frame: pd.DataFrame, *, start: pd.Timestamp | None = None) -> Score:
    """Score ``model`` on rows of ``frame`` at or after ``start`` (all rows when None).

    Forecasters also read the rows before ``start``: they are the history each rolling
    origin is conditioned on.
    """
    kind = model.model_type
    if kind.startswith("forecast_"):
        from enms.ml.forecasting import Forecaster, evaluate_forecaster

        assert isinstance(model, Forecaster)
        evaluation = evaluate_forecaster(model, frame, start=start)
        data = evaluation.to_dict()
        undefined = dict(data.pop("undefined", {}))
        values: dict[str, float | None] = {
            k: data.pop(k) for k in ("mape", "rmse", "mae", "skill", "coverage", "n") if k in data
        }
        return Score(kind, values, undefined, data)
    window = frame if start is None else frame[frame.index >= start]
    if kind == "anomaly":
        return _anomaly(model, window)
    report = metrics.regression_report(
        window[TARGET].to_numpy(dtype=float), model.predict(window).to_numpy(dtype=float)
    )
    return Score(kind, report.values, report.undefined)


def _anomaly(model: EnergyModel, window: pd.DataFrame) -> Score:
    flags = model.flag(window).to_numpy(dtype=bool)  # type: ignore[attr-defined]
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
