"""Queries on ``model_versions``, ``model_aliases`` and ``audit_log``. Flushes, never commits."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from enms.registry.models import AuditLog, ModelAlias, ModelVersion


def next_version_number(session: Session, machine_id: int, model_type: str) -> int:
    """1 + the highest version number of (machine, model type)."""
    highest = session.scalar(
        select(func.max(ModelVersion.version)).where(
            ModelVersion.machine_id == machine_id, ModelVersion.model_type == model_type
        )
    )
    return (highest or 0) + 1


def versions(session: Session, machine_id: int, model_type: str) -> list[ModelVersion]:
    """All versions, newest first."""
    return list(
        session.scalars(
            select(ModelVersion)
            .where(ModelVersion.machine_id == machine_id, ModelVersion.model_type == model_type)
            .order_by(ModelVersion.version.desc())
        )
    )


def version(session: Session, machine_id: int, model_type: str, number: int) -> ModelVersion | None:
    """Version ``number`` of (machine, model type)."""
    return session.scalar(
        select(ModelVersion).where(
            ModelVersion.machine_id == machine_id,
            ModelVersion.model_type == model_type,
            ModelVersion.version == number,
        )
    )


def alias(
    session: Session, machine_id: int, model_type: str, name: str, *, lock: bool = False
) -> ModelAlias | None:
    """The alias row ``name`` of (machine, model type); ``lock`` holds it (PostgreSQL row
    lock; SQLite write transactions are serialised already) until the transaction ends."""
    query = select(ModelAlias).where(
        ModelAlias.machine_id == machine_id,
        ModelAlias.model_type == model_type,
        ModelAlias.alias == name,
    )
    return session.scalar(query.with_for_update() if lock else query)


def aliases_by_version(session: Session, machine_id: int, model_type: str) -> dict[int, list[str]]:
    """Version id → alias names pointing at it."""
    rows = session.execute(
        select(ModelAlias.model_version_id, ModelAlias.alias).where(
            ModelAlias.machine_id == machine_id, ModelAlias.model_type == model_type
        )
    )
    out: dict[int, list[str]] = {}
    for version_id, name in rows:
        out.setdefault(version_id, []).append(name)
    return out


def alias_events(session: Session, machine_id: int, model_type: str) -> list[AuditLog]:
    """Every alias move of (machine, model type), oldest first."""
    return list(
        session.scalars(
            select(AuditLog)
            .where(
                AuditLog.entity_type == "model_alias",
                AuditLog.machine_id == machine_id,
                AuditLog.entity_id == model_type,
            )
            .order_by(AuditLog.id)
        )
    )


def champions(session: Session, model_type: str) -> list[ModelVersion]:
    """The champion version of every machine that has one, for ``model_type``."""
    return list(
        session.scalars(
            select(ModelVersion)
            .join(ModelAlias, ModelAlias.model_version_id == ModelVersion.id)
            .where(ModelAlias.alias == "champion", ModelAlias.model_type == model_type)
            .order_by(ModelVersion.machine_id)
        )
    )
