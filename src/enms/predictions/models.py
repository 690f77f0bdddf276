"""Tables ``prediction_log``, ``prediction_batches`` and ``prediction_daily``.

``prediction_log`` is kept compact because it is the largest table by far (a year of
15-minute points for 1,000 machine-model pairs is ~35M rows): one row per (version, target
timestamp, origin) with the predicted value, its interval and the actual once known. What
is the same for every point of one scoring run (where it came from, the drivers used) lives
once in ``prediction_batches``. ``prediction_daily`` holds per-day sums of the errors, so
metrics over windows older than the raw-point retention stay computable (the rollup).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from enms.core.orm import Base, JSONType, UTCDateTime

BigId = BigInteger().with_variant(Integer(), "sqlite")


class PredictionBatch(Base):
    """One scoring run of one version: its source, the drivers it used, the window covered."""

    __tablename__ = "prediction_batches"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("model_versions.id", ondelete="CASCADE"))
    machine_id: Mapped[int] = mapped_column(ForeignKey("machines.id", ondelete="CASCADE"))
    model_type: Mapped[str] = mapped_column(String(32))
    #: ``shadow`` (the periodic scoring of champions and challengers), ``served`` (the
    #: predict endpoint) or ``forecast`` (a forecaster's daily origin).
    source: Mapped[str] = mapped_column(String(16))
    drivers_used: Mapped[list[str]] = mapped_column(JSONType, default=list)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime)
    window_end: Mapped[datetime] = mapped_column(UTCDateTime)
    n_points: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PredictionPoint(Base):
    """One prediction of one version for one target timestamp.

    ``origin`` is when the prediction was issued: a forecaster's origin (so ``ts - origin``
    is the lead time), ``ts`` itself for baselines and detectors (they predict the reading
    from its own drivers). The unique key makes scoring idempotent: a re-run writes nothing
    twice.
    """

    __tablename__ = "prediction_log"
    __table_args__ = (
        UniqueConstraint("model_id", "ts", "origin"),
        Index("ix_prediction_log_machine_id_ts", "machine_id", "ts"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("model_versions.id", ondelete="CASCADE"))
    machine_id: Mapped[int] = mapped_column(ForeignKey("machines.id", ondelete="CASCADE"))
    batch_id: Mapped[int] = mapped_column(
        ForeignKey("prediction_batches.id", ondelete="CASCADE"), index=True
    )
    ts: Mapped[datetime] = mapped_column(UTCDateTime)
    origin: Mapped[datetime] = mapped_column(UTCDateTime)
    predicted: Mapped[float | None] = mapped_column(Float)
    lower: Mapped[float | None] = mapped_column(Float)
    upper: Mapped[float | None] = mapped_column(Float)
    #: The reading's energy once it has arrived (None until then, or when it is missing).
    actual: Mapped[float | None] = mapped_column(Float)
    #: Anomaly detectors: the anomaly score and whether it crossed the alarm threshold.
    score: Mapped[float | None] = mapped_column(Float)
    flagged: Mapped[bool | None] = mapped_column(Boolean)
    #: The A/B arm (``a``/``b``) that served this point; None outside a test.
    arm: Mapped[str | None] = mapped_column(String(1))


class PredictionDaily(Base):
    """Per-day sums of one version's scored points (the rollup kept past raw retention).

    Sums, not averages, so any window of whole days aggregates exactly: MAE = Σ|e| / n,
    RMSE = √(Σe² / n), NMBE = Σe / (n·ȳ) with ȳ = Σy / n, MAPE over the ``n_pct`` points
    with a non-negligible actual. Error ``e = actual − predicted``.
    """

    __tablename__ = "prediction_daily"
    __table_args__ = (UniqueConstraint("model_id", "day", "lead_hours"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("model_versions.id", ondelete="CASCADE"))
    machine_id: Mapped[int] = mapped_column(ForeignKey("machines.id", ondelete="CASCADE"))
    #: 00:00 UTC of the day the targets fall in.
    day: Mapped[datetime] = mapped_column(UTCDateTime)
    #: Forecasts: whole hours ahead of the origin, rounded up; 0 for baselines and detectors.
    lead_hours: Mapped[int] = mapped_column(Integer, default=0)
    n: Mapped[int] = mapped_column(Integer)
    sum_actual: Mapped[float] = mapped_column(Float)
    sum_actual_sq: Mapped[float] = mapped_column(Float)
    sum_error: Mapped[float] = mapped_column(Float)
    sum_abs_error: Mapped[float] = mapped_column(Float)
    sum_sq_error: Mapped[float] = mapped_column(Float)
    n_pct: Mapped[int] = mapped_column(Integer)
    sum_abs_pct_error: Mapped[float] = mapped_column(Float)
    n_interval: Mapped[int] = mapped_column(Integer, default=0)
    n_in_interval: Mapped[int] = mapped_column(Integer, default=0)
    n_flagged: Mapped[int] = mapped_column(Integer, default=0)
    extra: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
