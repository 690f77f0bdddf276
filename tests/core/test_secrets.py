"""The instance secret: generated once (0600, logged), reused, or taken from ENMS_SECRET_KEY."""

from __future__ import annotations

import logging
import stat
import threading
from pathlib import Path

import pytest
from pydantic import SecretStr

from enms.core.config import Settings
from enms.core.secrets import SECRET_FILE, InstanceSecret, instance_secret_for


def test_a_secret_is_generated_once_with_a_log_line_and_reused(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    data_dir = tmp_path / "data"
    with caplog.at_level(logging.INFO, logger="enms.core.secrets"):
        first = InstanceSecret(data_dir=data_dir).key()
    path = data_dir / SECRET_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [
        r.getMessage()
        for r in caplog.records
        if "generated a new instance secret" in r.getMessage()
    ] != []
    assert str(path) in caplog.text
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="enms.core.secrets"):
        again = InstanceSecret(data_dir=data_dir).key()  # a later start of the instance
    assert again == first
    assert InstanceSecret(data_dir=data_dir).source == str(path.resolve())
    assert len(first) >= 32
    assert "generated" not in caplog.text
    assert sorted(p.name for p in data_dir.iterdir()) == [SECRET_FILE]  # no drafts left


def test_processes_starting_together_agree_on_one_secret(tmp_path: Path) -> None:
    keys: list[bytes] = []
    barrier = threading.Barrier(8)

    def start() -> None:
        secret = InstanceSecret(data_dir=tmp_path)
        barrier.wait()
        keys.append(secret.key())

    threads = [threading.Thread(target=start) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(keys) == 8
    assert len(set(keys)) == 1


def test_the_configured_secret_wins_and_must_be_long_enough(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, secret_key=SecretStr("s" * 40))
    assert instance_secret_for(settings).key() == b"s" * 40
    assert instance_secret_for(settings).source == "ENMS_SECRET_KEY"
    assert not (tmp_path / SECRET_FILE).exists()
    with pytest.raises(ValueError, match="at least 16 characters"):
        InstanceSecret(data_dir=tmp_path, configured="short")
    (tmp_path / SECRET_FILE).write_text("\n")
    with pytest.raises(ValueError, match="empty or too short"):
        InstanceSecret(data_dir=tmp_path).key()
