"""Table ``scheduler_runs``: one row per periodic-job tick, so a tick runs once per cluster."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from enms.core.orm import Base, JSONType, UTCDateTime


class SchedulerRun(Base):
    """A periodic job's run for one tick (or a manual run), with its outcome."""

    __tablename__ = "scheduler_runs"
    __table_args__ = (UniqueConstraint("job_name", "tick"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_name: Mapped[str] = mapped_column(String(64))
    #: The schedule slot this run belongs to (minute precision), or the request time if manual.
    tick: Mapped[datetime] = mapped_column(UTCDateTime)
    trigger: Mapped[str] = mapped_column(String(16), default="schedule")
    status: Mapped[str] = mapped_column(String(16), default="running")
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    error: Mapped[str | None] = mapped_column(Text)
