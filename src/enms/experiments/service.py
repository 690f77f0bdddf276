"""Use cases of A/B tests: start, stop, list, read, and results.

Validation at start: the machine exists, the model type is known, both versions are versions
of that machine's model type (an unknown number is a 422 naming the field), A ≠ B, the
guardrails are known metrics, ``cost`` needs the machine's ``tariff_per_kwh``. "One running
test per (machine, model type)" is the partial unique index: the insert runs in a savepoint
and an IntegrityError becomes a 409 naming the running test, so two concurrent starts end
with one test and one refusal on either dialect.

Results of a running test are computed in the caller's (read) session from the prediction
log — the slot assignment of untagged points is computed in memory, so reading never
writes; a completed or stopped test answers its stored analysis.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import CursorResult, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from enms.core.clock import Clock
from enms.core.config import Settings
from enms.core.errors import Conflict, InvalidInput, NotFound
from enms.core.model_types import check_model_type
from enms.core.timewindow import as_utc
from enms.experiments.analysis import Analysis, analyse, jsonable
from enms.experiments.models import COMPLETED, RUNNING, STATUSES, STOPPED, ABTest
from enms.experiments.schemas import (
    GUARDRAIL_METRICS,
    ABTestRead,
    ABTestResults,
    ABTestStart,
    ABTestStop,
)
from enms.experiments.tagging import arm_frames
from enms.predictions.repository import points_frame
from enms.readings.models import Machine
from enms.registry import repository as registry_repository
from enms.registry.models import AuditLog, ModelVersion
from enms.registry.service import CHALLENGER, CHAMPION

ENTITY = "ab_test"
MAX_LIST = 500


def machine_of(session: Session, machine_id: int) -> Machine:
    """The machine with ``machine_id`` or :class:`NotFound`."""
    row = session.get(Machine, machine_id)
    if row is None:
        raise NotFound(f"no machine {machine_id}")
    return row


def tariff_of(machine: Machine) -> float | None:
    """The machine's energy tariff (metadata ``tariff_per_kwh``), if it has a usable one."""
    value = (machine.metadata_ or {}).get("tariff_per_kwh")
    try:
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _alias_version(
    session: Session, machine_id: int, model_type: str, name: str
) -> ModelVersion | None:
    pointer = registry_repository.alias(session, machine_id, model_type, name)
    return None if pointer is None else session.get(ModelVersion, pointer.model_version_id)


def _resolve(
    session: Session, machine: Machine, model_type: str, number: int | None, field: str
) -> ModelVersion:
    if number is not None:
        row = registry_repository.version(session, machine.id, model_type, number)
        if row is None:
            raise InvalidInput(
                f"{field}: {machine.name} has no {model_type} version {number}",
                details={"field": field},
            )
        return row
    if field == "model_a_version":
        row = _alias_version(session, machine.id, model_type, CHAMPION)
        what = "champion"
    else:
        row = _alias_version(session, machine.id, model_type, CHALLENGER)
        what = "challenger"
    if row is None:
        raise InvalidInput(
            f"{field}: {machine.name} has no {model_type} {what}; name the version",
            details={"field": field},
        )
    return row


