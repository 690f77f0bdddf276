"""Degradation parts of a drift check, from the prediction log: energy-grade and performance.

Owns :func:`log_residuals`, :func:`energy_part` and :func:`performance_part` (no database:
they read the :class:`~enms.drift.inputs.CheckInputs`). Both verdicts are reported in
``drift_details["degradation"]``, not folded into ``drift_detected``.

* Energy-grade (baseline and anomaly: their logged ``predicted`` is the expected energy):
  :func:`enms.drift.energy.energy_degradation` against ``ENMS_DRIFT__NMBE_ABS_MAX``.
* Performance: the current window's metrics from the log — ``regression_report`` of actual
  vs predicted for baselines; alarm rate and precision / recall / F1 of the ``flagged``
  points against the readings' ``is_anomaly`` labels for detectors; day-ahead points only
  (lead in [0, 24 h]) for forecasters, with the skill against the weekly seasonal naive —
  each judged by :func:`enms.evaluation.degradation.threshold` against the version's
  held-out value with the margin ``ENMS_MONITORING__DEGRADATION_RELATIVE[model_type]``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from enms.core.config import Settings
from enms.drift.energy import energy_degradation
from enms.drift.inputs import CheckInputs
from enms.evaluation.degradation import threshold
from enms.evaluation.schemas import METRICS_BY_TYPE
from enms.ml import metrics as formulas
from enms.ml.base import LABEL, TARGET
from enms.ml.forecast_grid import wall_clock_earlier

RESIDUAL_TYPES = ("baseline", "anomaly")
DAY_AHEAD = pd.Timedelta(days=1)


def _scored(inputs: CheckInputs) -> pd.DataFrame:
    """Logged points with an actual and a prediction (forecasters: day-ahead ones)."""
    points = inputs.points
    ok = points["actual"].notna() & points["predicted"].notna()
    if inputs.model_type.startswith("forecast_"):
        lead = pd.Series(points.index, index=points.index) - points["origin"]
        ok &= (lead >= pd.Timedelta(0)) & (lead <= DAY_AHEAD)
    kept = points[ok]
    return kept[~kept.index.duplicated(keep="last")]


def log_residuals(inputs: CheckInputs) -> pd.Series:
    """``actual − predicted`` of the logged current points (baseline and anomaly)."""
    if inputs.model_type not in RESIDUAL_TYPES:
        return pd.Series(dtype=float)
    scored = _scored(inputs)
    return (scored["actual"] - scored["predicted"]).astype(float)


def energy_part(
    inputs: CheckInputs, *, settings: Settings, since: datetime | None
) -> dict[str, Any]:
    """Energy-grade degradation over the current window (since the change point if any)."""
    if inputs.model_type not in RESIDUAL_TYPES:
        return {
            "applicable": False,
            "degraded": None,
            "reason": "forecasts are not expected energy; see performance degradation",
        }
    scored = _scored(inputs)
    # Judged on the recent part of a long window: since the change point when there is one,
    # else the last ENMS_DRIFT__CURRENT_DAYS days. Over everything a version served since it
    # was trained, a leak of the last week would be diluted by months of honest readings.
    since_from = "change point"
    if since is None and inputs.current.start is not None and inputs.current.end is not None:
        recent = inputs.current.end - timedelta(days=settings.drift.current_days)
        since, since_from = max(inputs.current.start, recent), "recent days"
    judged = scored if since is None else scored[scored.index >= pd.Timestamp(since)]
    found = energy_degradation(
        judged["actual"],
        judged["predicted"],
        label=inputs.machine_name,
        since=since,
        nmbe_abs_max=settings.drift.nmbe_abs_max,
        timezone=inputs.timezone,
    )
    out = found.as_dict()
    out["n_dropped"] = found.n_dropped + int(len(inputs.points) - len(scored))
    out["since_from"] = since_from if since is not None else "window start"
    out["window_days"] = settings.drift.current_days
    return {"applicable": True, **out}


def _regression(scored: pd.DataFrame) -> tuple[dict[str, float | None], dict[str, str]]:
    report = formulas.regression_report(
        scored["actual"].to_numpy(dtype=float), scored["predicted"].to_numpy(dtype=float)
    )
    return dict(report.values), dict(report.undefined)


def _anomaly(
    inputs: CheckInputs, scored: pd.DataFrame
) -> tuple[dict[str, float | None], dict[str, str]]:
    flags = scored["flagged"].astype("boolean")
    known = flags.notna()
    values: dict[str, float | None] = {"n": float(int(known.sum()))}
    undefined: dict[str, str] = {}
    flagged = flags[known].astype(bool).to_numpy()
    values["alarm_rate"] = float(np.mean(flagged)) if len(flagged) else None
    if not len(flagged):
        undefined["alarm_rate"] = "no logged points with an alarm decision"
    labels = inputs.current_frame.get(LABEL)
    label = (
        labels.reindex(scored.index[known.to_numpy()]).astype("boolean")
        if labels is not None
        else pd.Series(dtype="boolean")
    )
    has = label.notna().to_numpy() if len(label) else np.zeros(0, dtype=bool)
    for name, func in (
        ("precision", formulas.precision),
        ("recall", formulas.recall),
        ("f1", formulas.f1),
    ):
        if not has.any():
            values[name], undefined[name] = None, "no is_anomaly labels in the current window"
            continue
        try:
            values[name] = func(label[has].astype(bool).to_numpy(), flagged[has])
        except formulas.MetricUndefined as exc:
            values[name], undefined[name] = None, exc.reason
    return values, undefined


def _forecast(
    inputs: CheckInputs, scored: pd.DataFrame
) -> tuple[dict[str, float | None], dict[str, str]]:
    values, undefined = _regression(scored)
    values.pop("r_squared", None), values.pop("cv_rmse", None), values.pop("nmbe", None)
    for k in ("r_squared", "cv_rmse", "nmbe"):
        undefined.pop(k, None)
    history = inputs.history_frame[TARGET]
    earlier = wall_clock_earlier(pd.DatetimeIndex(scored.index), inputs.timezone, 7)
    naive = history[~history.index.duplicated()].reindex(earlier).to_numpy(dtype=float)
    ok = np.isfinite(naive)
    values["n_skill"] = float(ok.sum())
    try:
        values["skill"] = formulas.forecast_skill(
            scored["actual"].to_numpy(dtype=float)[ok],
            scored["predicted"].to_numpy(dtype=float)[ok],
            naive[ok],
        )
    except formulas.MetricUndefined as exc:
        values["skill"], undefined["skill"] = (
            None,
            f"against the weekly seasonal naive: {exc.reason}",
        )
    return values, undefined


def performance_part(
    inputs: CheckInputs, *, settings: Settings
) -> tuple[dict[str, Any], dict[str, float | None], int]:
    """The current metrics from the log against the held-out ones: details, metrics, n."""
    kind = inputs.model_type
    scored = _scored(inputs)
    margin = settings.monitoring.degradation_relative.get(kind, 0.25)
    base: dict[str, Any] = {
        "method": "current-window metrics from the prediction log vs the version's held-out "
        "metrics (enms.evaluation.degradation.threshold)",
        "margin": margin,
        "points": "day-ahead (lead in [0, 24 h])" if kind.startswith("forecast_") else "all",
        "n_logged": len(inputs.points),
    }
    if scored.empty:
        reason = "no logged points with an actual in the current window"
        return {**base, "n": 0, "degraded": None, "reason": reason}, {}, 0
    if kind == "anomaly":
        values, undefined = _anomaly(inputs, scored)
    elif kind.startswith("forecast_"):
        values, undefined = _forecast(inputs, scored)
    else:
        values, undefined = _regression(scored)
    judged = []
    for name in METRICS_BY_TYPE.get(kind, ()):
        held = inputs.metrics_holdout.get(name)
        held_out = float(held) if isinstance(held, int | float) else None
        rule = threshold(name, held_out, margin)
        current = values.get(name)
        judged.append(
            {
                "metric": name,
                "current": current,
                "held_out": held_out,
                "threshold": rule.value if rule else None,
                "direction": (">" if rule.above else "<") if rule else None,
                "rule": rule.rule if rule else "no held-out value to compare with",
                "degraded": rule.degraded(current) if rule else None,
            }
        )
    verdicts = [j["degraded"] for j in judged if j["degraded"] is not None]
    n = int(values.get("n") or 0)
    details = {
        **base,
        "n": n,
        "metrics": judged,
        "current": values,
        "undefined": undefined,
        "degraded_metrics": [j["metric"] for j in judged if j["degraded"]],
        "degraded": any(verdicts) if verdicts else None,
    }
    if not verdicts:
        details["reason"] = "no metric had both a current and a held-out value"
    return details, values, n
