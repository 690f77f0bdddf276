"""Scoring runs of the prediction log: every champion and challenger scores its new readings.

Per version, model work never runs inside a transaction: one short read (version row, signed
artifact, readings of the window plus the context forecasters need), then verifying, loading
and predicting outside any, then one short write of a ``PredictionBatch`` and its points
(:func:`enms.predictions.repository.insert_points`, idempotent on ``(version, ts, origin)``).

A version's window starts where its last run ended (or at its ``training_end``) and ends at the
newest reading, at most ``settings.monitoring.score_batch_days`` days per run (the next run goes
on). Forecasters issue one origin a day at ``settings.monitoring.forecast_origin_hour`` local
time (:mod:`enms.predictions.scoring`). Earlier points whose reading arrived since get their
``actual`` (:func:`fill_actuals`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pandas as pd
from sqlalchemy.orm import Session

from enms.core.clock import Clock
from enms.core.config import Settings
from enms.core.db import SessionFactory, session_scope
from enms.core.errors import DomainError
from enms.core.secrets import InstanceSecret
from enms.ml.base import ModelError
from enms.predictions import repository
from enms.predictions.models import PredictionBatch
from enms.predictions.scoring import Scored, score_window
from enms.readings import service as readings
from enms.readings.models import Machine
from enms.registry import artifacts
from enms.registry.models import ModelVersion

FORECAST_CONTEXT = timedelta(days=28)
"""Readings before the first origin a forecaster is conditioned on (as evaluations load)."""
TINY = timedelta(microseconds=1)
MAX_LISTED = 50
"""Most runs (and errors) listed in a scoring pass's result."""


@dataclass(frozen=True)
class VersionInputs:
    """What one version's scoring run needs, read in one short unit of work."""

    version_id: int
    machine_id: int
    model_type: str
    version: int
    alias: str
    timezone: str
    start: datetime
    end: datetime
    artifact: artifacts.StoredArtifact
    secret: InstanceSecret
    frame: pd.DataFrame


def score_versions(
    *, factory: SessionFactory, settings: Settings, clock: Clock, machine_id: int | None = None
) -> dict[str, Any]:
    """One scoring run of every champion and challenger (of ``machine_id``, or all)."""
    with session_scope(factory) as session:
        targets = repository.scoring_targets(session, machine_id)
    runs: list[dict[str, Any]] = []
    touched: dict[int, datetime] = {}
    machines: set[int] = set()
    for version_id, alias in targets:
        run = score_version(
            factory=factory, settings=settings, clock=clock, version_id=version_id, alias=alias
        )
        runs.append(run)
        if "machine_id" in run:
            machines.add(int(run["machine_id"]))
        if run.get("first_ts") is not None:
            touched[version_id] = datetime.fromisoformat(run["first_ts"])
    return {
        "versions": len(targets),
        "points_written": sum(r.get("points_written", 0) for r in runs),
        "missing_drivers": sum(r.get("counts", {}).get("missing_drivers", 0) for r in runs),
        "no_prediction": sum(r.get("counts", {}).get("no_prediction", 0) for r in runs),
        "skipped": sum(1 for r in runs if "skipped" in r),
        "errors": [r for r in runs if "error" in r][:MAX_LISTED],
        # the runs that did something, capped: the result is kept in scheduler_runs
        "runs": [r for r in runs if r.get("points_written") or "error" in r][:MAX_LISTED],
        "touched": touched,
        "machines": sorted(machines),
    }


def score_version(
    *, factory: SessionFactory, settings: Settings, clock: Clock, version_id: int, alias: str
) -> dict[str, Any]:
    """Score one version's next window; a JSON-able summary of what happened."""
    with session_scope(factory) as session:
        inputs = read_inputs(session=session, settings=settings, version_id=version_id, alias=alias)
    if isinstance(inputs, dict):
        return inputs
    label = {"version_id": version_id, "model_type": inputs.model_type, "alias": alias}
    label |= {"version": inputs.version, "machine_id": inputs.machine_id}
    try:
        model = artifacts.load(inputs.artifact, inputs.secret)
        scored = score_window(
            model,
            inputs.frame,
            start=pd.Timestamp(inputs.start),
            end=pd.Timestamp(inputs.end),
            origin_hour=settings.monitoring.forecast_origin_hour,
            timezone=inputs.timezone,
        )
    except (ModelError, DomainError) as exc:
        return label | {"error": f"{type(exc).__name__}: {exc}"}
    with session_scope(factory, write=True) as session:
        written = record(session=session, inputs=inputs, scored=scored, clock=clock)
    first = scored.points.index.min() if len(scored.points) else None
    return label | {
        "window_start": inputs.start.isoformat(),
        "window_end": inputs.end.isoformat(),
        "points_written": written,
        "counts": {k: int(v) for k, v in scored.counts.items()},
        "first_ts": None if first is None else pd.Timestamp(first).isoformat(),
    }


