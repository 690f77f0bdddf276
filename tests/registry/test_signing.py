"""Signed artifacts: only versions signed with this instance's secret are ever unpickled."""

from __future__ import annotations

import json
import pickle
import struct
from pathlib import Path

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy import Engine, update
from tests.factories import import_demo_machine, make_machine
from tests.registry.versions import baseline_artifact, register_baseline

from enms.core.cli_context import AppContext
from enms.core.clock import FrozenClock
from enms.core.config import Settings
from enms.core.db import SessionFactory, create_session_factory, session_scope
from enms.core.secrets import InstanceSecret
from enms.ml.base import FORMAT_VERSION, MAGIC, content_hash, read_artifact
from enms.registry import artifacts, legacy, service
from enms.registry.artifacts import ArtifactRefused
from enms.registry.commands import models_group
from enms.registry.models import ModelVersion


class _Exploit:
    """A pickle that writes a file when loaded — what a database writer could plant."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        return (Path.write_text, (self.marker, "unpickled"))


def _malicious_artifact(marker: Path) -> bytes:
    """Valid magic, header and header hash around the exploit: a hash alone would pass it."""
    payload = pickle.dumps(_Exploit(marker), protocol=pickle.HIGHEST_PROTOCOL)
    header = json.dumps(
        {
            "format_version": FORMAT_VERSION,
            "model_type": "baseline",
            "class": "enms.ml.baseline.BaselineModel",
            "sha256": content_hash(payload),
        }
    ).encode()
    return MAGIC + struct.pack(">I", len(header)) + header + payload


def _keyed(engine: Engine, key: str) -> SessionFactory:
    return create_session_factory(engine, secret=InstanceSecret(data_dir=Path("-"), configured=key))


def _load(factory: SessionFactory, version_id: int) -> object:
    with session_scope(factory) as session:
        row = session.get(ModelVersion, version_id)
        assert row is not None
        return artifacts.load_model(row)


@pytest.fixture
def version_id(session_factory: SessionFactory, clock: FrozenClock) -> int:
    with session_scope(session_factory, write=True) as session:
        return register_baseline(session, clock, make_machine(session, clock).id).id


def _tamper(factory: SessionFactory, version_id: int, **values: object) -> None:
    """Change the row behind enms's back, as anyone with write access to the database can."""
    with session_scope(factory, write=True) as session:
        session.execute(update(ModelVersion).where(ModelVersion.id == version_id).values(**values))


def test_a_signed_version_loads(session_factory: SessionFactory, version_id: int) -> None:
    model = _load(session_factory, version_id)
    assert type(model).__name__ == "BaselineModel"


def test_a_tampered_artifact_is_refused_and_never_unpickled(
    session_factory: SessionFactory, version_id: int, tmp_path: Path
) -> None:
    live = tmp_path / "reference-marker"
    pickle.loads(read_artifact(_malicious_artifact(live))[1])  # the exploit is real ...
    assert live.read_text() == "unpickled"
    marker = tmp_path / "marker"
    planted = _malicious_artifact(marker)
    _tamper(
        session_factory, version_id, artifact=planted, artifact_sha256=artifacts.sha256_of(planted)
    )
    with pytest.raises(ArtifactRefused, match=r"artifact signature mismatch for 'Compressor 1'"):
        _load(session_factory, version_id)
    assert not marker.exists()  # ... and was not run

    flipped = bytearray(baseline_artifact())
    flipped[-10] ^= 0x01  # one bit of the payload
    _tamper(session_factory, version_id, artifact=bytes(flipped))
    with pytest.raises(ArtifactRefused, match="signature mismatch"):
        _load(session_factory, version_id)


def test_an_artifact_signed_with_another_key_is_refused(engine: Engine, clock: FrozenClock) -> None:
    ours, theirs = (
        _keyed(engine, "our-secret-" + "a" * 32),
        _keyed(engine, "their-secret" + "b" * 32),
    )
    with session_scope(theirs, write=True) as session:
        version_id = register_baseline(session, clock, make_machine(session, clock).id).id
    assert type(_load(theirs, version_id)).__name__ == "BaselineModel"
    with pytest.raises(ArtifactRefused, match="signed with another instance secret") as refused:
        _load(ours, version_id)
    assert refused.value.details["reason"] == "signature_mismatch"
    assert "than this one (ENMS_SECRET_KEY)" in refused.value.message


