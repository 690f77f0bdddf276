"""Table ``audit_log``: who did what, when, to what, and how it ended.

Two kinds of rows share it: the domain's own records (alias moves, promotions, rollbacks,
imports, alert actions — written by the stage that acts, inside its unit of work) and one
row per state-changing HTTP request (``entity_type = "request"``, written by
:mod:`enms.auth.audit` after the response: who, role, key, address, route, outcome). So
"what did key *ci-bot* do yesterday" and "who moved the champion" are one query.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, Text, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from enms.core.orm import Base, JSONType, UTCDateTime

#: ``entity_type`` of the rows recording an HTTP request.
REQUEST_ENTITY = "request"


class AuditLog(Base):
    """Who did what, when and why: alias moves, promotions, rollbacks, imports, requests."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(64))
    entity_type: Mapped[str] = mapped_column(String(64))
    entity_id: Mapped[str | None] = mapped_column(String(64))
    machine_id: Mapped[int | None] = mapped_column(ForeignKey("machines.id", ondelete="SET NULL"))
    reason: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)


MAX_LIMIT = 1000


def list_audit(
    session: Session,
    *,
    actor: str | None = None,
    action: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    limit: int = 100,
) -> list[AuditLog]:
    """Audit rows in ``[start, end)``, newest first; ``actor`` exact, ``action`` a
    case-insensitive substring (``promote`` finds both the alias move and the request)."""
    query = select(AuditLog)
    if actor:
        query = query.where(AuditLog.actor == actor)
    if action:
        query = query.where(func.lower(AuditLog.action).contains(action.lower()))
    if start is not None:
        query = query.where(AuditLog.at >= start)
    if end is not None:
        query = query.where(AuditLog.at < end)
    return list(
        session.scalars(query.order_by(AuditLog.at.desc(), AuditLog.id.desc()).limit(limit))
    )