def read_inputs(
    *, session: Session, settings: Settings, version_id: int, alias: str
) -> VersionInputs | dict[str, Any]:
    """The inputs of a version's next run, or a summary saying why there is nothing to do."""
    row = session.get(ModelVersion, version_id)
    label: dict[str, Any] = {"version_id": version_id, "alias": alias}
    if row is None:
        return label | {"skipped": "version deleted"}
    label |= {"model_type": row.model_type, "version": row.version, "machine_id": row.machine_id}
    if row.origin != "enms" or row.artifact is None:
        return label | {"skipped": "no artifact (an external model): nothing to score"}
    machine = session.get(Machine, row.machine_id)
    newest = repository.newest_reading(session, row.machine_id)
    start = repository.resume_point(session, row.id) or row.training_end
    if newest is None or start is None:
        return label | {"skipped": "no readings" if newest is None else "no training window"}
    end = min(newest + TINY, start + timedelta(days=settings.monitoring.score_batch_days))
    if end <= start:
        return label | {"skipped": "no new readings"}
    forecaster = row.model_type.startswith("forecast_")
    frame = readings.training_frame(
        session=session,
        machine_id=row.machine_id,
        start=start - FORECAST_CONTEXT if forecaster else start,
        end=end,
    )
    return VersionInputs(
        version_id=row.id,
        machine_id=row.machine_id,
        model_type=row.model_type,
        version=row.version,
        alias=alias,
        timezone=machine.timezone if machine is not None else "UTC",
        start=start,
        end=end,
        artifact=artifacts.StoredArtifact.of(session, row),
        secret=artifacts.secret_of(session),
        frame=frame,
    )


def record(*, session: Session, inputs: VersionInputs, scored: Scored, clock: Clock) -> int:
    """Write the batch and its points; returns the points newly written."""
    if session.get(ModelVersion, inputs.version_id) is None:
        return 0  # deleted while it was being scored
    batch = PredictionBatch(
        model_id=inputs.version_id,
        machine_id=inputs.machine_id,
        model_type=inputs.model_type,
        source=scored.source,
        drivers_used=list(scored.drivers),
        window_start=inputs.start,
        window_end=_covered(inputs.end, scored.covered_until),
        n_points=0,
        created_at=clock.now(),
    )
    session.add(batch)
    session.flush()
    return repository.insert_points(session, batch=batch, frame=scored.points)


def _covered(end: datetime, until: pd.Timestamp | None) -> datetime:
    """The end of what a run covered: its window, or less when it stopped short."""
    if until is None:
        return end
    return min(end, until.to_pydatetime())


def fill_actuals(
    *, factory: SessionFactory, settings: Settings, clock: Clock, machine_ids: list[int]
) -> tuple[int, dict[int, datetime]]:
    """Copy arrived readings into earlier points of ``machine_ids`` without an actual
    (targets up to ``settings.monitoring.actual_fill_days`` days before the machine's newest
    reading or the clock, whichever is earlier: an UPDATE bounded by machine and time, on
    the ``(machine_id, ts)`` index); returns the count and, per version, the earliest target
    filled (its days need rolling up again)."""
    days = timedelta(days=settings.monitoring.actual_fill_days)
    filled, earliest = 0, {}
    for machine in sorted(set(machine_ids)):
        with session_scope(factory, write=True) as session:
            # Counted back from the newest reading when it is older than the clock (a meter
            # that stopped, a replay): its late readings are the ones still to come.
            newest = repository.newest_reading(session, machine) or clock.now()
            since = min(clock.now(), newest) - days
            found = repository.missing_actuals_since(session, machine_id=machine, since=since)
            if found:
                filled += repository.fill_actuals(session, machine_id=machine, since=since)
                earliest.update(found)
    return filled, earliest
