"""Table ``anomaly_events``: readings a champion anomaly detector flagged, with why."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from enms.core.orm import Base, UTCDateTime


class AnomalyEvent(Base):
    """One flagged reading: unique per (machine, version, timestamp)."""

    __tablename__ = "anomaly_events"
    __table_args__ = (
        UniqueConstraint("machine_id", "model_id", "ts"),
        Index("ix_anomaly_events_machine_id_ts", "machine_id", "ts"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    machine_id: Mapped[int] = mapped_column(ForeignKey("machines.id", ondelete="CASCADE"))
    model_id: Mapped[int] = mapped_column(ForeignKey("model_versions.id", ondelete="CASCADE"))
    model_version: Mapped[int] = mapped_column(Integer)
    ts: Mapped[datetime] = mapped_column(UTCDateTime)
    energy_kwh: Mapped[float] = mapped_column(Float)
    expected_kwh: Mapped[float | None] = mapped_column(Float)
    score: Mapped[float] = mapped_column(Float)
    threshold: Mapped[float] = mapped_column(Float)
    #: ``above_expected`` / ``below_expected`` and the like; ``reason`` the sentence.
    direction: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text)
    detected_at: Mapped[datetime] = mapped_column(UTCDateTime)