def test_a_signature_does_not_follow_its_artifact_to_another_version(
    session_factory: SessionFactory, clock: FrozenClock, version_id: int
) -> None:
    with session_scope(session_factory, write=True) as session:
        row = session.get(ModelVersion, version_id)
        assert row is not None
        other = register_baseline(session, clock, row.machine_id)
        stolen = {"artifact": row.artifact, "artifact_signature": row.artifact_signature}
        other_id = other.id
    _tamper(session_factory, other_id, **stolen)
    with pytest.raises(ArtifactRefused, match="baseline v2"):
        _load(session_factory, other_id)


def test_unsigned_versions_are_refused_until_an_operator_signs_them(
    session_factory: SessionFactory, clock: FrozenClock, version_id: int
) -> None:
    _tamper(session_factory, version_id, artifact_signature=None)
    with pytest.raises(ArtifactRefused, match="stored unsigned") as refused:
        _load(session_factory, version_id)
    assert "enms train baseline --machine 'Compressor 1' --wait" in refused.value.message
    assert "enms models sign-unsigned" in refused.value.message
    with session_scope(session_factory, write=True) as session:
        done = legacy.sign_unsigned(session=session, actor="ops", clock=clock)
    assert [(d.version, d.signed) for d in done] == [(1, True)]
    assert type(_load(session_factory, version_id)).__name__ == "BaselineModel"


def test_sign_unsigned_does_not_bless_a_broken_artifact(
    session_factory: SessionFactory, clock: FrozenClock, version_id: int
) -> None:
    _tamper(session_factory, version_id, artifact_signature=None, artifact_sha256="0" * 64)
    with session_scope(session_factory, write=True) as session:
        done = legacy.sign_unsigned(session=session, actor="ops", clock=clock)
    assert done[0].signed is False
    assert done[0].problem is not None
    assert "recorded in the registry" in done[0].problem
    with pytest.raises(ArtifactRefused, match="stored unsigned"):
        _load(session_factory, version_id)


def test_http_evaluation_of_a_tampered_champion_is_a_409_naming_it(
    session_factory: SessionFactory, clock: FrozenClock, client: TestClient
) -> None:
    with session_scope(session_factory, write=True) as session:
        machine = import_demo_machine(session, clock, index=0, days=30, seed=1)
        version_id = register_baseline(session, clock, machine.id).id
    _tamper(session_factory, version_id, artifact_signature="f" * 64)
    answer = client.post(
        f"/api/v1/machines/{machine.id}/models/baseline/evaluate",
        json={"from": "2025-01-10", "to": "2025-01-20"},
    )
    assert answer.status_code == 409, answer.text
    message = answer.json()["error"]["message"]
    assert message.startswith(f"artifact signature mismatch for {machine.name!r} baseline v1")
    with session_scope(session_factory) as session:
        assert service.champion(session=session, machine_id=machine.id, model_type="baseline")


def test_the_cli_signs_unsigned_versions_after_confirmation(
    session_factory: SessionFactory, version_id: int, settings: Settings
) -> None:
    _tamper(session_factory, version_id, artifact_signature=None)
    app = AppContext(
        overrides={"database_url": settings.database_url, "data_dir": str(settings.data_dir)}
    )
    declined = CliRunner().invoke(models_group, ["sign-unsigned"], obj=app, input="n\n")
    assert declined.exit_code != 0
    with pytest.raises(ArtifactRefused, match="stored unsigned"):
        _load(session_factory, version_id)
    signed = CliRunner().invoke(models_group, ["sign-unsigned", "--yes", "--json"], obj=app)
    assert signed.exit_code == 0, signed.output
    assert [(r["version"], r["signed"]) for r in json.loads(signed.stdout)] == [(1, True)]
    assert type(_load(session_factory, version_id)).__name__ == "BaselineModel"
