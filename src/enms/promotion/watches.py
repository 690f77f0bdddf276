"""The lifecycle of a promotion watch (``promotion_watches``): open, end, decide.

``watching`` → ``passed`` (the watch period ended without a rollback), ``rolled_back`` (the
new champion was worse: guarded rollback) or ``ended`` (the champion changed by other means:
a later promotion, a manual rollback). While a watch is open, alias ``previous`` points at the
champion before the promotion so shadow scoring keeps scoring it on the same readings; every
end of a watch clears it. Callers hold a write unit of work (and, when promoting, the champion
alias's lock, which serialises watches of one model). Flushes, never commits.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from enms.core.clock import Clock
from enms.core.timewindow import as_utc
from enms.predictions.repository import newest_reading
from enms.promotion.models import ENDED, WATCHING, PromotionWatch
from enms.registry import repository as registry_repository
from enms.registry import service as registry
from enms.registry.models import ModelVersion


def open_watches(
    session: Session, *, machine_id: int | None = None, model_type: str | None = None
) -> list[PromotionWatch]:
    """Watches still watching (of one model, or all), oldest first."""
    query = select(PromotionWatch).where(PromotionWatch.state == WATCHING)
    if machine_id is not None:
        query = query.where(PromotionWatch.machine_id == machine_id)
    if model_type is not None:
        query = query.where(PromotionWatch.model_type == model_type)
    return list(session.scalars(query.order_by(PromotionWatch.id)))


def open_watch(
    session: Session,
    *,
    champion: ModelVersion,
    previous: ModelVersion,
    watch_days: float,
    actor: str,
    clock: Clock,
) -> PromotionWatch:
    """Start watching ``champion`` against ``previous`` for ``watch_days``; an earlier open
    watch of the same model ends (its champion was replaced)."""
    now = clock.now()
    for old in open_watches(
        session, machine_id=champion.machine_id, model_type=champion.model_type
    ):
        _settle(old, ENDED, {"reason": f"v{champion.version} was promoted"}, now)
    since = newest_reading(session, champion.machine_id)
    until = now + timedelta(days=watch_days)
    row = PromotionWatch(
        machine_id=champion.machine_id,
        model_type=champion.model_type,
        champion_id=champion.id,
        previous_id=previous.id,
        promoted_at=now,
        watch_until=until,
        state=WATCHING,
        result={
            "champion_version": champion.version,
            "previous_version": previous.version,
            # Judged on the readings that arrive after the promotion (both shadow-scored).
            "since": since.isoformat() if since else None,
        },
    )
    session.add(row)
    registry.set_alias(
        session=session,
        row=previous,
        alias=registry.PREVIOUS,
        action="watch",
        actor=actor,
        reason=(
            f"v{previous.version} kept shadow-scored while v{champion.version} is watched "
            f"until {until:%Y-%m-%d %H:%M} UTC"
        ),
        clock=clock,
    )
    session.flush()
    return row


def since_of(watch: PromotionWatch) -> datetime | None:
    """The newest reading at promotion: the watch judges the readings after it."""
    value = (watch.result or {}).get("since")
    return as_utc(datetime.fromisoformat(value)) if isinstance(value, str) else None


def end_open(
    session: Session, *, machine_id: int, model_type: str, reason: str, actor: str, clock: Clock
) -> list[int]:
    """End every open watch of the model (the champion changed by other means)."""
    now = clock.now()
    ended = []
    for watch in open_watches(session, machine_id=machine_id, model_type=model_type):
        _settle(watch, ENDED, {"reason": reason}, now)
        ended.append(watch.id)
    if ended:
        release_previous(session, machine_id=machine_id, model_type=model_type, reason=reason,
                         actor=actor, clock=clock)  # fmt: skip
    return ended


def decide(
    session: Session,
    watch: PromotionWatch,
    *,
    state: str,
    result: dict[str, Any],
    reason: str,
    actor: str,
    clock: Clock,
) -> None:
    """Close ``watch`` as ``state`` with ``result``, and clear alias ``previous``."""
    _settle(watch, state, result, clock.now())
    release_previous(
        session,
        machine_id=watch.machine_id,
        model_type=watch.model_type,
        reason=reason,
        actor=actor,
        clock=clock,
    )


def release_previous(
    session: Session, *, machine_id: int, model_type: str, reason: str, actor: str, clock: Clock
) -> None:
    """Clear alias ``previous`` unless another open watch still needs it."""
    if open_watches(session, machine_id=machine_id, model_type=model_type):
        return
    registry.clear_alias(
        session=session,
        machine_id=machine_id,
        model_type=model_type,
        alias=registry.PREVIOUS,
        actor=actor,
        reason=reason,
        clock=clock,
    )


def champion_id(session: Session, machine_id: int, model_type: str, *, lock: bool) -> int | None:
    """The champion alias's version id (``lock``: hold the alias row until the end)."""
    row = registry_repository.alias(session, machine_id, model_type, registry.CHAMPION, lock=lock)
    return row.model_version_id if row else None


def _settle(watch: PromotionWatch, state: str, result: dict[str, Any], now: datetime) -> None:
    watch.state = state
    watch.decided_at = now
    watch.result = {**(watch.result or {}), **result}
