"""Table ``promotion_watches``: a new champion followed for the watch period after promotion."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from enms.core.orm import Base, JSONType, UTCDateTime

WATCHING = "watching"
PASSED = "passed"
ROLLED_BACK = "rolled_back"
ENDED = "ended"
"""The champion changed by other means during the watch (a later promotion, a rollback)."""


class PromotionWatch(Base):
    """After a promotion: the new champion's live errors against the previous champion's on
    the same readings (both shadow-scored), until ``watch_until``."""

    __tablename__ = "promotion_watches"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    machine_id: Mapped[int] = mapped_column(ForeignKey("machines.id", ondelete="CASCADE"))
    model_type: Mapped[str] = mapped_column(String(32))
    champion_id: Mapped[int] = mapped_column(ForeignKey("model_versions.id", ondelete="CASCADE"))
    previous_id: Mapped[int] = mapped_column(ForeignKey("model_versions.id", ondelete="CASCADE"))
    promoted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    watch_until: Mapped[datetime] = mapped_column(UTCDateTime)
    state: Mapped[str] = mapped_column(String(16), default=WATCHING, index=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    result: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
