"""Evaluate a model version on a window of readings it did not train on, and record it.

Model work never runs inside a transaction: :func:`evaluate` reads what it needs in one short
unit of work, verifies and scores outside any, and writes the metrics row in a second short
one, so writers (heartbeats, triggers) are never held up by a long rolling forecast. The
scoring is synchronous (a request or command waits for it); windows are bounded by the
readings' resolution and the forecasters' day-ahead origins (one per day).

The row written to ``model_performance_metrics`` keeps the window (``evaluation_start/end``),
every metric the model type is judged by, and — in ``details`` — the reason for any metric
that has no value. Forecasters are scored by rolling-origin forecasts conditioned on the
readings before each origin, so the readings just before the window are loaded too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from enms.core.clock import Clock
from enms.core.db import SessionFactory, session_scope
from enms.core.errors import InvalidInput, NotFound
from enms.core.model_types import check_model_type
from enms.core.secrets import InstanceSecret
from enms.core.timewindow import Window
from enms.evaluation.models import PerformanceMetric
from enms.evaluation.schemas import EvaluationRead
from enms.ml.base import EnergyModel, ModelError
from enms.ml.scoring import Score, score
from enms.readings import service as readings
from enms.registry import artifacts
from enms.registry import service as registry
from enms.registry.models import ModelVersion

FORECAST_CONTEXT = timedelta(days=28)
METRIC_COLUMNS = (
    "r_squared",
    "rmse",
    "mae",
    "mape",
    "cv_rmse",
    "nmbe",
    "precision",
    "recall",
    "f1",
    "skill",
)


Stage = Callable[[str], None]


@dataclass(frozen=True)
class EvaluationInputs:
    """What scoring needs, read in one short unit of work and then used outside of it."""

    machine_id: int
    model_type: str
    window: Window
    version_id: int
    version: int
    artifact: artifacts.StoredArtifact
    secret: InstanceSecret
    frame: pd.DataFrame


def evaluate(
    *,
    factory: SessionFactory,
    machine_id: int,
    model_type: str,
    window: Window,
    version: int | None,
    clock: Clock,
    on_stage: Stage | None = None,
) -> EvaluationRead:
    """Score ``version`` (default: the champion) on ``window`` and record the metrics.

    This use case owns its units of work, because model work must never run inside one:
    a short read (version, artifact, readings), then verifying, loading and scoring outside
    any transaction, then a short write of the metrics row. ``on_stage`` hears ``loading``,
    ``scoring`` and ``recording`` as each step starts (progress lines in the CLI).
    """
    stage = on_stage or (lambda _name: None)
    with session_scope(factory) as session:
        inputs = read_inputs(
            session=session,
            machine_id=machine_id,
            model_type=model_type,
            window=window,
            version=version,
        )
    stage("loading")
    model = artifacts.load(inputs.artifact, inputs.secret)
    stage("scoring")
    result = score_inputs(model, inputs)
    stage("recording")
    with session_scope(factory, write=True) as session:
        return record(session=session, inputs=inputs, result=result, clock=clock)


def read_inputs(
    *, session: Session, machine_id: int, model_type: str, window: Window, version: int | None
) -> EvaluationInputs:
    """Check the request and read what scoring needs (no model is loaded here)."""
    if window.start is None or window.end is None:
        raise InvalidInput("an evaluation needs both from and to")
    readings.get_machine(session=session, machine_id=machine_id)
    row = registry.get_version(
        session=session, machine_id=machine_id, model_type=model_type, version=version
    )
    _refuse_training_overlap(row, window)
    forecaster = model_type.startswith("forecast_")
    load_from = window.start - FORECAST_CONTEXT if forecaster else window.start
    frame = readings.training_frame(
        session=session, machine_id=machine_id, start=load_from, end=window.end
    )
    if frame[frame.index >= window.start].empty:
        raise InvalidInput(
            f"no readings between {window.start:%Y-%m-%d %H:%M} and {window.end:%Y-%m-%d %H:%M} "
            "UTC to evaluate on"
        )
    return EvaluationInputs(
        machine_id=machine_id,
        model_type=model_type,
        window=window,
        version_id=row.id,
        version=row.version,
        artifact=artifacts.StoredArtifact.of(session, row),
        secret=artifacts.secret_of(session),
        frame=frame,
    )


def score_inputs(model: EnergyModel, inputs: EvaluationInputs) -> Score:
    """Score the loaded model on the window (pure model work: no database)."""
    assert inputs.window.start is not None
    try:
        result = score(model, inputs.frame, start=pd.Timestamp(inputs.window.start))
    except ModelError as exc:
        raise InvalidInput(
            f"cannot evaluate {inputs.model_type} v{inputs.version} on this window: {exc}"
        ) from exc
    if not result.values.get("n"):
        reasons = "; ".join(f"{k}: {v}" for k, v in result.undefined.items()) or "no points"
        raise InvalidInput(
            f"nothing in this window could be scored for {inputs.model_type} v{inputs.version} "
            f"({reasons}); choose a longer window"
        )
    return result


def record(
    *, session: Session, inputs: EvaluationInputs, result: Score, clock: Clock
) -> EvaluationRead:
    """Write the metrics row of a scored evaluation."""
    if session.get(ModelVersion, inputs.version_id) is None:
        raise NotFound(
            f"{inputs.model_type} v{inputs.version} was deleted while it was being evaluated"
        )
    window = inputs.window
    values = result.values
    metric = PerformanceMetric(
        model_id=inputs.version_id,
        machine_id=inputs.machine_id,
        model_type=inputs.model_type,
        model_version=inputs.version,
        evaluation_date=clock.now(),
        evaluation_start=window.start,
        evaluation_end=window.end,
        n_samples=_int(values.get("n")),
        **{k: values.get(k) for k in METRIC_COLUMNS},
        drift_detected=False,
        details={
            "undefined": result.undefined,
            **_jsonable(result.extra),
            **{k: v for k, v in values.items() if k not in METRIC_COLUMNS and k != "n"},
        },
        source="evaluation",
    )
    session.add(metric)
    session.flush()
    return EvaluationRead.model_validate(metric, from_attributes=True)


def _refuse_training_overlap(row: ModelVersion, window: Window) -> None:
    trained_from, trained_to = row.training_start, row.training_end
    assert window.start is not None
    assert window.end is not None
    if trained_from and trained_to and window.start < trained_to and window.end > trained_from:
        raise InvalidInput(
            f"the window overlaps the data {row.model_type} v{row.version} was trained on "
            f"({trained_from:%Y-%m-%d %H:%M} .. {trained_to:%Y-%m-%d %H:%M} UTC); evaluate on "
            f"readings from {trained_to:%Y-%m-%dT%H:%M}Z onwards"
        )


def _int(value: float | None) -> int | None:
    return None if value is None else int(value)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, float | int | str | bool) or value is None:
        return value
    return float(value) if hasattr(value, "__float__") else str(value)


def list_evaluations(
    *, session: Session, machine_id: int, model_type: str, limit: int = 100
) -> list[EvaluationRead]:
    """Recorded evaluations of a machine's model type, newest first."""
    check_model_type(model_type)
    rows = session.scalars(
        select(PerformanceMetric)
        .where(
            PerformanceMetric.machine_id == machine_id, PerformanceMetric.model_type == model_type
        )
        .order_by(PerformanceMetric.id.desc())
        .limit(limit)
    )
    return [EvaluationRead.model_validate(r, from_attributes=True) for r in rows]
