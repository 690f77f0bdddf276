"""Table ``energy_kpis``: one row per machine and local day."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, Float, ForeignKey, Integer, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from enms.core.orm import Base, UTCDateTime


class EnergyKpi(Base):
    """A machine's energy, SEC and EnPI for one local calendar day against a baseline."""

    __tablename__ = "energy_kpis"
    __table_args__ = (UniqueConstraint("machine_id", "day"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    machine_id: Mapped[int] = mapped_column(ForeignKey("machines.id", ondelete="CASCADE"))
    #: The local calendar day (machine time zone); [day_start, day_end) in UTC.
    day: Mapped[date] = mapped_column(Date)
    day_start: Mapped[datetime] = mapped_column(UTCDateTime)
    day_end: Mapped[datetime] = mapped_column(UTCDateTime)
    n_readings: Mapped[int] = mapped_column(Integer)
    energy_kwh: Mapped[float] = mapped_column(Float)
    production_units: Mapped[float | None] = mapped_column(Float)
    #: kWh per produced unit (None without production).
    sec_kwh_per_unit: Mapped[float | None] = mapped_column(Float)
    #: The baseline version the expectation came from (the energy baseline of record).
    baseline_model_id: Mapped[int | None] = mapped_column(
        ForeignKey("model_versions.id", ondelete="SET NULL")
    )
    expected_kwh: Mapped[float | None] = mapped_column(Float)
    #: actual / expected (1.0 = as the baseline expects; 1.12 = 12 % more energy).
    enpi: Mapped[float | None] = mapped_column(Float)
    #: expected − actual (positive: energy saved).
    savings_kwh: Mapped[float | None] = mapped_column(Float)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime)