def start(*, session: Session, data: ABTestStart, settings: Settings, clock: Clock) -> ABTest:
    """Start a test (see the module doc for the validation); audited as ``ab_test_started``."""
    check_model_type(data.model_type)
    machine = machine_of(session, data.machine_id)
    a = _resolve(session, machine, data.model_type, data.model_a_version, "model_a_version")
    b = _resolve(session, machine, data.model_type, data.model_b_version, "model_b_version")
    if a.id == b.id:
        raise InvalidInput(
            f"model_b_version: arm B is version {b.version}, the same as arm A",
            details={"field": "model_b_version"},
        )
    defaults = settings.ab_test
    guardrails = list(defaults.guardrails if data.guardrails is None else data.guardrails)
    unknown = [g for g in guardrails if g not in GUARDRAIL_METRICS]
    if unknown:
        raise InvalidInput(
            f"guardrails: unknown metric(s) {', '.join(unknown)}; "
            f"choose among {', '.join(GUARDRAIL_METRICS)}",
            details={"field": "guardrails"},
        )
    metric = data.primary_metric or defaults.primary_metric
    if metric == "cost" and tariff_of(machine) is None:
        raise InvalidInput(
            f"primary_metric: 'cost' needs a tariff: set metadata tariff_per_kwh on {machine.name}",
            details={"field": "primary_metric"},
        )
    now = clock.now()
    duration = data.duration_days or defaults.duration_days
    test = ABTest(
        test_name=data.test_name
        or f"{machine.name} {data.model_type} v{a.version} vs v{b.version}",
        machine_id=machine.id,
        model_type=data.model_type,
        model_a_id=a.id,
        model_b_id=b.id,
        traffic_split=data.traffic_split or defaults.traffic_split,
        status=RUNNING,
        start_date=now,
        planned_end_date=now + timedelta(days=duration),
        created_by=data.created_by,
        notes=data.notes,
        duration_days=duration,
        min_samples_per_arm=data.min_samples_per_arm or defaults.min_samples_per_arm,
        alpha=data.alpha or defaults.alpha,
        primary_metric=metric,
        guardrails=guardrails,
        guardrail_max_worse=(
            defaults.guardrail_max_worse
            if data.guardrail_max_worse is None
            else data.guardrail_max_worse
        ),
        sequential=defaults.sequential if data.sequential is None else data.sequential,
        slot_minutes=data.slot_minutes or defaults.slot_minutes,
    )
    try:
        with session.begin_nested():
            session.add(test)
            session.flush()
    except IntegrityError:
        running = session.scalar(
            select(ABTest.id).where(
                ABTest.machine_id == machine.id,
                ABTest.model_type == data.model_type,
                ABTest.status == RUNNING,
            )
        )
        raise Conflict(
            f"{machine.name} {data.model_type} already has a running A/B test"
            + (f" ({running}): stop it first" if running else ""),
            details={"running_test_id": running},
        ) from None
    _audit(
        session,
        test,
        "ab_test_started",
        actor=data.created_by,
        at=now,
        reason=f"v{a.version} (A) vs v{b.version} (B), {test.traffic_split:.0%} to B",
    )
    return test


def _audit(
    session: Session, test: ABTest, action: str, *, actor: str, at: datetime, reason: str
) -> None:
    session.add(
        AuditLog(
            at=at,
            actor=actor,
            action=action,
            entity_type=ENTITY,
            entity_id=str(test.id),
            machine_id=test.machine_id,
            reason=reason,
            details={"model_type": test.model_type},
        )
    )


def get(session: Session, test_id: int) -> ABTest:
    """The test with ``test_id`` or :class:`NotFound`."""
    row = session.get(ABTest, test_id)
    if row is None:
        raise NotFound(f"no A/B test {test_id}")
    return row


def stop(*, session: Session, test_id: int, data: ABTestStop, clock: Clock) -> ABTest:
    """Stop a running test (no verdict, no promotion); 409 when it is no longer running."""
    test = get(session, test_id)
    now = clock.now()
    result = session.execute(
        update(ABTest)
        .where(ABTest.id == test_id, ABTest.status == RUNNING)
        .values(status=STOPPED, end_date=now, stopped_by=data.actor, stop_reason=data.reason)
        .execution_options(synchronize_session=False)
    )
    if not (isinstance(result, CursorResult) and result.rowcount == 1):
        session.refresh(test)
        raise Conflict(f"A/B test {test_id} is {test.status}, not running")
    session.refresh(test)
    _audit(session, test, "ab_test_stopped", actor=data.actor, at=now, reason=data.reason)
    return test


def list_tests(
    *,
    session: Session,
    status: str | None = None,
    machine_id: int | None = None,
    model_type: str | None = None,
) -> list[ABTest]:
    """Tests newest first, filtered by status, machine and model type."""
    query = select(ABTest)
    if status is not None:
        if status not in STATUSES:
            raise InvalidInput(f"status: unknown {status!r}; one of {', '.join(STATUSES)}")
        query = query.where(ABTest.status == status)
    if machine_id is not None:
        query = query.where(ABTest.machine_id == machine_id)
    if model_type is not None:
        query = query.where(ABTest.model_type == check_model_type(model_type))
    return list(session.scalars(query.order_by(ABTest.id.desc()).limit(MAX_LIST)))


def versions_of(session: Session, test: ABTest) -> tuple[int, int]:
    """The version numbers of arms A and B."""
    a = session.get(ModelVersion, test.model_a_id)
    b = session.get(ModelVersion, test.model_b_id)
    return (a.version if a else 0, b.version if b else 0)


