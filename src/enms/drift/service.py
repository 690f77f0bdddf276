"""The drift check of one model version: read, compute outside any transaction, record.

Owns :func:`check_drift` (the use case behind ``POST /model-performance/drift/check``,
``enms drift check`` and the periodic :func:`enms.drift.tasks.drift_checks`) and its
units of work: :func:`read_inputs` (one short read: version, windows, readings, logged
points, time zone), then the model work (the reference residuals — the version's own
predictions over its reference window; the artifact is verified and loaded only when
concept drift needs them) and the statistics (:func:`enms.drift.check.run_check`) outside
any transaction, then one short write of a ``model_performance_metrics`` row
(``source="drift_check"``, window = the current window).

Defaults (``ENMS_DRIFT__CURRENT_DAYS``): reference = the version's training window,
current = the last ``current_days`` days before now. Reference rows inside the current
window are left out (counted), so a window is never compared with itself.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pandas as pd
from sqlalchemy.orm import Session

from enms.core.clock import Clock
from enms.core.config import Settings
from enms.core.db import SessionFactory, session_scope
from enms.core.errors import InvalidInput, NotFound
from enms.core.timewindow import Window
from enms.drift.check import CheckResult, needs_model, reference_residuals, run_check
from enms.drift.inputs import CheckInputs
from enms.drift.schemas import DriftCheckRead
from enms.evaluation.models import PerformanceMetric
from enms.evaluation.service import METRIC_COLUMNS
from enms.predictions import repository as log
from enms.readings import service as readings
from enms.registry import artifacts
from enms.registry import service as registry
from enms.registry.models import ModelVersion

HISTORY = timedelta(days=8)  # a week for the forecasters' seasonal-naive skill, and a day


def check_drift(
    *,
    factory: SessionFactory,
    settings: Settings,
    clock: Clock,
    machine_id: int,
    model_type: str,
    version: int | None = None,
    reference: Window | None = None,
    current: Window | None = None,
    record: bool = True,
    on_stage: Callable[[str], None] | None = None,
) -> DriftCheckRead:
    """Check ``version`` (default: the champion) for drift; record the answer unless told not.

    This use case owns its units of work (model work never runs inside one). ``on_stage``
    hears ``loading`` (only when the model is needed), ``computing`` and ``recording`` as
    each step starts, outside any transaction (progress lines in the CLI).
    """
    stage = on_stage or (lambda _name: None)
    with session_scope(factory) as session:
        inputs = read_inputs(
            session=session,
            settings=settings,
            clock=clock,
            machine_id=machine_id,
            model_type=model_type,
            version=version,
            reference=reference,
            current=current,
        )
    residuals: pd.Series | None = None
    columns: list[str] = []
    why_not: str | None = None
    if needs_model(inputs):
        if inputs.artifact is None or inputs.artifact.data is None or inputs.secret is None:
            why_not = "the version has no artifact (external model): no reference residuals"
        else:
            stage("loading")
            model = artifacts.load(inputs.artifact, inputs.secret)
            residuals, columns = reference_residuals(model, inputs.reference_frame)
    stage("computing")
    result = run_check(
        inputs, settings=settings, residuals=residuals, columns=columns, why_no_residuals=why_not
    )
    if not record:
        return answer(None, inputs, result, clock)
    stage("recording")
    with session_scope(factory, write=True) as session:
        row = write(session=session, inputs=inputs, result=result, clock=clock)
        return answer(row, inputs, result, clock)


def resolve_current(current: Window | None, *, settings: Settings, clock: Clock) -> Window:
    """The current window with its defaults filled in (end: now; start: end − current_days)."""
    end = (current.end if current else None) or clock.now()
    start = (current.start if current else None) or end - timedelta(
        days=settings.drift.current_days
    )
    return Window.parse(start, end, names=("current_from", "current_to"))


def _reference(row: ModelVersion, reference: Window | None) -> tuple[Window, str]:
    start = reference.start if reference and reference.start else row.training_start
    end = reference.end if reference and reference.end else row.training_end
    if start is None or end is None:
        raise InvalidInput(
            f"{row.model_type} v{row.version} has no training window to use as the reference; "
            "give reference_from and reference_to"
        )
    given = reference is not None and (reference.start is not None or reference.end is not None)
    names = ("reference_from", "reference_to")
    return Window.parse(start, end, names=names), "requested" if given else "training window"


def _require(session: Session, machine_id: int, window: Window, which: str) -> None:
    machine = readings.get_machine(session=session, machine_id=machine_id)
    try:
        readings.require_readings(session=session, machine=machine, window=window)
    except InvalidInput as exc:
        raise InvalidInput(f"the {which} window has no readings: {exc.message}") from None


def read_inputs(
    *,
    session: Session,
    settings: Settings,
    clock: Clock,
    machine_id: int,
    model_type: str,
    version: int | None,
    reference: Window | None,
    current: Window | None,
) -> CheckInputs:
    """Check the request and read everything the check needs (no model is loaded here)."""
    machine = readings.get_machine(session=session, machine_id=machine_id)
    row = registry.get_version(
        session=session, machine_id=machine_id, model_type=model_type, version=version
    )
    cur = resolve_current(current, settings=settings, clock=clock)
    ref, source = _reference(row, reference)
    _require(session, machine_id, cur, "current")
    _require(session, machine_id, ref, "reference")
    assert cur.start is not None
    assert cur.end is not None
    frame = readings.training_frame(
        session=session, machine_id=machine_id, start=cur.start - HISTORY, end=cur.end
    )
    ref_frame = readings.training_frame(
        session=session, machine_id=machine_id, start=ref.start, end=ref.end
    )
    inside = (ref_frame.index >= cur.start) & (ref_frame.index < cur.end)
    has_artifact = row.artifact is not None
    return CheckInputs(
        machine_id=machine_id,
        machine_name=machine.name,
        timezone=machine.timezone or "UTC",
        model_type=model_type,
        version_id=row.id,
        version=row.version,
        metrics_holdout=dict(row.metrics_holdout or {}),
        reference=ref,
        reference_source=source,
        current=cur,
        reference_frame=ref_frame[~inside],
        n_reference_overlap=int(inside.sum()),
        current_frame=frame[frame.index >= cur.start],
        history_frame=frame,
        points=log.points_frame(session, model_id=row.id, start=cur.start, end=cur.end),
        artifact=artifacts.StoredArtifact.of(session, row) if has_artifact else None,
        secret=artifacts.secret_of(session) if has_artifact else None,
    )


def write(
    *, session: Session, inputs: CheckInputs, result: CheckResult, clock: Clock
) -> PerformanceMetric:
    """Write the check's ``model_performance_metrics`` row (flushed, not committed)."""
    if session.get(ModelVersion, inputs.version_id) is None:
        raise NotFound(
            f"{inputs.model_type} v{inputs.version} was deleted while it was being checked"
        )
    performance = result.details["degradation"]["performance"]
    row = PerformanceMetric(
        model_id=inputs.version_id,
        machine_id=inputs.machine_id,
        model_type=inputs.model_type,
        model_version=inputs.version,
        evaluation_date=clock.now(),
        evaluation_start=inputs.current.start,
        evaluation_end=inputs.current.end,
        n_samples=result.n_samples,
        **{k: result.metrics.get(k) for k in METRIC_COLUMNS},
        drift_detected=result.drift_detected,
        drift_score=result.drift_score,
        drift_details=result.details,
        details={
            "undefined": performance.get("undefined", {}),
            "metrics_from": "prediction log",
            "reason": result.reason,
        },
        source="drift_check",
    )
    session.add(row)
    session.flush()
    return row


def answer(
    row: PerformanceMetric | None, inputs: CheckInputs, result: CheckResult, clock: Clock
) -> DriftCheckRead:
    """The :class:`DriftCheckRead` of a check (recorded as ``row``, or not recorded)."""
    details: dict[str, Any] = result.details
    change_point = details["verdict"]["change_point"]
    return DriftCheckRead(
        id=row.id if row is not None else None,
        model_id=inputs.version_id,
        machine_id=inputs.machine_id,
        model_type=inputs.model_type,
        model_version=inputs.version,
        evaluation_date=row.evaluation_date if row is not None else clock.now(),
        current_start=inputs.current.start,
        current_end=inputs.current.end,
        reference_start=inputs.reference.start,
        reference_end=inputs.reference.end,
        drift_detected=result.drift_detected,
        drift_score=result.drift_score,
        reason=result.reason,
        change_point=pd.Timestamp(change_point).to_pydatetime() if change_point else None,
        statement=details["degradation"]["energy"].get("statement"),
        n_samples=result.n_samples,
        metrics={k: v for k, v in result.metrics.items() if v is None or isinstance(v, float)},
        drift_details=details,
    )
