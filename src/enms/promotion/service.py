"""Use cases of the promotion policy: promote after an A/B test, promote by hand, roll back.

Every promotion is judged by the gate (:mod:`enms.promotion.rules`): the A/B test's rules when
a test is behind it, the model-quality rules always. :func:`promote_after_test` promotes only
when the policy allows (``ENMS_PROMOTION__AUTO_PROMOTE`` per model type) and every rule passes;
:func:`promote` (by hand) refuses a version that fails the gate unless a reason is given, and
records the override. Either move writes the alias's audit row with the verdicts, opens a
:class:`~enms.promotion.models.PromotionWatch` and points alias ``previous`` at the old champion
(guarded rollback, :mod:`enms.promotion.watch`). Callers own the write unit of work.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from enms.core.clock import Clock
from enms.core.config import Settings
from enms.core.errors import Conflict, InvalidInput
from enms.core.model_types import check_model_type
from enms.promotion import watches
from enms.promotion.evidence import PromotionOutcome, TestEvidence
from enms.promotion.gate import judge
from enms.promotion.models import WATCHING, PromotionWatch
from enms.promotion.rules import Verdict, explain_failures, failed
from enms.promotion.schemas import GateRead, PromotionRead, WatchRead
from enms.registry import service as registry
from enms.registry.models import ModelVersion
from enms.registry.schemas import VersionRead

AUTO_ACTOR = "enms-auto"


def gate(
    *,
    session: Session,
    machine_id: int,
    model_type: str,
    version: int,
    settings: Settings,
    evidence: TestEvidence | None = None,
) -> GateRead:
    """What the gate says about promoting ``version`` now (changes nothing)."""
    row = registry.get_version(
        session=session, machine_id=machine_id, model_type=model_type, version=version
    )
    verdicts, ok = judge(row, settings.promotion, evidence, row.version)
    return GateRead(
        version=row.version,
        passed=ok,
        failed_rules=[str(v["rule"]) for v in failed(verdicts)],
        verdicts=verdicts,
    )


def promote_after_test(
    *,
    session: Session,
    machine_id: int,
    model_type: str,
    version: int,
    evidence: TestEvidence,
    settings: Settings,
    clock: Clock,
    actor: str = AUTO_ACTOR,
) -> PromotionOutcome:
    """Promote the winner of a completed A/B test if the policy allows and the gate passes.

    Never raises for a refusal: the outcome says what was done and why (its ``message`` is
    one line for the test's ``promotion`` column and the completion alert)."""
    row = registry.get_version(
        session=session, machine_id=machine_id, model_type=model_type, version=version
    )
    verdicts, ok = judge(row, settings.promotion, evidence, row.version)
    current = registry.champion(session=session, machine_id=machine_id, model_type=model_type)
    kept = f"kept v{current.version}" if current is not None else "no champion changed"
    if current is not None and current.id == row.id:
        return PromotionOutcome(False, f"v{row.version} is already the champion", verdicts)
    if not ok:
        return PromotionOutcome(False, f"{kept}: {explain_failures(verdicts)}", verdicts)
    if not settings.promotion.auto_promote.get(model_type, False):
        return PromotionOutcome(
            False,
            f"{kept}: v{row.version} passed the gate but automatic promotion is off for "
            f"{model_type} (ENMS_PROMOTION__AUTO_PROMOTE); promote it by hand if you agree",
            verdicts,
        )
    better = next(v for v in verdicts if v["rule"] == "better_with_significance")
    reason = f"won A/B test {evidence.test_id}: {better['detail']}"
    promoted = _promote(
        session=session,
        row=row,
        actor=actor,
        reason=reason,
        details={"gate": verdicts, "gate_passed": True, "ab_test_id": evidence.test_id},
        settings=settings,
        clock=clock,
    )
    watch = promoted.watch
    until = f" (watched until {watch.watch_until:%Y-%m-%d %H:%M} UTC)" if watch else ""
    return PromotionOutcome(True, f"promoted v{row.version}: {reason}{until}", verdicts)


def promote(
    *,
    session: Session,
    machine_id: int,
    model_type: str,
    version: int,
    actor: str,
    reason: str | None,
    settings: Settings,
    clock: Clock,
    override: bool | None = None,
) -> PromotionRead:
    """Make ``version`` the champion by hand. A version that fails the gate is refused
    (:class:`InvalidInput`, 422, listing the failed rules) unless a reason is given; the
    override is audited with the verdicts."""
    row = registry.get_version(
        session=session, machine_id=machine_id, model_type=model_type, version=version
    )
    verdicts, ok = judge(row, settings.promotion, None, row.version)
    reason = (reason or "").strip() or None
    problems = failed(verdicts)
    details = {"failed_rules": [v["rule"] for v in problems], "gate": verdicts}
    if override and reason is None:
        raise InvalidInput(
            "reason: an override of the promotion gate needs a reason", details=details
        )
    if problems and override is False:
        raise InvalidInput(
            f"v{row.version} fails the promotion gate and override is false: "
            f"{explain_failures(verdicts)}",
            details=details,
        )
    if problems and reason is None:
        raise InvalidInput(
            f"v{row.version} fails the promotion gate: {explain_failures(verdicts)}. "
            "Give a reason to promote it anyway (an audited override).",
            details=details,
        )
    return _promote(
        session=session,
        row=row,
        actor=actor,
        reason=reason,
        details={"gate": verdicts, "gate_passed": ok, "override": bool(problems)},
        settings=settings,
        clock=clock,
    )


def rollback(
    *,
    session: Session,
    machine_id: int,
    model_type: str,
    actor: str,
    reason: str | None,
    clock: Clock,
) -> VersionRead:
    """Return the champion to the previous one (by hand); an open watch of the model ends."""
    back = registry.rollback(
        session=session,
        machine_id=machine_id,
        model_type=model_type,
        actor=actor,
        reason=reason,
        clock=clock,
    )
    watches.end_open(
        session,
        machine_id=machine_id,
        model_type=model_type,
        reason=f"rolled back to v{back.version} by {actor}" + (f": {reason}" if reason else ""),
        actor=actor,
        clock=clock,
    )
    return back


def list_watches(
    *, session: Session, machine_id: int, model_type: str, open_only: bool = False
) -> list[WatchRead]:
    """The promotion watches of a model, newest first."""
    check_model_type(model_type)
    query = select(PromotionWatch).where(
        PromotionWatch.machine_id == machine_id, PromotionWatch.model_type == model_type
    )
    if open_only:
        query = query.where(PromotionWatch.state == WATCHING)
    rows = session.scalars(query.order_by(PromotionWatch.id.desc()))
    return [WatchRead.model_validate(r, from_attributes=True) for r in rows]


def _promote(
    *,
    session: Session,
    row: ModelVersion,
    actor: str,
    reason: str | None,
    details: dict[str, Any],
    settings: Settings,
    clock: Clock,
) -> PromotionRead:
    """Move the champion (the registry locks its alias first) and open the watch."""
    # Lock before reading the champion, so concurrent promotions queue up and each watch
    # records the champion it really replaced.
    watches.champion_id(session, row.machine_id, row.model_type, lock=True)
    previous = registry.champion(
        session=session, machine_id=row.machine_id, model_type=row.model_type
    )
    if previous is not None and previous.id == row.id:
        raise Conflict(f"version {row.version} is already the {row.model_type} champion")
    registry.promote(
        session=session,
        machine_id=row.machine_id,
        model_type=row.model_type,
        version=row.version,
        actor=actor,
        reason=reason,
        clock=clock,
        details=details,
    )
    watch = None
    if previous is not None:
        watch = watches.open_watch(
            session,
            champion=row,
            previous=previous,
            watch_days=settings.promotion.watch_days,
            actor=actor,
            clock=clock,
        )
    verdicts: list[Verdict] = details.get("gate", [])
    refreshed = registry.read(session, row)
    return PromotionRead(
        **refreshed.model_dump(exclude={"failed_rules"}),
        promotion_gate=verdicts,
        override=bool(details.get("override")),
        watch=WatchRead.model_validate(watch, from_attributes=True) if watch else None,
    )