def read(session: Session, test: ABTest) -> ABTestRead:
    """The response document of a test."""
    va, vb = versions_of(session, test)
    winner = test.winner
    if winner is None and test.status == COMPLETED:
        winner = "inconclusive"
    return ABTestRead(
        id=test.id,
        test_name=test.test_name,
        machine_id=test.machine_id,
        machine_name=machine.name if (machine := session.get(Machine, test.machine_id)) else None,
        model_type=test.model_type,
        model_a_version=va,
        model_b_version=vb,
        traffic_split=test.traffic_split,
        status=test.status,
        start_date=as_utc(test.start_date),
        planned_end_date=None if test.planned_end_date is None else as_utc(test.planned_end_date),
        end_date=None if test.end_date is None else as_utc(test.end_date),
        winner=winner,
        confidence=test.confidence,
        p_value=test.p_value,
        duration_days=test.duration_days,
        min_samples_per_arm=test.min_samples_per_arm,
        alpha=test.alpha,
        primary_metric=test.primary_metric,
        guardrails=list(test.guardrails or []),
        guardrail_max_worse=test.guardrail_max_worse,
        sequential=test.sequential,
        slot_minutes=test.slot_minutes,
        created_by=test.created_by,
        notes=test.notes,
        stopped_by=test.stopped_by,
        stop_reason=test.stop_reason,
        promotion=test.promotion,
        analysed_at=None if test.analysed_at is None else as_utc(test.analysed_at),
    )


def window_of(test: ABTest, now: datetime) -> tuple[datetime, datetime]:
    """The test's data window: from its start to its end (running: to now)."""
    end = now if test.end_date is None else min(as_utc(test.end_date), now)
    return as_utc(test.start_date), max(end, as_utc(test.start_date))


def evaluate(session: Session, test: ABTest, settings: Settings, now: datetime) -> Analysis:
    """Read the test window's points of A and B (in ``session``) and analyse them."""
    start_at, end_at = window_of(test, now)
    points_a = points_frame(session, model_id=test.model_a_id, start=start_at, end=end_at)
    points_b = points_frame(session, model_id=test.model_b_id, start=start_at, end=end_at)
    machine = machine_of(session, test.machine_id)
    versions = versions_of(session, test)
    return compute(test, points_a, points_b, settings, now, versions, tariff_of(machine))


def compute(
    test: ABTest,
    points_a: pd.DataFrame,
    points_b: pd.DataFrame,
    settings: Settings,
    now: datetime,
    versions: tuple[int, int],
    tariff: float | None,
) -> Analysis:
    """The analysis of already-read points (no database: run outside any transaction)."""
    start_at, end_at = window_of(test, now)
    found = analyse(
        test,
        arm_frames(test, points_a, points_b),
        now=now,
        versions=versions,
        tariff=tariff,
        power=settings.ab_test.power,
        mde=settings.ab_test.minimum_detectable_effect,
        srm_alpha=settings.ab_test.srm_alpha,
        sequential_min_days=settings.ab_test.sequential_min_days,
    )
    found.document["window_start"] = start_at.isoformat()
    found.document["window_end"] = end_at.isoformat()
    found.document["as_of"] = now.isoformat()
    return Analysis(
        found.verdict,
        found.reason,
        found.decided,
        found.p_value,
        found.confidence,
        jsonable(found.document),
    )


def results(*, session: Session, test_id: int, settings: Settings, clock: Clock) -> ABTestResults:
    """A test's results: live for a running test, the stored analysis otherwise (a test
    stopped before any analysis is analysed on its window).

    A live analysis reads the arms' points first and ends the read transaction before the
    statistics run, so a slow analysis (a long test at 15-minute readings) holds no
    transaction open — the same read → compute → (no) write split as the periodic job.
    """
    test = get(session, test_id)
    head = read(session, test)
    stored: dict[str, Any] | None = test.results if test.status != RUNNING else None
    if stored:
        return _results_doc(head, stored)
    now = clock.now()
    start_at, end_at = window_of(test, now)
    points_a = points_frame(session, model_id=test.model_a_id, start=start_at, end=end_at)
    points_b = points_frame(session, model_id=test.model_b_id, start=start_at, end=end_at)
    tariff = tariff_of(machine_of(session, test.machine_id))
    versions = versions_of(session, test)
    session.expunge(test)
    session.rollback()  # a read-only session: nothing to undo, the transaction just ends
    analysis = compute(test, points_a, points_b, settings, now, versions, tariff)
    return _results_doc(head, analysis.document)


def _results_doc(head: ABTestRead, doc: dict[str, Any]) -> ABTestResults:
    return ABTestResults(
        test=head,
        as_of=doc["as_of"],
        window_start=doc["window_start"],
        window_end=doc["window_end"],
        verdict=doc["verdict"],
        verdict_reason=doc["verdict_reason"],
        arms=doc["arms"],
        difference=doc["difference"],
        confidence=doc["confidence"],
        p_value=doc["p_value"],
        sequential=doc["sequential"],
        srm=doc["srm"],
        paired=doc["paired"],
        guardrails=doc["guardrails"],
        min_sample_reached=doc["min_sample_reached"],
        needed_per_arm=doc["needed_per_arm"],
        points_per_day=doc["points_per_day"],
        estimated_days_left=doc["estimated_days_left"],
        methods=doc["methods"],
    )
