"""The computation of one drift check, from what was read to the verdict (no database).

Owns :func:`reference_residuals` (the model's residuals over the reference window — the only
model work) and :func:`run_check`, which puts the parts together:

* **data drift** (:mod:`enms.drift.data_check`) — every driver against a season /
  operating-mode matched reference;
* **concept drift** (:func:`enms.drift.concept.concept_drift`) — baseline and anomaly only:
  the residuals of the logged current points (``actual − predicted``) inside the reference's
  driver support (:func:`enms.drift.concept.in_support`) against the reference residuals,
  and those outside it against the matched outside-support hours of the recent past
  (:mod:`enms.drift.outside_support`);
* **degradation** (:mod:`enms.drift.degradation`) — energy-grade and performance, with their
  own verdicts, not folded into ``drift_detected``.

``drift_detected`` is concept drift OR dataset-level data drift: True when either part
detected drift, False when at least one part was decided and none detected drift, None when
neither could be decided (``reason`` says why). ``drift_score`` is the larger of the two
parts' scores, each in [0, 1] and ≥ 0.5 exactly when its part detected drift (see
:mod:`enms.drift.score` and :mod:`enms.drift.data_check`), so ``drift_score ≥ 0.5`` exactly
when ``drift_detected`` is True; None when neither part produced a score.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from enms.core.config import Settings
from enms.drift import concept
from enms.drift.data_check import data_drift, driver_columns
from enms.drift.degradation import energy_part, log_residuals, performance_part
from enms.drift.inputs import CheckInputs
from enms.ml.base import TARGET, EnergyModel
from enms.ml.scoring import model_columns

RESIDUAL_TYPES = ("baseline", "anomaly")
DEFINITIONS = {
    "drift_detected": "concept drift (residual detectors: current points inside the "
    "reference's driver support against the reference, points outside it against the matched "
    "outside-support points of the trailing 28 days; baseline and anomaly) OR dataset-level "
    "data drift against a "
    "season / operating-mode matched reference; None when neither could be decided",
    "drift_score": "max of the concept-drift score and the data-drift score; each part maps "
    "its deciding statistic onto [0, 1] with 0.5 exactly at its threshold (data: the "
    "ceil(drift_share * n_checked)-th largest driver score), so drift_score >= 0.5 exactly "
    "when drift_detected",
    "degradation": "energy-grade (NMBE, cumulative kWh) and performance (metrics vs held-out) "
    "verdicts, reported apart from drift_detected",
}


@dataclass(frozen=True)
class CheckResult:
    """The verdict, its score, every detail, and the current metrics from the log."""

    drift_detected: bool | None
    drift_score: float | None
    reason: str | None
    details: dict[str, Any]
    metrics: dict[str, float | None]
    n_samples: int


def needs_model(inputs: CheckInputs) -> bool:
    """Whether the reference residuals (and so the model) are needed."""
    return inputs.model_type in RESIDUAL_TYPES and not log_residuals(inputs).empty


def reference_residuals(model: EnergyModel, frame: pd.DataFrame) -> tuple[pd.Series, list[str]]:
    """``actual − expected`` of ``model`` over ``frame`` (NaN where it has no prediction),
    and the driver columns the model reads."""
    columns = [c for c in model_columns(model) if c in frame.columns]
    complete = frame[frame[TARGET].notna() & frame[columns].notna().all(axis=1)]
    # A detector's ``predict`` is its anomaly score; its expected energy is its baseline's.
    expected_model: EnergyModel = getattr(model, "baseline_", None) or model
    expected = (
        expected_model.predict(complete)
        if len(complete)
        else pd.Series(dtype=float, index=complete.index)
    )
    residual = (complete[TARGET] - expected).reindex(frame.index)
    return residual.astype(float), columns


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _concept(
    inputs: CheckInputs, residuals: pd.Series | None, columns: list[str], why_not: str | None
) -> tuple[dict[str, Any], concept.ConceptDrift | None]:
    base: dict[str, Any] = {"applicable": inputs.model_type in RESIDUAL_TYPES}
    if inputs.model_type not in RESIDUAL_TYPES:
        reason = (
            "not applicable to forecasters: their errors grow with the lead time and the "
            "weather forecast, so they are judged by performance degradation"
        )
        return {**base, "drift_detected": None, "reason": reason}, None
    current = log_residuals(inputs)
    if current.empty:
        reason = (
            "no logged points with an actual in the current window: the scoring task has "
            "not scored it yet"
        )
        return {**base, "drift_detected": None, "reason": reason}, None
    if residuals is None:
        return {**base, "drift_detected": None, "reason": why_not}, None
    # Support and the driver adjustment use every driver the readings have, not only the
    # model's: a driver the model ignores (a winter chiller's temperature) still decides
    # whether the relation was ever observed under the current conditions.
    every = [c for c in driver_columns(inputs.reference_frame) if c in inputs.current_frame]
    drivers = inputs.current_frame.reindex(current.index)
    if every:
        support = concept.in_support(inputs.reference_frame[every], drivers[every])
        inside = np.asarray(support.fillna(False), dtype=bool)
        kept, outside = current[inside], current[~inside]
    else:
        kept, outside = current, None
    found = concept.concept_drift(
        residuals,
        kept,
        timezone=inputs.timezone,
        reference_drivers=inputs.reference_frame[every] if every else None,
        current_drivers=inputs.current_frame[every] if every else None,
        outside=outside,
    )
    out = asdict(found)
    out["change_point"] = _iso(found.change_point)
    out["detected_at"] = _iso(found.detected_at)
    support_info = {
        "columns": every,
        "model_columns": columns,
        "n_current_points": len(current),
        "n_in_support": len(kept),
        "n_outside_support": len(current) - len(kept),
        "n_reference_residuals": int(residuals.notna().sum()),
        "n_reference_dropped": int(residuals.isna().sum()),
    }
    return {**base, **out, "support": support_info}, found


def run_check(
    inputs: CheckInputs,
    *,
    settings: Settings,
    residuals: pd.Series | None,
    columns: list[str],
    why_no_residuals: str | None = None,
) -> CheckResult:
    """Data drift, concept drift and degradation of ``inputs``, and the combined verdict."""
    ref, cur = inputs.reference, inputs.current
    label = (
        f"{inputs.reference_source} {_iso(ref.start)} .. {_iso(ref.end)}"
        + (f" ({inputs.n_reference_overlap} rows inside the current window left out)"
           if inputs.n_reference_overlap else "")
    )  # fmt: skip
    data = data_drift(
        inputs.reference_frame,
        inputs.current_frame,
        settings=settings.drift,
        timezone=inputs.timezone,
        reference_label=label,
    )
    concept_details, found = _concept(inputs, residuals, columns, why_no_residuals)
    change_point = found.change_point if found is not None and found.drift_detected else None
    energy = energy_part(inputs, settings=settings, since=change_point)
    performance, metrics, n_scored = performance_part(inputs, settings=settings)
    verdicts = {
        "concept_drift": concept_details.get("drift_detected"),
        "data_drift": data.drift_detected,
    }
    decided = {k: v for k, v in verdicts.items() if v is not None}
    drift = any(decided.values()) if decided else None
    scores = [s for s in (data.score, found.score if found else None) if s is not None]
    reasons = {
        "concept_drift": concept_details.get("reason"),
        "data_drift": data.details.get("reason"),
    }
    undecided = "; ".join(
        f"{part}: {reasons[part] or 'undecided'}" for part, v in verdicts.items() if v is None
    )
    details = {
        "definitions": DEFINITIONS,
        "reference": {
            "start": _iso(ref.start),
            "end": _iso(ref.end),
            "source": inputs.reference_source,
            "n_rows": len(inputs.reference_frame),
            "n_left_out_inside_current": inputs.n_reference_overlap,
        },
        "current": {
            "start": _iso(cur.start),
            "end": _iso(cur.end),
            "n_readings": len(inputs.current_frame),
            "n_logged_points": len(inputs.points),
        },
        "verdict": {
            "drift_detected": drift,
            "parts": verdicts,
            "drifted": [k for k, v in decided.items() if v],
            "change_point": _iso(change_point),
            "reason": undecided or None,
        },
        "data_drift": data.details,
        "concept_drift": concept_details,
        "degradation": {"energy": energy, "performance": performance},
    }
    n_samples = n_scored or len(inputs.current_frame)
    return CheckResult(
        drift_detected=drift,
        drift_score=max(scores) if scores else None,
        reason=None if drift is not None else undecided,
        details=_jsonable(details),
        metrics=metrics,
        n_samples=n_samples,
    )


def _jsonable(value: Any) -> Any:
    """Plain JSON: numpy scalars to Python, non-finite floats to None, datetimes to ISO."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return float(value) if np.isfinite(value) else None
    if isinstance(value, datetime | pd.Timestamp):
        return value.isoformat()
    return value
