"""Table ``model_ab_tests``: one comparison of two versions, its design and its verdict."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from enms.core.orm import Base, JSONType, UTCDateTime

RUNNING = "running"
COMPLETED = "completed"
STOPPED = "stopped"
STATUSES = (RUNNING, COMPLETED, STOPPED)


class ABTest(Base):
    """A comparison of two versions of one machine's model type under a traffic split.

    Arm A is ``model_a_id`` (by default the champion), arm B ``model_b_id`` (the challenger);
    ``traffic_split`` is the share of assignment units routed to B. At most one test runs per
    (machine, model type): a partial unique index, not a read-then-write.
    """

    __tablename__ = "model_ab_tests"
    __table_args__ = (
        Index(
            "uq_model_ab_tests_one_running",
            "machine_id",
            "model_type",
            unique=True,
            sqlite_where=text("status = 'running'"),
            postgresql_where=text("status = 'running'"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    test_name: Mapped[str] = mapped_column(String(200))
    machine_id: Mapped[int] = mapped_column(ForeignKey("machines.id", ondelete="CASCADE"))
    model_type: Mapped[str] = mapped_column(String(32))
    model_a_id: Mapped[int] = mapped_column(ForeignKey("model_versions.id", ondelete="CASCADE"))
    model_b_id: Mapped[int] = mapped_column(ForeignKey("model_versions.id", ondelete="CASCADE"))
    #: Fraction of traffic routed to B (the challenger), 0 < split < 1.
    traffic_split: Mapped[float] = mapped_column(Float, default=0.5)
    status: Mapped[str] = mapped_column(String(16), default=RUNNING)
    start_date: Mapped[datetime] = mapped_column(UTCDateTime)
    end_date: Mapped[datetime | None] = mapped_column(UTCDateTime)
    planned_end_date: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: ``a`` or ``b`` once decided; None while running and when the verdict was
    #: inconclusive (``results["verdict"]`` says which, the API shows ``inconclusive``).
    winner: Mapped[str | None] = mapped_column(String(8))
    confidence: Mapped[float | None] = mapped_column(Float)
    p_value: Mapped[float | None] = mapped_column(Float)
    results: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    created_by: Mapped[str] = mapped_column(String(200), default="system")
    notes: Mapped[str | None] = mapped_column(Text)
    # --- the design (migration 0008) ---
    duration_days: Mapped[float] = mapped_column(Float, default=14, server_default=text("14"))
    min_samples_per_arm: Mapped[int] = mapped_column(
        Integer, default=300, server_default=text("300")
    )
    alpha: Mapped[float] = mapped_column(Float, default=0.05, server_default=text("0.05"))
    #: ``mae`` (default), ``rmse``, ``energy_kwh`` (absolute error as energy per day) or
    #: ``cost`` (that energy times the machine's tariff, metadata ``tariff_per_kwh``).
    primary_metric: Mapped[str] = mapped_column(
        String(32), default="mae", server_default=text("'mae'")
    )
    guardrails: Mapped[list[str]] = mapped_column(
        JSONType, default=list, server_default=text("'[]'")
    )
    #: A guardrail metric of B may be worse than A's by at most this fraction.
    guardrail_max_worse: Mapped[float] = mapped_column(
        Float, default=0.05, server_default=text("0.05")
    )
    #: True: an always-valid sequential test may decide before the planned end.
    sequential: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    #: Assignment unit without a caller key: the timestamp's slot of this many minutes.
    slot_minutes: Mapped[int] = mapped_column(Integer, default=60, server_default=text("60"))
    stopped_by: Mapped[str | None] = mapped_column(String(200))
    stop_reason: Mapped[str | None] = mapped_column(Text)
    #: What the completion led to: "promoted v3 …" or "kept v2: …" (None while running).
    promotion: Mapped[str | None] = mapped_column(Text)
    analysed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
