"""The one interface every energy model type implements, and its artifact format.

Conventions (scikit-learn): hyperparameters are keyword-only ``__init__`` arguments stored
as given; all validation happens in ``fit``; learned attributes end in ``_``; ``fit``
returns ``self``. A model that has too little data raises :class:`InsufficientData`
naming what is missing instead of fitting something meaningless.

Artifacts: ``to_bytes()`` produces ``MAGIC | header-length | JSON header | payload``.
The header carries the format version, the model type and the SHA-256 of the payload;
``from_bytes`` verifies all three (and, when given, the hash recorded by the registry)
*before* the payload is unpickled. A hash proves integrity, not origin: bytes read from a
database are handed to ``from_bytes`` only by :mod:`enms.registry.artifacts`, after their
HMAC signature under the instance secret matched, so nothing enms did not write itself is
ever deserialised.
"""

from __future__ import annotations

import hashlib
import json
import pickle
import struct
from abc import ABC, abstractmethod
from typing import Any, ClassVar, Self

import pandas as pd

MAGIC = b"ENMSART\x00"
FORMAT_VERSION = 1
TARGET = "energy_kwh"
LABEL = "is_anomaly"
KNOWN_DRIVERS = ("outdoor_temp_c", "production_units", "operating_hours")


class ModelError(Exception):
    """Base class for errors raised by the model types."""


class InsufficientData(ModelError):
    """The data cannot support a fit; the message says what is missing."""


class NotFitted(ModelError):
    """``predict`` (or similar) was called before ``fit``."""


class ArtifactError(ModelError):
    """Bytes that are not a valid, untampered enms artifact."""


class MissingColumns(ModelError):
    """The readings lack driver column(s) the fitted model needs; ``columns`` names them.

    Callers map it to a client error (HTTP 422 naming the columns), never a 500.

    >>> str(MissingColumns(["production_units"]))
    "readings lack the column(s) ['production_units'] this model uses"
    """

    def __init__(self, columns: list[str]) -> None:
        super().__init__(f"readings lack the column(s) {columns} this model uses")
        self.columns = list(columns)


def content_hash(payload: bytes) -> str:
    """SHA-256 hex digest of ``payload``.

    >>> content_hash(b"")[:12]
    'e3b0c44298fc'
    """
    return hashlib.sha256(payload).hexdigest()


class EnergyModel(ABC):
    """Base class of the four model types (``baseline``, ``anomaly``, ``forecast_*``)."""

    model_type: ClassVar[str]

    @abstractmethod
    def fit(self, frame: pd.DataFrame) -> Self:
        """Learn from a UTC-indexed readings frame; return ``self``."""

    @abstractmethod
    def predict(self, frame: pd.DataFrame) -> pd.Series:
        """Expected energy (or a score, for detectors) aligned to ``frame.index``."""

    def get_params(self) -> dict[str, Any]:
        """Hyperparameters as given to ``__init__`` (keyword-only arguments)."""
        code = type(self).__init__.__code__
        names = code.co_varnames[1 : 1 + code.co_argcount + code.co_kwonlyargcount]
        return {name: getattr(self, name) for name in names if hasattr(self, name)}

    @property
    def is_fitted(self) -> bool:
        """True once ``fit`` has set the learned attributes."""
        return any(k.endswith("_") and not k.startswith("_") for k in vars(self))

    def _check_fitted(self) -> None:
        if not self.is_fitted:
            raise NotFitted(f"this {self.model_type} model is not fitted yet; call fit() first")

    def to_bytes(self) -> bytes:
        """Serialise the fitted model into a self-describing, hash-checked artifact."""
        self._check_fitted()
        payload = pickle.dumps(self, protocol=pickle.HIGHEST_PROTOCOL)
        header = json.dumps(
            {
                "format_version": FORMAT_VERSION,
                "model_type": self.model_type,
                "class": f"{type(self).__module__}.{type(self).__qualname__}",
                "sha256": content_hash(payload),
            },
            sort_keys=True,
        ).encode()
        return MAGIC + struct.pack(">I", len(header)) + header + payload

    @classmethod
    def from_bytes(cls, data: bytes, *, expected_sha256: str | None = None) -> Self:
        """Load an artifact made by :meth:`to_bytes` after checking format and hash."""
        header, payload = read_artifact(data, expected_sha256=expected_sha256)
        if cls is not EnergyModel and header["model_type"] != cls.model_type:
            raise ArtifactError(
                f"artifact holds a {header['model_type']!r} model, not {cls.model_type!r}"
            )
        obj = pickle.loads(payload)  # hash verified against our own header above
        if not isinstance(obj, cls):
            raise ArtifactError(f"artifact does not hold a {cls.__name__}")
        return obj


def read_artifact(
    data: bytes, *, expected_sha256: str | None = None
) -> tuple[dict[str, Any], bytes]:
    """Split and verify an artifact; return its header and (not yet loaded) payload."""
    if not data.startswith(MAGIC) or len(data) < len(MAGIC) + 4:
        raise ArtifactError("not an enms model artifact (bad magic bytes)")
    (length,) = struct.unpack(">I", data[len(MAGIC) : len(MAGIC) + 4])
    start = len(MAGIC) + 4
    try:
        header: dict[str, Any] = json.loads(data[start : start + length])
    except ValueError as exc:
        raise ArtifactError(f"artifact header is not valid JSON: {exc}") from exc
    if header.get("format_version") != FORMAT_VERSION:
        raise ArtifactError(
            f"artifact format version {header.get('format_version')!r} is not supported "
            f"(this enms reads version {FORMAT_VERSION})"
        )
    payload = data[start + length :]
    digest = content_hash(payload)
    if digest != header.get("sha256"):
        raise ArtifactError("artifact payload does not match the hash in its header")
    if expected_sha256 is not None and digest != expected_sha256:
        raise ArtifactError("artifact hash differs from the one recorded in the registry")
    return header, payload


def artifact_sha256(data: bytes) -> str:
    """The payload hash recorded in an artifact's header (after verifying it)."""
    header, _ = read_artifact(data)
    return str(header["sha256"])
