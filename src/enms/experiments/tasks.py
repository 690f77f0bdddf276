"""The periodic ``ab_test_evaluate`` job: start the tests of automatically retrained
challengers, analyse running tests, complete the ones that are decided.

Per running test: tag the window's untagged points with their slot-assigned arm (short
batches), read both versions' points in one read session, analyse outside any transaction,
then one short write: the analysis (``results``, ``analysed_at``) and — when decided (the
planned end, or an always-valid sequential decision) — completion guarded by ``status =
'running'`` (a test stopped or completed meanwhile is left alone): status, winner,
confidence, p-value; then, when B won, :func:`enms.promotion.service.promote_after_test`
(the gate decides) with the outcome stored in ``promotion``; an ``ab_test_completed`` alert;
and the outcome on the alerts whose retrain produced B.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import CursorResult, select, update

from enms.alerts.conditions import raise_condition, report_clear
from enms.core.clock import Clock
from enms.core.config import Settings
from enms.core.db import SessionFactory, session_scope
from enms.experiments import auto, service
from enms.experiments.analysis import Analysis
from enms.experiments.arms import B
from enms.experiments.models import COMPLETED, RUNNING, ABTest
from enms.experiments.tagging import tag_window
from enms.predictions.repository import points_frame
from enms.promotion.evidence import TestEvidence
from enms.promotion.service import promote_after_test

log = logging.getLogger(__name__)
ACTOR = "enms-auto"


def evidence_of(test: ABTest, found: Analysis) -> TestEvidence:
    """What the promotion gate reads from a completed test."""
    doc = found.document
    arms = {arm["arm"]: arm for arm in doc["arms"]}
    diff = doc.get("difference") or {}
    return TestEvidence(
        test_id=test.id,
        concluded=True,
        winner=found.verdict if found.verdict in ("a", "b") else None,
        n_a=int(arms["a"]["n"]),
        n_b=int(arms["b"]["n"]),
        min_samples_per_arm=test.min_samples_per_arm,
        primary_metric=test.primary_metric,
        difference=diff.get("estimate"),
        p_value=found.p_value,
        alpha=test.alpha,
        guardrails=dict(doc.get("guardrails") or {}),
        guardrail_max_worse=test.guardrail_max_worse,
        details={
            "difference": diff or None,
            "paired": doc.get("paired"),
            "sequential": doc.get("sequential"),
            "srm": doc.get("srm"),
            "methods": doc.get("methods"),
            "verdict_reason": found.reason,
        },
    )


def _analyse(factory: SessionFactory, test: ABTest, settings: Settings, clock: Clock) -> Analysis:
    now = clock.now()
    start_at, end_at = service.window_of(test, now)
    tag_window(factory, test, start_at, end_at)
    with session_scope(factory) as session:
        points_a = points_frame(session, model_id=test.model_a_id, start=start_at, end=end_at)
        points_b = points_frame(session, model_id=test.model_b_id, start=start_at, end=end_at)
        versions = service.versions_of(session, test)
        tariff = service.tariff_of(service.machine_of(session, test.machine_id))
    return service.compute(test, points_a, points_b, settings, now, versions, tariff)


def complete(
    factory: SessionFactory, test: ABTest, found: Analysis, settings: Settings, clock: Clock
) -> dict[str, Any] | None:
    """Complete a decided test (see the module doc); None if it was no longer running."""
    now = clock.now()
    winner = found.verdict if found.verdict in ("a", "b") else None
    with session_scope(factory, write=True) as session:
        done = session.execute(
            update(ABTest)
            .where(ABTest.id == test.id, ABTest.status == RUNNING)
            .values(
                status=COMPLETED,
                end_date=now,
                winner=winner,
                confidence=found.confidence,
                p_value=found.p_value,
                results=found.document,
                analysed_at=now,
            )
            .execution_options(synchronize_session=False)
        )
        if not (isinstance(done, CursorResult) and done.rowcount == 1):
            return None
        row = service.get(session, test.id)
        session.refresh(row)
        va, vb = service.versions_of(session, row)
        if winner == B:
            outcome = promote_after_test(
                session=session,
                machine_id=row.machine_id,
                model_type=row.model_type,
                version=vb,
                evidence=evidence_of(row, found),
                settings=settings,
                clock=clock,
                actor=ACTOR,
            )
            promoted, message = outcome.promoted, outcome.message
        else:
            promoted = False
            message = f"kept v{va}: {'A won' if winner else 'inconclusive'} ({found.reason})"
        row.promotion = message[:2000]
        verdict = f"B (v{vb}) won" if winner == B else ("A won" if winner else "inconclusive")
        raise_condition(
            session,
            machine_id=row.machine_id,
            model_type=row.model_type,
            alert_type="ab_test_completed",
            severity="warning",
            message=f"A/B test {row.id} v{va} vs v{vb} completed: {verdict}; {message}",
            details={
                "ab_test_id": row.id,
                "winner": found.verdict,
                "p_value": found.p_value,
                "confidence": found.confidence,
                "promotion": message,
            },
            now=now,
            model_id=row.model_b_id if winner == B else row.model_a_id,
            actor=ACTOR,
        )
        # A completed test is an event, not a standing condition: it is clear at once, so the
        # alert is notified and then auto-resolves after the hysteresis (no open alert per
        # finished test piling up).
        report_clear(
            session,
            machine_id=row.machine_id,
            model_type=row.model_type,
            alert_type="ab_test_completed",
            now=now,
        )
        alerts = auto.record_outcome(session, row, vb, promoted=promoted, message=message, now=now)
        return {"test_id": row.id, "verdict": found.verdict, "promotion": message, "alerts": alerts}


def ab_test_evaluate(
    *, factory: SessionFactory, settings: Settings, clock: Clock
) -> dict[str, Any]:
    """One pass over the A/B tests (see the module doc)."""
    started = auto.start_for_retrains(factory=factory, settings=settings, clock=clock)
    with session_scope(factory) as session:
        running = list(session.scalars(select(ABTest).where(ABTest.status == RUNNING)))
    analysed: list[dict[str, Any]] = []
    completed: list[dict[str, Any]] = []
    for test in running:
        try:
            found = _analyse(factory, test, settings, clock)
        except Exception:  # one broken test must not stop the others
            log.exception("A/B test %s could not be analysed", test.id)
            continue
        analysed.append({"test_id": test.id, "verdict": found.verdict, "reason": found.reason})
        if found.decided:
            done = complete(factory, test, found, settings, clock)
            if done is not None:
                completed.append(done)
            continue
        with session_scope(factory, write=True) as session:
            session.execute(
                update(ABTest)
                .where(ABTest.id == test.id, ABTest.status == RUNNING)
                .values(results=found.document, analysed_at=clock.now())
                .execution_options(synchronize_session=False)
            )
    return {"started": started, "analysed": analysed, "completed": completed}
