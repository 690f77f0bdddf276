"""A/B tests enms starts by itself: the challenger an automatic retrain produced against the
champion, and what its completion writes on the alerts that asked for the retrain.

Owns :func:`start_for_retrains` (run first by ``ab_test_evaluate``): for every unresolved
``drift`` / ``degradation`` alert whose automatic retrain job completed with a version that
is now the challenger, with ``ENMS_AB_TEST__AUTO_START_AFTER_RETRAIN[model_type]`` on and no
test of that version yet, a test A = champion, B = that version starts (created by
``enms-auto``, ``auto_duration_days`` long, ``auto_min_samples_per_arm`` per arm,
sequential per the settings). The alerts following the retrain record it
(``auto_action_result``) and an ``auto_ab_test_started`` audit row. :func:`record_outcome`
writes the completion's outcome on the same alerts (``auto_promoted`` /
``auto_promotion_declined``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from enms.alerts.conditions import audit
from enms.alerts.models import UNRESOLVED_STATES, ModelAlert
from enms.core.clock import Clock
from enms.core.config import Settings
from enms.core.db import SessionFactory, session_scope
from enms.core.errors import Conflict, DomainError
from enms.experiments import service
from enms.experiments.models import ABTest
from enms.experiments.schemas import ABTestStart
from enms.registry import repository as registry_repository
from enms.registry.models import ModelVersion
from enms.registry.service import CHALLENGER, CHAMPION
from enms.training.models import TrainingJob

ACTOR = "enms-auto"
TRIGGERS = ("drift", "degradation")


@dataclass(frozen=True)
class _Candidate:
    machine_id: int
    model_type: str
    champion: int
    challenger: int
    alert_ids: tuple[int, ...]


def _version_of(
    session: Session, machine_id: int, model_type: str, alias: str
) -> ModelVersion | None:
    pointer = registry_repository.alias(session, machine_id, model_type, alias)
    return None if pointer is None else session.get(ModelVersion, pointer.model_version_id)


def _candidates(session: Session, settings: Settings) -> list[_Candidate]:
    rows = session.execute(
        select(ModelAlert, TrainingJob)
        .join(TrainingJob, TrainingJob.id == ModelAlert.action_job_id)
        .where(
            ModelAlert.state.in_(UNRESOLVED_STATES),
            ModelAlert.alert_type.in_(TRIGGERS),
            ModelAlert.auto_action == "retrain",
            TrainingJob.training_status == "completed",
            TrainingJob.model_version.is_not(None),
        )
        .order_by(ModelAlert.id)
    ).all()
    found: dict[tuple[int, str, int], list[int]] = {}
    champions: dict[tuple[int, str, int], int] = {}
    for alert, job in rows:
        model_type = alert.model_type
        if model_type is None or not settings.ab_test.auto_start_after_retrain.get(model_type):
            continue
        challenger = _version_of(session, alert.machine_id, model_type, CHALLENGER)
        champion = _version_of(session, alert.machine_id, model_type, CHAMPION)
        if challenger is None or champion is None or challenger.version != job.model_version:
            continue
        tested = session.scalar(select(ABTest.id).where(ABTest.model_b_id == challenger.id))
        if tested is not None:
            continue
        key = (alert.machine_id, model_type, challenger.version)
        found.setdefault(key, []).append(alert.id)
        champions[key] = champion.version
    return [
        _Candidate(m, t, champions[(m, t, v)], v, tuple(ids)) for (m, t, v), ids in found.items()
    ]


def start_for_retrains(
    *, factory: SessionFactory, settings: Settings, clock: Clock
) -> list[dict[str, Any]]:
    """Start the tests of automatically retrained challengers (see the module doc)."""
    with session_scope(factory) as session:
        candidates = _candidates(session, settings)
    started: list[dict[str, Any]] = []
    for c in candidates:
        request = ABTestStart(
            machine_id=c.machine_id,
            model_type=c.model_type,
            model_a_version=c.champion,
            model_b_version=c.challenger,
            duration_days=settings.ab_test.auto_duration_days,
            min_samples_per_arm=settings.ab_test.auto_min_samples_per_arm,
            created_by=ACTOR,
            notes="started after the automatic retrain of alert(s) "
            + ", ".join(map(str, c.alert_ids)),
        )
        try:
            with session_scope(factory, write=True) as session:
                test = service.start(session=session, data=request, settings=settings, clock=clock)
                result = (
                    f"A/B test {test.id} started: v{c.champion} (champion) vs v{c.challenger} "
                    f"(retrained), up to {test.duration_days:g} days"
                )
                _record(
                    session,
                    c.alert_ids,
                    result,
                    "auto_ab_test_started",
                    clock.now(),
                    {"ab_test_id": test.id},
                )
                started.append(
                    {
                        "test_id": test.id,
                        "machine_id": c.machine_id,
                        "model_type": c.model_type,
                        "a": c.champion,
                        "b": c.challenger,
                    }
                )
        except Conflict:
            continue  # a test of this model type runs: retried on the next pass
        except DomainError as exc:
            started.append(
                {"machine_id": c.machine_id, "model_type": c.model_type, "error": exc.message}
            )
    return started


def _record(
    session: Session,
    alert_ids: tuple[int, ...] | list[int],
    result: str,
    rule: str,
    now: datetime,
    details: dict[str, Any],
) -> None:
    for alert_id in alert_ids:
        alert = session.get(ModelAlert, alert_id)
        if alert is None:
            continue
        alert.auto_action_result = result[:2000]
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


def record_outcome(
    session: Session, test: ABTest, version_b: int, *, promoted: bool, message: str, now: datetime
) -> list[int]:
    """Write a completed test's outcome on the unresolved alerts whose automatic retrain
    produced B; returns their ids."""
    ids = list(
        session.scalars(
            select(ModelAlert.id)
            .join(TrainingJob, TrainingJob.id == ModelAlert.action_job_id)
            .where(
                ModelAlert.machine_id == test.machine_id,
                ModelAlert.model_type == test.model_type,
                ModelAlert.state.in_(UNRESOLVED_STATES),
                ModelAlert.alert_type.in_(TRIGGERS),
                TrainingJob.model_version == version_b,
            )
            .order_by(ModelAlert.id)
        )
    )
    rule = "auto_promoted" if promoted else "auto_promotion_declined"
    shown = message if f"A/B test {test.id}" in message else f"{message} (A/B test {test.id})"
    _record(session, ids, shown, rule, now, {"ab_test_id": test.id})
    return ids
