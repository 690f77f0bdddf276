"""Model artifacts: stored in ``model_versions.artifact``, signed with the instance secret,
and deserialised only after the signature matches.

The signature is HMAC-SHA256, keyed with the instance secret (:mod:`enms.core.secrets`), over
a domain tag, the version's identity (machine id, model type, version number) and the artifact
bytes. It is checked *before* the bytes are parsed: an artifact changed outside enms, one moved
onto another version's row, or one signed with another instance's secret is never unpickled.

Why the payload stays a pickle: statsmodels has no serialisation but pickle (its ``save`` is
one), the forecasters and the detector wrap library objects in our own classes, and skops
would be a new dependency covering only the detector. What made a pickle dangerous was not
knowing where it came from; the signature settles that — only a holder of the secret, i.e.
this instance's own training runs, can produce a loadable artifact.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from sqlalchemy.orm import Session, object_session

from enms.core.db import instance_secret
from enms.core.errors import Conflict
from enms.core.secrets import InstanceSecret
from enms.ml.base import EnergyModel, artifact_sha256
from enms.readings.models import Machine
from enms.registry.models import ModelVersion

SIGNATURE_TAG = b"enms-artifact-signature-v1\n"


class ArtifactRefused(Conflict):
    """A stored artifact has no valid signature under this instance's secret; not loaded."""


class ArtifactKeyMissing(RuntimeError):
    """The unit of work has no instance secret to sign or verify with (a wiring bug)."""


@dataclass(frozen=True)
class StoredArtifact:
    """A version's artifact as read from the database, with what its signature covers."""

    machine: str  # how messages name the machine
    machine_id: int
    model_type: str
    version: int
    data: bytes | None
    sha256: str | None
    signature: str | None

    @classmethod
    def of(cls, session: Session, row: ModelVersion) -> StoredArtifact:
        """Copy what loading needs out of ``row`` (so it can happen after the session ends)."""
        machine = session.get(Machine, row.machine_id)
        return cls(
            machine=repr(machine.name) if machine else f"machine {row.machine_id}",
            machine_id=row.machine_id,
            model_type=row.model_type,
            version=row.version,
            data=row.artifact,
            sha256=row.artifact_sha256,
            signature=row.artifact_signature,
        )

    @property
    def label(self) -> str:
        """``'Furnace F1' baseline v3``."""
        return f"{self.machine} {self.model_type} v{self.version}"


def sha256_of(artifact: bytes) -> str:
    """The payload hash an artifact carries (verified)."""
    return artifact_sha256(artifact)


def secret_of(session: Session) -> InstanceSecret:
    """The instance secret of the unit of work ``session`` belongs to."""
    secret = instance_secret(session)
    if secret is None:
        raise ArtifactKeyMissing(
            "this session factory carries no instance secret, so artifacts can be neither "
            "signed nor verified; build it with create_session_factory(engine, "
            "secret=instance_secret_for(settings))"
        )
    return secret


def signing_key(session: Session) -> bytes:
    """The bytes of :func:`secret_of` ``session``."""
    return secret_of(session).key()


def sign(key: bytes, *, machine_id: int, model_type: str, version: int, data: bytes) -> str:
    """Hex HMAC-SHA256 of a version's identity and artifact bytes under ``key``.

    >>> sign(b"k" * 16, machine_id=1, model_type="baseline", version=2, data=b"x")[:16]
    'ff5f47484749b300'
    """
    identity = f"{machine_id}\n{model_type}\n{version}\n".encode()
    return hmac.new(key, SIGNATURE_TAG + identity + data, hashlib.sha256).hexdigest()


def verify(stored: StoredArtifact, secret: InstanceSecret) -> bytes:
    """The artifact's bytes once its signature matches; :class:`ArtifactRefused` otherwise."""
    details = {
        "machine_id": stored.machine_id,
        "model_type": stored.model_type,
        "version": stored.version,
    }
    retrain = f"`enms train {stored.model_type} --machine {stored.machine} --wait`"
    if stored.data is None:
        raise ArtifactRefused(f"{stored.label} has no stored artifact", details=details)
    if stored.signature is None:
        raise ArtifactRefused(
            f"{stored.label} was stored unsigned (before enms signed its artifacts) and is not "
            f"loaded: retrain it ({retrain}) or, if you trust this database's contents, sign "
            "the existing versions with `enms models sign-unsigned`",
            details=details | {"reason": "unsigned"},
        )
    expected = sign(
        secret.key(),
        machine_id=stored.machine_id,
        model_type=stored.model_type,
        version=stored.version,
        data=stored.data,
    )
    if not hmac.compare_digest(expected, stored.signature):
        raise ArtifactRefused(
            f"artifact signature mismatch for {stored.label}: its bytes were changed outside "
            "enms or it was signed with another instance secret than this one "
            f"({secret.source}), so it was not loaded. If the secret changed (another "
            f"ENMS_SECRET_KEY or ENMS_DATA_DIR), restore it; otherwise retrain ({retrain})",
            details=details | {"reason": "signature_mismatch"},
        )
    return stored.data


def load(stored: StoredArtifact, secret: InstanceSecret) -> EnergyModel:
    """Verify the signature, then (only then) deserialise the fitted model."""
    data = verify(stored, secret)
    return EnergyModel.from_bytes(data, expected_sha256=stored.sha256)


def load_model(row: ModelVersion) -> EnergyModel:
    """The fitted model of a version still attached to its session, after verifying it."""
    session = object_session(row)
    if session is None:
        raise ArtifactKeyMissing(
            "load_model needs a version row attached to its session (for the instance secret); "
            "use StoredArtifact.of(session, row) and load(stored, secret) instead"
        )
    return load(StoredArtifact.of(session, row), secret_of(session))
