"""Serving a predict request: read, predict outside any transaction, log.

Three steps, as everywhere model work happens: (1) one short read — the machine, the routing
(:mod:`.routing`), the artifacts of versions not cached yet, the instance secret and, for
forecasters, the readings before the first requested timestamp; (2) loading (through the
:class:`~enms.serving.cache.ModelCache`, which verifies signatures once) and predicting with no
session open; (3) when ``log`` is set, one short write: per answering version a
``PredictionBatch`` (source ``served``) and its points with their arm
(:func:`enms.predictions.repository.insert_served_points`). A request never trains.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from enms.core.clock import Clock
from enms.core.db import SessionFactory, session_scope
from enms.core.errors import Conflict, InvalidInput, NotFound
from enms.core.model_types import MODEL_TYPE_NAMES
from enms.core.secrets import InstanceSecret
from enms.core.timewindow import as_utc
from enms.ml.base import ArtifactError, EnergyModel, MissingColumns, ModelError
from enms.predictions import repository
from enms.predictions.models import PredictionBatch
from enms.readings import service as readings
from enms.readings.models import EnergyReading, Machine
from enms.registry import artifacts
from enms.registry.models import ModelVersion
from enms.serving import predict as predicting
from enms.serving.cache import CacheKey, ModelCache
from enms.serving.routing import Routing, VersionRef, route
from enms.serving.rows import rows_frame
from enms.serving.schemas import PredictRequest, PredictResponse, ServedRow

FORECAST_CONTEXT = timedelta(days=28)
"""Readings before a served forecast's origin it is conditioned on (as shadow scoring)."""
TINY = timedelta(microseconds=1)


@dataclass(frozen=True)
class Served:
    """One answering version's points (index: the rows' timestamps) and the drivers used."""

    points: pd.DataFrame
    drivers: list[str]


@dataclass
class Plan:
    """What the read step found: routing, artifacts to load, forecast history."""

    machine_id: int
    machine_name: str
    routing: Routing
    stored: dict[int, artifacts.StoredArtifact]
    secret: InstanceSecret
    history: pd.DataFrame | None


def serve(
    *,
    factory: SessionFactory,
    cache: ModelCache,
    clock: Clock,
    machine_id: int,
    model_type: str,
    request: PredictRequest,
) -> PredictResponse:
    """Predict the request's rows with the routed versions; log them when asked."""
    if model_type not in MODEL_TYPE_NAMES:
        raise NotFound(
            f"no model type {model_type!r}; predict with one of {', '.join(MODEL_TYPE_NAMES)}",
            details={"model_type": model_type},
        )
    frame = rows_frame(request.rows)
    with session_scope(factory) as session:
        plan = _read(session, cache, machine_id, model_type, frame, request.unit_key)
    results = _predict(factory, cache, plan, model_type, frame)
    logged = 0
    if request.log:
        with session_scope(factory, write=True) as session:
            logged = _log(session, plan, model_type, results, clock)
    return _response(plan, model_type, frame, results, logged)


def _read(
    session: Session,
    cache: ModelCache,
    machine_id: int,
    model_type: str,
    frame: pd.DataFrame,
    unit_key: str | None,
) -> Plan:
    machine = readings.get_machine(session=session, machine_id=machine_id)
    routing = route(
        session,
        machine=machine,
        model_type=model_type,
        timestamps=pd.DatetimeIndex(frame.index),
        unit_key=unit_key,
    )
    stored: dict[int, artifacts.StoredArtifact] = {}
    for ref in routing.versions.values():
        _check_servable(machine, model_type, ref)
        if _key(ref) not in cache:
            stored[ref.id] = _stored(session, ref.id)
    history = None
    if model_type.startswith("forecast_"):
        history = _history(session, machine.id, pd.Timestamp(frame.index.min()))
    return Plan(
        machine_id=machine.id,
        machine_name=machine.name,
        routing=routing,
        stored=stored,
        secret=artifacts.secret_of(session),
        history=history,
    )


def _check_servable(machine: Machine, model_type: str, ref: VersionRef) -> None:
    if ref.origin != "enms" or ref.sha256 is None:
        raise Conflict(
            f"{machine.name!r} {model_type} v{ref.version} is an external model (no artifact in "
            "enms), so enms cannot predict with it: promote a version trained by enms, or "
            "predict where the external model lives",
            details={"version": ref.version, "reason": "no_artifact"},
        )


def _key(ref: VersionRef) -> CacheKey:
    return CacheKey(ref.id, str(ref.sha256))


def _stored(session: Session, version_id: int) -> artifacts.StoredArtifact:
    row = session.get(ModelVersion, version_id)
    assert row is not None  # routed to it in this unit of work
    return artifacts.StoredArtifact.of(session, row)


