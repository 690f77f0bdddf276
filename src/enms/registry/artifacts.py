"""Model artifacts: stored in ``model_versions.artifact`` with their SHA-256, loaded only after
the hash recorded at registration matches the bytes (and the artifact's own header)."""

from __future__ import annotations

from enms.core.errors import Conflict
from enms.ml.base import EnergyModel, artifact_sha256
from enms.registry.models import ModelVersion


def sha256_of(artifact: bytes) -> str:
    """The payload hash an artifact carries (verified)."""
    return artifact_sha256(artifact)


def load_model(row: ModelVersion) -> EnergyModel:
    """The fitted model of a version, after checking its hash."""
    if row.artifact is None or row.artifact_sha256 is None:
        raise Conflict(f"{row.model_type} version {row.version} has no stored artifact")
    return EnergyModel.from_bytes(row.artifact, expected_sha256=row.artifact_sha256)
