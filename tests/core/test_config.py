"""Settings from the environment."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from enms.core.config import get_settings


def test_environment_and_nested_groups(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENMS_DATABASE_URL", "postgres://enms@db/enms")
    monkeypatch.setenv("ENMS_SERVER__PORT", "9001")
    monkeypatch.setenv("ENMS_TRAINING__TIMEOUT_MINUTES", "5")
    settings = get_settings()
    assert settings.database_url == "postgresql+psycopg://enms@db/enms"
    assert settings.server.port == 9001
    assert settings.training.timeout_minutes == 5


def test_bad_values_are_refused_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENMS_DATABASE_URL", "mysql://x@y/z")
    with pytest.raises(ValidationError, match="must be sqlite"):
        get_settings()
