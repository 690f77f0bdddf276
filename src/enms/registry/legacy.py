"""Signing the versions stored before enms signed its artifacts (an operator's decision).

Migration ``0005`` leaves existing versions unsigned: signing vouches for the bytes, and only
an operator can say the database was not tampered with before. ``enms models sign-unsigned``
is that statement: it signs every unsigned version whose artifact is intact (its header hash
and the hash recorded at registration agree) and records the act in the audit log.
"""

from __future__ import annotations

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from enms.core.clock import Clock
from enms.ml.base import ArtifactError, read_artifact
from enms.registry import artifacts
from enms.registry.models import AuditLog, ModelVersion


class SignedVersion(BaseModel):
    """One version that ``sign-unsigned`` looked at, and what became of it."""

    machine_id: int
    model_type: str
    version: int
    signed: bool
    problem: str | None = None


def sign_unsigned(*, session: Session, actor: str, clock: Clock) -> list[SignedVersion]:
    """Sign every unsigned version with an intact artifact; report the others."""
    key = artifacts.signing_key(session)
    rows = session.scalars(
        select(ModelVersion)
        .where(ModelVersion.artifact_signature.is_(None), ModelVersion.artifact.is_not(None))
        .order_by(ModelVersion.id)
    )
    out: list[SignedVersion] = []
    for row in rows:
        assert row.artifact is not None
        ref = SignedVersion(
            machine_id=row.machine_id, model_type=row.model_type, version=row.version, signed=False
        )
        try:
            read_artifact(row.artifact, expected_sha256=row.artifact_sha256)
        except ArtifactError as exc:
            out.append(ref.model_copy(update={"problem": str(exc)}))
            continue
        row.artifact_signature = artifacts.sign(
            key,
            machine_id=row.machine_id,
            model_type=row.model_type,
            version=row.version,
            data=row.artifact,
        )
        out.append(ref.model_copy(update={"signed": True}))
    signed = [s.model_dump(exclude={"signed", "problem"}) for s in out if s.signed]
    if signed:
        session.add(
            AuditLog(
                at=clock.now(),
                actor=actor,
                action="sign_unsigned",
                entity_type="model_version",
                entity_id=None,
                machine_id=None,
                reason="operator vouched for versions stored before artifacts were signed",
                details={"versions": signed},
            )
        )
    session.flush()
    return out
