"""promote_after_test: the A/B stage's entry point applies the policy and the gate, promotes,
opens the watch and keeps the old champion shadow-scored under alias ``previous``."""

from __future__ import annotations

import threading
from dataclasses import replace

from sqlalchemy.orm import Session

from enms.core.clock import FrozenClock
from enms.core.config import Settings
from enms.core.db import SessionFactory, session_scope
from enms.promotion import evidence, service
from enms.promotion.models import WATCHING, PromotionWatch
from enms.registry import service as registry
from tests.factories import make_machine
from tests.registry.versions import register_baseline

WON = evidence.TestEvidence(
    test_id=7,
    concluded=True,
    winner="b",
    n_a=400,
    n_b=410,
    min_samples_per_arm=300,
    primary_metric="mae",
    difference=-0.21,
    p_value=0.004,
    alpha=0.05,
    guardrails={"rmse": -0.03},
    guardrail_max_worse=0.05,
)


def _two_versions(session: Session, clock: FrozenClock) -> int:
    machine = make_machine(session, clock)
    register_baseline(session, clock, machine.id)
    register_baseline(session, clock, machine.id)
    return machine.id


def _aliases(session: Session, machine_id: int) -> dict[int, list[str]]:
    listed = registry.list_versions(session=session, machine_id=machine_id, model_type="baseline")
    return {v.version: v.aliases for v in listed}


def test_the_winner_is_promoted_and_watched(
    session: Session, clock: FrozenClock, settings: Settings
) -> None:
    machine_id = _two_versions(session, clock)
    outcome = service.promote_after_test(
        session=session,
        machine_id=machine_id,
        model_type="baseline",
        version=2,
        evidence=WON,
        settings=settings,
        clock=clock,
    )
    assert outcome.promoted, outcome.message
    assert outcome.message.startswith("promoted v2: won A/B test 7: B's mae lower")
    assert [v["rule"] for v in outcome.verdicts][:4] == [
        "test_concluded",
        "min_samples",
        "better_with_significance",
        "guardrails",
    ]
    assert [v["passed"] for v in outcome.verdicts[:4]] == [True, True, True, True]
    assert _aliases(session, machine_id) == {2: ["champion"], 1: ["previous"]}
    watch = session.query(PromotionWatch).one()
    assert watch.state == WATCHING
    assert (watch.watch_until - watch.promoted_at).days == settings.promotion.watch_days
    history = registry.alias_history(session=session, machine_id=machine_id, model_type="baseline")
    promotion = next(e for e in history if e.action == "promote")
    assert promotion.actor == "enms-auto"
    assert promotion.details["ab_test_id"] == 7
    assert promotion.details["gate_passed"] is True


def test_a_failed_rule_keeps_the_champion_and_says_why(
    session: Session, clock: FrozenClock, settings: Settings
) -> None:
    machine_id = _two_versions(session, clock)
    worse = replace(WON, guardrails={"rmse": 0.09})
    outcome = service.promote_after_test(
        session=session,
        machine_id=machine_id,
        model_type="baseline",
        version=2,
        evidence=worse,
        settings=settings,
        clock=clock,
    )
    assert not outcome.promoted
    assert outcome.message == ("kept v1: rule 'guardrails' failed: rmse 9.0 % worse (at most 5 %)")
    inconclusive = replace(WON, winner=None, p_value=0.3, difference=-0.05)
    outcome = service.promote_after_test(
        session=session,
        machine_id=machine_id,
        model_type="baseline",
        version=2,
        evidence=inconclusive,
        settings=settings,
        clock=clock,
    )
    assert not outcome.promoted
    assert "rule 'better_with_significance' failed" in outcome.message
    assert "p=0.3" in outcome.message
    assert _aliases(session, machine_id) == {2: ["challenger"], 1: ["champion"]}
    assert session.query(PromotionWatch).count() == 0


def test_automatic_promotion_can_be_off_per_model_type(
    session: Session, clock: FrozenClock, settings: Settings
) -> None:
    machine_id = _two_versions(session, clock)
    off = settings.model_copy(
        update={
            "promotion": settings.promotion.model_copy(
                update={"auto_promote": {**settings.promotion.auto_promote, "baseline": False}}
            )
        }
    )
    outcome = service.promote_after_test(
        session=session,
        machine_id=machine_id,
        model_type="baseline",
        version=2,
        evidence=WON,
        settings=off,
        clock=clock,
    )
    assert not outcome.promoted
    assert "automatic promotion is off for baseline" in outcome.message
    assert _aliases(session, machine_id)[1] == ["champion"]


def test_concurrent_promotions_leave_one_open_watch(
    session_factory: SessionFactory, clock: FrozenClock, settings: Settings
) -> None:
    """Both promotions queue on the champion alias's lock: the later one ends the earlier's
    watch, and ``previous`` is the champion the later one really replaced."""
    with session_scope(session_factory, write=True) as s:
        machine_id = make_machine(s, clock).id
        for _ in range(3):
            register_baseline(s, clock, machine_id)
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def promote(version: int) -> None:
        try:
            barrier.wait()
            with session_scope(session_factory, write=True) as s:
                service.promote(
                    session=s,
                    machine_id=machine_id,
                    model_type="baseline",
                    version=version,
                    actor=f"user{version}",
                    reason=None,
                    settings=settings,
                    clock=clock,
                )
        except BaseException as exc:  # collected below
            errors.append(exc)

    threads = [threading.Thread(target=promote, args=(v,)) for v in (2, 3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with session_scope(session_factory) as s:
        watches = s.query(PromotionWatch).order_by(PromotionWatch.id).all()
        assert [w.state for w in watches] == ["ended", WATCHING]
        moves = [
            (e.from_version, e.to_version)
            for e in registry.alias_history(session=s, machine_id=machine_id, model_type="baseline")
            if e.alias == "champion"
        ]
        last = watches[1]
        assert (last.result["previous_version"], last.result["champion_version"]) == moves[-1]
        previous = moves[-1][0]
        assert previous is not None
        assert _aliases(s, machine_id)[previous] == ["previous"]
