"""Table ``model_performance_metrics``: one row per evaluation of a model version."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from enms.core.orm import Base, JSONType, UTCDateTime


class PerformanceMetric(Base):
    """How one model version performed on one window of readings."""

    __tablename__ = "model_performance_metrics"
    __table_args__ = (
        Index(
            "ix_model_performance_metrics_machine_type_date",
            "machine_id",
            "model_type",
            "evaluation_date",
        ),
        # Trends and the latest-row view select by window end.
        Index(
            "ix_model_performance_metrics_machine_type_end",
            "machine_id",
            "model_type",
            "evaluation_end",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: The seed's ``model_id``: the evaluated version in ``model_versions``.
    model_id: Mapped[int] = mapped_column(ForeignKey("model_versions.id", ondelete="CASCADE"))
    machine_id: Mapped[int] = mapped_column(ForeignKey("machines.id", ondelete="CASCADE"))
    model_type: Mapped[str] = mapped_column(String(32))
    model_version: Mapped[int] = mapped_column(Integer)
    evaluation_date: Mapped[datetime] = mapped_column(UTCDateTime)
    evaluation_start: Mapped[datetime] = mapped_column(UTCDateTime)
    evaluation_end: Mapped[datetime] = mapped_column(UTCDateTime)
    n_samples: Mapped[int | None] = mapped_column(Integer)
    r_squared: Mapped[float | None] = mapped_column(Float)
    rmse: Mapped[float | None] = mapped_column(Float)
    mae: Mapped[float | None] = mapped_column(Float)
    mape: Mapped[float | None] = mapped_column(Float)
    cv_rmse: Mapped[float | None] = mapped_column(Float)
    nmbe: Mapped[float | None] = mapped_column(Float)
    precision: Mapped[float | None] = mapped_column(Float)
    recall: Mapped[float | None] = mapped_column(Float)
    f1: Mapped[float | None] = mapped_column(Float)
    skill: Mapped[float | None] = mapped_column(Float)
    #: None until a drift check ran on this window; then its verdict.
    drift_detected: Mapped[bool | None] = mapped_column(Boolean, default=None)
    drift_score: Mapped[float | None] = mapped_column(Float)
    drift_details: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    #: Metrics with no value and why (e.g. ``{"mape": "actuals all near zero"}``), and extras.
    details: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    #: ``evaluation`` (on request), ``periodic_daily`` / ``periodic_weekly`` (from the
    #: prediction log), ``recorded`` (``metrics/record``), ``drift_check``.
    source: Mapped[str] = mapped_column(String(32), default="evaluation")
