"""Scheduled anomaly detection: each champion anomaly detector's flagged readings become
``anomaly_events``, and a cluster of them raises an ``anomaly`` alert.

Per champion, never a model inside a transaction:

1. its newest readings are scored (:func:`enms.predictions.service.score_version`, idempotent
   and resuming where the log ends, repeated until caught up), so detection does not wait for
   the ``score_predictions`` run;
2. one short read: the version, its alarm threshold, its flagged points after the newest
   stored event (or from its training end);
3. only when the version's metrics do not record the threshold: the artifact is verified and
   loaded outside any transaction to read it;
4. one short write: the events (insert-or-ignore, :func:`.repository.insert_events`), then
   the cluster rule — at least ``settings.alerts.anomaly_cluster_count`` events of the machine
   within ``anomaly_cluster_hours`` in a window ending at a newly stored event raises the
   alert (critical at twice the count); when the newest ``anomaly_cluster_hours`` of scored
   readings hold fewer, the condition is reported clear (auto-resolve is the alert
   maintenance's rule).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from enms.alerts import conditions
from enms.anomalies import detect, repository
from enms.core.clock import Clock
from enms.core.config import Settings
from enms.core.db import SessionFactory, session_scope
from enms.core.errors import DomainError
from enms.core.secrets import InstanceSecret
from enms.ml.base import ModelError
from enms.predictions import service as predictions
from enms.readings.models import Machine
from enms.registry import artifacts
from enms.registry import service as registry
from enms.registry.models import ModelVersion

MODEL_TYPE = "anomaly"
MAX_SCORING_RUNS = 24
"""Scoring runs per champion and pass (each up to ``score_batch_days``): the catch-up bound."""
MAX_LISTED = 50
"""Most machines (errors, alerts) listed in a pass's result."""
MAX_EVENT_IDS = 100
"""Most event ids an alert's details list."""


@dataclass(frozen=True)
class Inspection:
    """What one champion's detection step read in its short unit of work."""

    version_id: int
    machine_id: int
    machine_name: str
    version: int
    threshold: float | None
    artifact: artifacts.StoredArtifact | None
    secret: InstanceSecret | None
    points: list[detect.FlaggedPoint]


def detect_all(*, factory: SessionFactory, settings: Settings, clock: Clock) -> dict[str, Any]:
    """One pass over every machine with a champion anomaly detector (the periodic job)."""
    with session_scope(factory) as session:
        targets = [row.id for row in registry.champions(session=session, model_type=MODEL_TYPE)]
    results = [
        detect_version(factory=factory, settings=settings, clock=clock, version_id=version_id)
        for version_id in targets
    ]
    return {
        "machines": len(targets),
        "scored_points": sum(r.get("scored_points", 0) for r in results),
        "missing_drivers": sum(r.get("missing_drivers", 0) for r in results),
        "new_events": sum(r.get("new_events", 0) for r in results),
        "alerts_opened": [r["alert"] for r in results if r.get("alert", {}).get("opened")][
            :MAX_LISTED
        ],
        "alerts_repeated": sum(
            1 for r in results if r.get("alert") and not r["alert"].get("opened")
        ),
        "alerts_cleared": [r["cleared"] for r in results if r.get("cleared")][:MAX_LISTED],
        "errors": [r for r in results if r.get("errors")][:MAX_LISTED],
        "runs": [r for r in results if r.get("new_events") or r.get("alert")][:MAX_LISTED],
    }


def detect_version(
    *, factory: SessionFactory, settings: Settings, clock: Clock, version_id: int
) -> dict[str, Any]:
    """Score, store flagged readings and check the cluster rule for one champion detector."""
    scored, missing, errors = _catch_up(
        factory=factory, settings=settings, clock=clock, version_id=version_id
    )
    with session_scope(factory) as session:
        found = _inspect(session, version_id)
    if found is None:
        return {"version_id": version_id, "skipped": "version deleted"}
    label: dict[str, Any] = {
        "version_id": version_id,
        "machine_id": found.machine_id,
        "version": found.version,
        "scored_points": scored,
        "missing_drivers": missing,
    }
    threshold = found.threshold
    if threshold is None and found.points:
        try:
            threshold = _artifact_threshold(found)
        except (ModelError, DomainError, AttributeError) as exc:
            errors.append(f"alarm threshold unreadable: {type(exc).__name__}: {exc}")
        if threshold is None:
            errors.append("no alarm threshold known: the flagged readings are not stored")
            return label | {"new_events": 0, "errors": errors}
    rows = detect.event_rows(
        found.points,  # empty when no threshold is known
        machine_id=found.machine_id,
        model_id=found.version_id,
        model_version=found.version,
        threshold=threshold if threshold is not None else 0.0,
        detected_at=clock.now(),
    )
    with session_scope(factory, write=True) as session:
        outcome = _store(session, found=found, rows=rows, settings=settings, now=clock.now())
    return label | outcome | ({"errors": errors} if errors else {})


