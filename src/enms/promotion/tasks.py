"""The periodic ``promotion_watch`` job: watch new champions, roll back a worse one.

Per open watch: one short read (the champion alias, both versions' logged points since the
promotion), the comparison outside any transaction (:mod:`enms.promotion.watch`), then one
short write that re-checks the watch is still open and the champion unchanged (holding the
champion alias's lock) before it acts:

* worse → registry rollback to the previous champion (actor ``enms-auto``, the figures as
  reason and details), a ``degradation`` alert saying why, watch ``rolled_back``;
* the watch period is over → watch ``passed`` (alias ``previous`` cleared);
* otherwise the latest figures are kept on the watch (``result.latest``).

Settings: ``ENMS_PROMOTION__WATCH_DAYS``, ``__ROLLBACK_WORSE_BY``, ``__ROLLBACK_MIN_POINTS``,
``__ROLLBACK_ALPHA``, ``__DETECTOR_ALARM_BUDGET``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from enms.alerts.conditions import raise_condition
from enms.core.clock import Clock
from enms.core.config import Settings
from enms.core.db import SessionFactory, session_scope
from enms.core.timewindow import as_utc
from enms.predictions.repository import points_frame
from enms.promotion import watches
from enms.promotion.models import ENDED, PASSED, ROLLED_BACK, WATCHING, PromotionWatch
from enms.promotion.watch import (
    Comparison,
    alpha_per_look,
    compare_alarms,
    compare_energy,
    judged_days,
    paired,
)
from enms.readings.models import Machine
from enms.registry import service as registry
from enms.registry.models import ModelVersion

ACTOR = "enms-auto"


@dataclass(frozen=True)
class _Look:
    watch_id: int
    machine_id: int
    model_type: str
    machine_name: str
    champion: int
    previous: int
    champion_version: int
    previous_version: int
    until: datetime
    current: int | None
    pairs_frame: Any


def promotion_watch(*, factory: SessionFactory, settings: Settings, clock: Clock) -> dict[str, Any]:
    """One pass over the open watches; JSON-able lists of what happened to which watch."""
    with session_scope(factory) as session:
        ids = [w.id for w in watches.open_watches(session)]
    out: dict[str, list[Any]] = {"watched": [], "passed": [], "rolled_back": [], "ended": []}
    for watch_id in ids:
        look = _read(factory, watch_id)
        if look is None:
            continue
        if look.current != look.champion:
            _end(factory, look, clock)
            out["ended"].append(watch_id)
            continue
        comparison = _compare(look, settings)
        state = _act(factory, look, comparison, settings, clock)
        entry = {"watch_id": watch_id, "state": state, **comparison.as_dict()}
        key = {ROLLED_BACK: "rolled_back", PASSED: "passed", ENDED: "ended"}.get(state, "watched")
        out[key].append(entry)
    return out


def _read(factory: SessionFactory, watch_id: int) -> _Look | None:
    with session_scope(factory) as session:
        watch = session.get(PromotionWatch, watch_id)
        if watch is None or watch.state != WATCHING:
            return None
        since = watches.since_of(watch)
        # Whole UTC days from the first midnight after the newest reading at promotion.
        start = _next_midnight(since) if since else None
        machine = session.get(Machine, watch.machine_id)
        new = session.get(ModelVersion, watch.champion_id)
        old = session.get(ModelVersion, watch.previous_id)
        # ON DELETE CASCADE removes a watch with its versions
        assert new is not None
        assert old is not None
        return _Look(
            watch_id=watch.id,
            machine_id=watch.machine_id,
            model_type=watch.model_type,
            machine_name=machine.name if machine is not None else f"machine {watch.machine_id}",
            champion=watch.champion_id,
            previous=watch.previous_id,
            champion_version=new.version,
            previous_version=old.version,
            until=as_utc(watch.watch_until),
            current=watches.champion_id(session, watch.machine_id, watch.model_type, lock=False),
            pairs_frame=paired(
                points_frame(session, model_id=watch.champion_id, start=start),
                points_frame(session, model_id=watch.previous_id, start=start),
            ),
        )


def _compare(look: _Look, settings: Settings) -> Comparison:
    policy = settings.promotion
    alpha = alpha_per_look(policy.rollback_alpha, policy.watch_days)
    worse_by, points = policy.rollback_worse_by, policy.rollback_min_points
    days = judged_days(policy.watch_days)
    if look.model_type == "anomaly":
        return compare_alarms(
            look.pairs_frame,
            worse_by=worse_by,
            alpha=alpha,
            min_points=points,
            budget=policy.detector_alarm_budget,
            max_days=days,
        )
    return compare_energy(
        look.pairs_frame, worse_by=worse_by, alpha=alpha, min_points=points, max_days=days
    )


def _still_open(session: Session, look: _Look) -> PromotionWatch | None:
    """The watch, if it is still open and its champion still champion (alias locked)."""
    current = watches.champion_id(session, look.machine_id, look.model_type, lock=True)
    watch = session.get(PromotionWatch, look.watch_id)
    if watch is None or watch.state != WATCHING or current != look.champion:
        return None
    return watch


def _act(
    factory: SessionFactory, look: _Look, comparison: Comparison, settings: Settings, clock: Clock
) -> str:
    figures = comparison.as_dict()
    said = comparison.describe(look.champion_version, look.previous_version)
    with session_scope(factory, write=True) as session:
        watch = _still_open(session, look)
        if watch is None:
            return ENDED
        if comparison.status == "worse":
            _roll_back(session, watch, look, figures, said, clock)
            return ROLLED_BACK
        if clock.now() >= look.until:
            reason = f"watch of v{look.champion_version} passed: {said}"
            watches.decide(session, watch, state=PASSED, result={"latest": figures,
                           "reason": reason}, reason=reason, actor=ACTOR, clock=clock)  # fmt: skip
            return PASSED
        watch.result = {**(watch.result or {}), "latest": figures, "looked_at": _iso(clock)}
        return WATCHING


def _roll_back(
    session: Session,
    watch: PromotionWatch,
    look: _Look,
    figures: dict[str, Any],
    said: str,
    clock: Clock,
) -> None:
    reason = f"guarded rollback: {said}"
    registry.rollback(
        session=session,
        machine_id=look.machine_id,
        model_type=look.model_type,
        actor=ACTOR,
        reason=reason,
        clock=clock,
        details={"watch_id": look.watch_id, "comparison": figures},
        expect_version=look.previous_version,
    )
    watches.decide(session, watch, state=ROLLED_BACK, result={"latest": figures,
                   "reason": reason}, reason=reason, actor=ACTOR, clock=clock)  # fmt: skip
    raise_condition(
        session,
        machine_id=look.machine_id,
        model_type=look.model_type,
        alert_type="degradation",
        severity="warning",
        message=(
            f"{look.machine_name} {look.model_type} v{look.champion_version} rolled back to "
            f"v{look.previous_version} after its promotion: {said}"
        ),
        details={
            "rule": "guarded_rollback",
            "watch_id": look.watch_id,
            "rolled_back_version": look.champion_version,
            "champion_version": look.previous_version,
            "comparison": figures,
        },
        now=clock.now(),
        model_id=look.champion,
        actor=ACTOR,
    )


def _end(factory: SessionFactory, look: _Look, clock: Clock) -> None:
    with session_scope(factory, write=True) as session:
        watch = session.get(PromotionWatch, look.watch_id)
        if watch is None or watch.state != WATCHING:
            return
        reason = f"v{look.champion_version} is no longer the champion"
        watches.decide(session, watch, state=ENDED, result={"reason": reason}, reason=reason,
                       actor=ACTOR, clock=clock)  # fmt: skip


def _next_midnight(moment: datetime) -> datetime:
    day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    return day + timedelta(days=1)


def _iso(clock: Clock) -> str:
    return clock.now().isoformat()