def _history(session: Session, machine_id: int, first: pd.Timestamp) -> pd.DataFrame:
    """Readings of the context before ``first`` (ending at the newest one before it)."""
    newest = session.scalar(
        select(func.max(EnergyReading.ts)).where(
            EnergyReading.machine_id == machine_id, EnergyReading.ts < first.to_pydatetime()
        )
    )
    if newest is None:
        return pd.DataFrame()
    start: datetime = as_utc(newest) - FORECAST_CONTEXT
    return readings.training_frame(
        session=session, machine_id=machine_id, start=start, end=first.to_pydatetime()
    )


def _model(factory: SessionFactory, cache: ModelCache, plan: Plan, ref: VersionRef) -> EnergyModel:
    def load() -> EnergyModel:
        stored = plan.stored.get(ref.id)
        if stored is None:  # evicted since the read: read it again (short, read-only)
            with session_scope(factory) as session:
                stored = _stored(session, ref.id)
        try:
            return artifacts.load(stored, plan.secret)
        except ArtifactError as exc:
            raise Conflict(
                f"the artifact of {stored.label} failed its check and was not loaded: {exc}; "
                f"retrain it (`enms train {stored.model_type} --machine {stored.machine}`)",
                details={"version": stored.version, "reason": "artifact_invalid"},
            ) from exc

    return cache.get(_key(ref), load)


def _predict(
    factory: SessionFactory, cache: ModelCache, plan: Plan, model_type: str, frame: pd.DataFrame
) -> dict[int, Served]:
    ids = np.asarray(plan.routing.version_ids)
    results: dict[int, Served] = {}
    for version_id, ref in sorted(plan.routing.versions.items()):
        rows = frame[ids == version_id]
        label = f"{plan.machine_name!r} {model_type} v{ref.version}"
        model = _model(factory, cache, plan, ref)
        try:
            points = predicting.predict(model, rows, label=label, history=plan.history)
        except MissingColumns as exc:  # stored readings lack a planned driver
            raise InvalidInput(
                f"{label}: the machine's readings lack the column(s) {exc.columns} it uses",
                details={"missing_columns": exc.columns},
            ) from exc
        except ModelError as exc:
            raise Conflict(f"{label} could not predict: {exc}") from exc
        arms = pd.Series(plan.routing.arms, index=frame.index)
        points["arm"] = arms.reindex(points.index).to_numpy(dtype=object)
        results[version_id] = Served(points, predicting.required_columns(model))
    return results


def _log(
    session: Session,
    plan: Plan,
    model_type: str,
    results: dict[int, Served],
    clock: Clock,
) -> int:
    written = 0
    for version_id, served in results.items():
        kept = served.points[served.points["predicted"].notna()]
        if kept.empty or session.get(ModelVersion, version_id) is None:
            continue  # nothing to log, or the version was deleted meanwhile
        index = pd.DatetimeIndex(kept.index)
        batch = PredictionBatch(
            model_id=version_id,
            machine_id=plan.machine_id,
            model_type=model_type,
            source=repository.SERVED,
            drivers_used=served.drivers,
            window_start=index.min().to_pydatetime(),
            window_end=index.max().to_pydatetime() + TINY,
            n_points=0,
            created_at=clock.now(),
        )
        new, tagged = repository.insert_served_points(session, batch=batch, frame=kept)
        written += new + tagged
    return written


def _response(
    plan: Plan,
    model_type: str,
    frame: pd.DataFrame,
    results: dict[int, Served],
    logged: int,
) -> PredictResponse:
    forecaster = model_type.startswith("forecast_")
    out: list[ServedRow] = []
    for i, ts in enumerate(pd.DatetimeIndex(frame.index)):
        version_id = plan.routing.version_ids[i]
        point = results[version_id].points.loc[ts]
        row = ServedRow(
            timestamp=ts.to_pydatetime(),
            version=plan.routing.versions[version_id].version,
            arm=plan.routing.arms[i],
            test_id=plan.routing.test_id,
        )
        predicted = _float(point["predicted"])
        if forecaster:
            origin = pd.Timestamp(str(point["origin"]))
            row.forecast_kwh = predicted
            row.lower, row.upper = _float(point["lower"]), _float(point["upper"])
            row.origin = origin.to_pydatetime()
            row.lead_hours = (ts - origin).total_seconds() / 3600.0
        else:
            row.expected_energy_kwh = predicted
        if model_type == "anomaly":
            row.anomaly_score = _float(point["score"])
            row.flagged = bool(point["flagged"])
        out.append(row)
    return PredictResponse(
        machine_id=plan.machine_id,
        model_type=model_type,
        routing=plan.routing.kind,
        test_id=plan.routing.test_id,
        interval=1.0 - predicting.ALPHA if forecaster else None,
        logged=logged,
        rows=out,
    )


def _float(value: object) -> float | None:
    number = float(value)  # type: ignore[arg-type]
    return number if np.isfinite(number) else None
