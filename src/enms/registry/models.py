"""Tables ``model_versions`` and ``model_aliases`` (``audit_log`` lives in
:mod:`enms.core.audit`: requests are audited there too; re-exported here)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from enms.core.audit import AuditLog as AuditLog
from enms.core.orm import Base, JSONType, UTCDateTime


class ModelVersion(Base):
    """One trained model: numbered per (machine, model type), with its artifact and scores."""

    __tablename__ = "model_versions"
    __table_args__ = (UniqueConstraint("machine_id", "model_type", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    machine_id: Mapped[int] = mapped_column(ForeignKey("machines.id", ondelete="CASCADE"))
    model_type: Mapped[str] = mapped_column(String(32))
    version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="ready")
    #: ``enms`` (trained here, with an artifact) or ``external`` (trained elsewhere and
    #: registered by name with its metadata and no artifact, so its metrics can be tracked).
    origin: Mapped[str] = mapped_column(String(16), default="enms")
    #: The name an external model was registered under (None for enms-trained versions).
    name: Mapped[str | None] = mapped_column(String(200))
    #: Free metadata of an external model (framework, run id, URI ...).
    external_metadata: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    artifact: Mapped[bytes | None] = mapped_column(LargeBinary)
    artifact_sha256: Mapped[str | None] = mapped_column(String(64))
    artifact_size: Mapped[int | None] = mapped_column(Integer)
    #: HMAC-SHA256 (hex) of the version's identity and artifact under the instance secret;
    #: None for versions stored before artifacts were signed (refused until re-signed).
    artifact_signature: Mapped[str | None] = mapped_column(String(64))
    hyperparameters: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    training_start: Mapped[datetime | None] = mapped_column(UTCDateTime)
    training_end: Mapped[datetime | None] = mapped_column(UTCDateTime)
    training_rows: Mapped[int | None] = mapped_column(Integer)
    training_data_sha256: Mapped[str | None] = mapped_column(String(64))
    metrics_in_sample: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    metrics_holdout: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    ashrae14: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    training_job_id: Mapped[int | None] = mapped_column(
        ForeignKey("model_training_history.id", ondelete="SET NULL")
    )
    fit_seconds: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(200), default="system")
    #: The promotion gate's verdicts at registration (a list of {rule, passed, detail}),
    #: None for versions never gated (external, or stored before migration 0008).
    gate: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONType)
    #: Whether every applicable rule passed; a version that failed is flagged, and becomes
    #: champion only when there is none.
    gate_passed: Mapped[bool | None] = mapped_column(Boolean)


class ModelAlias(Base):
    """Where an alias (``champion``, ``challenger``) of a machine's model type points now."""

    __tablename__ = "model_aliases"
    __table_args__ = (UniqueConstraint("machine_id", "model_type", "alias"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    machine_id: Mapped[int] = mapped_column(ForeignKey("machines.id", ondelete="CASCADE"))
    model_type: Mapped[str] = mapped_column(String(32))
    alias: Mapped[str] = mapped_column(String(32))
    model_version_id: Mapped[int] = mapped_column(
        ForeignKey("model_versions.id", ondelete="CASCADE")
    )
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