def _catch_up(
    *, factory: SessionFactory, settings: Settings, clock: Clock, version_id: int
) -> tuple[int, int, list[str]]:
    """Score the version's new readings (several runs when far behind); points written,
    readings left unscored for missing drivers, and the errors met."""
    written, missing, errors = 0, 0, []
    for _ in range(MAX_SCORING_RUNS):
        run = predictions.score_version(
            factory=factory, settings=settings, clock=clock, version_id=version_id, alias="champion"
        )
        if "error" in run:
            errors.append(str(run["error"]))
        if "skipped" in run or "error" in run:
            break
        written += int(run.get("points_written", 0))
        missing += int(run.get("counts", {}).get("missing_drivers", 0))
    return written, missing, errors


def _inspect(session: Session, version_id: int) -> Inspection | None:
    row = session.get(ModelVersion, version_id)
    if row is None:
        return None
    machine = session.get(Machine, row.machine_id)
    after = repository.newest_event(session, row.id)
    points = repository.flagged_points(
        session, model_id=row.id, after=after, since=row.training_end
    )
    threshold = recorded_threshold(row)
    need_artifact = threshold is None and bool(points) and row.artifact is not None
    return Inspection(
        version_id=row.id,
        machine_id=row.machine_id,
        machine_name=machine.name if machine is not None else f"machine {row.machine_id}",
        version=row.version,
        threshold=threshold,
        artifact=artifacts.StoredArtifact.of(session, row) if need_artifact else None,
        secret=artifacts.secret_of(session) if need_artifact else None,
        points=points,
    )


def recorded_threshold(row: ModelVersion) -> float | None:
    """The alarm threshold the training recorded (``metrics_in_sample.alarm_threshold``)."""
    entry = (row.metrics_in_sample or {}).get("alarm_threshold")
    value = entry.get("threshold") if isinstance(entry, dict) else None
    return float(value) if isinstance(value, int | float) else None


def _artifact_threshold(found: Inspection) -> float | None:
    """The loaded detector's ``threshold_`` (outside any transaction)."""
    if found.artifact is None or found.secret is None:
        return None
    model = artifacts.load(found.artifact, found.secret)
    return float(model.threshold_)  # type: ignore[attr-defined]


def _store(
    session: Session,
    *,
    found: Inspection,
    rows: list[dict[str, Any]],
    settings: Settings,
    now: datetime,
) -> dict[str, Any]:
    """Insert the events, then raise or clear the machine's cluster condition."""
    if session.get(ModelVersion, found.version_id) is None:
        return {"new_events": 0, "skipped": "version deleted while it was inspected"}
    new = repository.insert_events(session, rows)
    count = settings.alerts.anomaly_cluster_count
    span = timedelta(hours=settings.alerts.anomaly_cluster_hours)
    outcome: dict[str, Any] = {"new_events": len(new)}
    if new:
        events = repository.machine_events(
            session, machine_id=found.machine_id, after=new[0][0] - span, until=new[-1][0]
        )
        cluster = detect.densest_window(
            events, {ts for ts, _ in new}, settings.alerts.anomaly_cluster_hours
        )
        if cluster is not None and cluster.count >= count:
            outcome["alert"] = _raise(
                session, found=found, cluster=cluster, settings=settings, now=now
            )
    newest = repository.newest_point(session, found.version_id)
    if newest is not None:
        recent = repository.machine_events(
            session, machine_id=found.machine_id, after=newest - span, until=newest
        )
        if len(recent) < count:
            cleared = conditions.report_clear(
                session,
                machine_id=found.machine_id,
                model_type=MODEL_TYPE,
                alert_type="anomaly",
                now=now,
            )
            if cleared is not None:
                outcome["cleared"] = cleared
    return outcome


def _raise(
    session: Session,
    *,
    found: Inspection,
    cluster: detect.Cluster,
    settings: Settings,
    now: datetime,
) -> dict[str, Any]:
    count, hours = settings.alerts.anomaly_cluster_count, settings.alerts.anomaly_cluster_hours
    severity = "critical" if cluster.count >= 2 * count else "warning"
    first, last = cluster.events[0][0], cluster.events[-1][0]
    raised = conditions.raise_condition(
        session,
        machine_id=found.machine_id,
        model_type=MODEL_TYPE,
        alert_type="anomaly",
        severity=severity,
        message=detect.cluster_message(found.machine_name, cluster),
        details={
            "count": cluster.count,
            "first_ts": first.isoformat(),
            "last_ts": last.isoformat(),
            "event_ids": [i for _, i in cluster.events][:MAX_EVENT_IDS],
            "rule": f"at least {count} anomalous readings within {hours:g} h; critical at "
            f"{2 * count} (ENMS_ALERTS__ANOMALY_CLUSTER_COUNT, _HOURS)",
            "cluster_count": count,
            "cluster_hours": hours,
            "model_version": found.version,
        },
        now=now,
        model_id=found.version_id,
    )
    return {
        "alert_id": raised.alert_id,
        "machine_id": found.machine_id,
        "severity": severity,
        "count": cluster.count,
        "opened": raised.opened,
    }
