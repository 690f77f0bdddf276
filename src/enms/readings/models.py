"""Tables ``machines`` and ``energy_readings``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from enms.core.orm import Base, JSONType, UTCDateTime

#: Integer primary keys that are BIGINT on PostgreSQL and rowid aliases on SQLite.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Machine(Base):
    """A metered machine (compressor, furnace, chiller, CNC line…)."""

    __tablename__ = "machines"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    machine_type: Mapped[str] = mapped_column(String(100), default="generic")
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    #: ISO 3166-1 alpha-2 code of the site (holiday calendars); None: unknown, no holidays.
    country: Mapped[str | None] = mapped_column(String(2))
    #: Driver columns known a day ahead (production plan, shift schedule, weather forecast):
    #: the only drivers a forecaster uses by default.
    planned_drivers: Mapped[list[str]] = mapped_column(
        JSONType, default=list, server_default=text("'[]'")
    )
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class EnergyReading(Base):
    """One interval's energy use with its drivers; unique per (machine, timestamp)."""

    __tablename__ = "energy_readings"
    __table_args__ = (UniqueConstraint("machine_id", "ts"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    machine_id: Mapped[int] = mapped_column(
        ForeignKey("machines.id", ondelete="CASCADE"), index=False
    )
    ts: Mapped[datetime] = mapped_column(UTCDateTime)
    energy_kwh: Mapped[float] = mapped_column(Float)
    outdoor_temp_c: Mapped[float | None] = mapped_column(Float)
    production_units: Mapped[float | None] = mapped_column(Float)
    operating_hours: Mapped[float | None] = mapped_column(Float)
    #: Other numeric drivers, by column name as imported.
    drivers: Mapped[dict[str, float] | None] = mapped_column(JSONType)
    is_anomaly: Mapped[bool | None] = mapped_column(Boolean)
