"""What alerts do by themselves: the automatic retrain of a drift or degradation alert, and
the ``training_failed`` alert of a job that ended badly.

Owns :func:`on_raised` (called by the producer after every raise of a ``drift`` or
``degradation`` alert) and :func:`on_job_finished` (called by the job queue after a training
job ran, and by the recovery pass for the jobs it failed).

The retrain policy, in order: ``ENMS_ALERTS__AUTO_RETRAIN[model_type]`` must allow it; an
alert whose retrain job is pending, running or completed is left alone (a failed one may be
retried); no retrain within ``ENMS_ALERTS__RETRAIN_COOLDOWN_HOURS`` of the last ``drift`` /
``degradation`` job of the same (machine, model type) — the alert follows that job instead
while it is still to run or its version is still the challenger; with a change point the
window starts there once ``ENMS_ALERTS__RETRAIN_MIN_DAYS_AFTER_CHANGE`` days of readings
follow it (until then the alert records that it waits, and a later raise tries again);
without one the training default window; the window ends now. The job goes through
:func:`enms.training.service.trigger` (dedupe applies: a job already in progress is recorded
as the alert's job; a window the service refuses, e.g. too short for the model type, is
recorded and retried on the next raise). Every decision is one sentence in
``auto_action_result`` and, when its kind changes, an audit row (``auto_retrain_enqueued``
/ ``auto_retrain_skipped``). Each call is one short write unit of
work of its own, after the check that raised the alert.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from enms.alerts.conditions import Raised, audit, raise_condition, report_clear
from enms.alerts.models import ModelAlert
from enms.core.clock import Clock
from enms.core.config import Settings
from enms.core.db import SessionFactory, session_scope
from enms.core.errors import DomainError
from enms.core.timewindow import Window
from enms.predictions.repository import newest_reading
from enms.readings.models import Machine
from enms.registry import repository as registry_repository
from enms.registry.models import ModelVersion
from enms.registry.service import CHALLENGER
from enms.training import service as training
from enms.training.models import TrainingJob

ACTOR = "enms-auto"
RETRAIN = "retrain"
RETRAIN_TRIGGERS = ("drift", "degradation")
RETRY_STATUSES = ("failed", "cancelled", "timed_out")
BAD_STATUSES = ("failed", "timed_out")


def _fmt(at: datetime) -> str:
    return f"{at:%Y-%m-%d %H:%M} UTC"


def _record(
    session: Session,
    alert: ModelAlert,
    *,
    result: str,
    rule: str,
    now: datetime,
    job_id: int | None = None,
    details: dict[str, Any] | None = None,
    audit_always: bool = False,
) -> None:
    """Write the decision on the alert; audit it when its kind (the words before the first
    colon: "waiting", "skipped", …) differs from the last one's, so a daily repeat of the same
    decision with newer figures is not an audit row each day."""
    before = (alert.auto_action_result or "").split(":", 1)[0]
    alert.auto_action = RETRAIN
    alert.auto_action_result = result
    if job_id is not None:
        alert.action_job_id = job_id
    if audit_always or before != result.split(":", 1)[0]:
        audit(
            session,
            alert=alert,
            machine_id=alert.machine_id,
            rule=rule,
            actor=ACTOR,
            at=now,
            reason=result,
            details=details,
        )


def _last_auto_job(session: Session, machine_id: int, model_type: str) -> TrainingJob | None:
    return session.scalars(
        select(TrainingJob)
        .where(
            TrainingJob.machine_id == machine_id,
            TrainingJob.model_type == model_type,
            TrainingJob.trigger_type.in_(RETRAIN_TRIGGERS),
        )
        .order_by(TrainingJob.created_at.desc(), TrainingJob.id.desc())
        .limit(1)
    ).first()


def _still_useful(session: Session, job: TrainingJob) -> bool:
    """A retrain this alert can follow: still to run, or completed with a version that is
    still the challenger (not yet promoted or replaced)."""
    if job.training_status in ("pending", "running"):
        return True
    if job.training_status != "completed" or job.model_version is None:
        return False
    pointer = registry_repository.alias(session, job.machine_id, job.model_type, CHALLENGER)
    if pointer is None:
        return False
    row = session.get(ModelVersion, pointer.model_version_id)
    return row is not None and row.version == job.model_version


def on_raised(
    *,
    factory: SessionFactory,
    settings: Settings,
    clock: Clock,
    raised: Raised,
    machine_id: int,
    model_type: str,
    alert_type: str,
    change_point: datetime | None,
    enqueue: Callable[[int], None] | None,
) -> dict[str, Any]:
    """Decide (and maybe enqueue) the automatic retrain of a just-raised alert; the summary
    says what was decided (``{"alert_id", "auto_retrain": sentence, "job_id"}``)."""
    if alert_type not in RETRAIN_TRIGGERS:
        return {"alert_id": raised.alert_id, "auto_retrain": "not a retrain trigger"}
    if not settings.alerts.auto_retrain.get(model_type, False):
        return {"alert_id": raised.alert_id, "auto_retrain": f"off for {model_type}"}
    if enqueue is None:
        return {"alert_id": raised.alert_id, "auto_retrain": "no job queue in this run"}
    with session_scope(factory, write=True) as session:
        alert = session.get(ModelAlert, raised.alert_id)
        if alert is None:
            return {"alert_id": raised.alert_id, "auto_retrain": "alert gone"}
        if alert.action_job_id is not None:
            job = session.get(TrainingJob, alert.action_job_id)
            if job is not None and job.training_status not in RETRY_STATUSES:
                return {
                    "alert_id": alert.id,
                    "auto_retrain": f"job {job.id} is {job.training_status}",
                    "job_id": job.id,
                }
        result, job_id = _decide(
            session,
            alert,
            settings=settings,
            clock=clock,
            machine_id=machine_id,
            model_type=model_type,
            alert_type=alert_type,
            change_point=change_point,
            enqueue=enqueue,
        )
        return {"alert_id": alert.id, "auto_retrain": result, "job_id": job_id}


def _decide(
    session: Session,
    alert: ModelAlert,
    *,
    settings: Settings,
    clock: Clock,
    machine_id: int,
    model_type: str,
    alert_type: str,
    change_point: datetime | None,
    enqueue: Callable[[int], None],
) -> tuple[str, int | None]:
    now = clock.now()
    policy = settings.alerts
    last = _last_auto_job(session, machine_id, model_type)
    cooldown = timedelta(hours=policy.retrain_cooldown_hours)
    if last is not None and now - last.created_at < cooldown:
        if _still_useful(session, last):
            result = (
                f"covered by job {last.id}: a retrain of {model_type} enqueued at "
                f"{_fmt(last.created_at)} ({last.training_status}; the cool-down "
                f"allows no other before {_fmt(last.created_at + cooldown)})"
            )
            _record(
                session,
                alert,
                result=result,
                rule="auto_retrain_enqueued",
                now=now,
                job_id=last.id,
                details={"job_id": last.id, "covered_by_earlier_job": True},
            )
            return result, last.id
        result = (
            f"skipped: cool-down, job {last.id} was enqueued at {_fmt(last.created_at)}; "
            f"no automatic retrain before {_fmt(last.created_at + cooldown)}"
        )
        _record(session, alert, result=result, rule="auto_retrain_skipped", now=now)
        return result, None
    window = Window(None, now)
    where = "the training default window"
    if change_point is not None:
        newest = newest_reading(session, machine_id)
        upto = min(newest, now) if newest is not None else change_point
        after = (upto - change_point) / timedelta(days=1)
        need = policy.retrain_min_days_after_change
        if after < need:
            result = (
                f"waiting: {max(after, 0.0):.1f} of {need:g} days after the change point "
                f"{_fmt(change_point)}"
            )
            _record(session, alert, result=result, rule="auto_retrain_skipped", now=now)
            return result, None
        window = Window(change_point, now)
        where = f"readings from the change point {_fmt(change_point)}"
    reason = f"alert {alert.id}: {alert.message}"
    try:
        outcome = training.trigger(
            session=session,
            machine_id=machine_id,
            model_type=model_type,
            trigger_type=alert_type,
            reason=reason[:1000],
            requested_by=ACTOR,
            window=window,
            hyperparameters={},
            clock=clock,
            enqueue=enqueue,
        )
    except DomainError as exc:
        result = f"skipped: the training service refused the retrain: {exc.message}"
        _record(session, alert, result=result, rule="auto_retrain_skipped", now=now)
        return result, None
    job_id = outcome.training_job_id
    details = {
        "job_id": job_id,
        "trigger_type": alert_type,
        "window_start": window.start.isoformat() if window.start else None,
        "window_end": now.isoformat(),
    }
    if outcome.triggered:
        result = f"retrain enqueued: job {job_id} ({alert_type}) on {where} until {_fmt(now)}"
    else:
        result = f"retrain already in progress: job {job_id} ({outcome.status})"
    _record(
        session,
        alert,
        result=result,
        rule="auto_retrain_enqueued",
        now=now,
        job_id=job_id,
        details=details,
        audit_always=True,
    )
    return result, job_id


def on_job_finished(*, factory: SessionFactory, clock: Clock, job_id: int) -> dict[str, Any]:
    """After a training job ran (or was failed by recovery): a ``failed`` / ``timed_out`` job
    raises ``training_failed`` for its (machine, model type); a completed one reports it clear."""
    now = clock.now()
    with session_scope(factory, write=True) as session:
        job = session.get(TrainingJob, job_id)
        if job is None:
            return {"job_id": job_id, "alert": "job gone"}
        if job.training_status == "completed":
            cleared = report_clear(
                session,
                machine_id=job.machine_id,
                model_type=job.model_type,
                alert_type="training_failed",
                now=now,
            )
            return {"job_id": job_id, "cleared": cleared}
        if job.training_status not in BAD_STATUSES:
            return {"job_id": job_id, "status": job.training_status}
        machine = session.get(Machine, job.machine_id)
        name = machine.name if machine is not None else f"machine {job.machine_id}"
        error = job.error_message or "no error message recorded"
        raised = raise_condition(
            session,
            machine_id=job.machine_id,
            model_type=job.model_type,
            alert_type="training_failed",
            severity="warning",
            message=f"{name} {job.model_type}: training job {job.id} {job.training_status} "
            f"({job.trigger_type}): {error}",
            details={
                "job_id": job.id,
                "status": job.training_status,
                "trigger_type": job.trigger_type,
                "requested_by": job.requested_by,
                "error": error,
                "attempts": job.attempts,
            },
            now=now,
        )
        return {"job_id": job_id, "alert_id": raised.alert_id, "opened": raised.opened}
