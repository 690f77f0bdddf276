"""Fixtures of the serving tests: a demo machine with real trained versions, a client whose
app runs no background consumer (scoring runs only when a test calls it); helpers in helpers.py."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from enms.api.app import create_app
from enms.core.clock import FrozenClock
from enms.core.config import QueueSettings, Settings
from enms.core.db import SessionFactory, session_scope
from tests.factories import import_demo_machine
from tests.factories import train_version as train
from tests.serving.helpers import version_ids

TRAIN_UNTIL = "2025-02-20"
DAYS = 75  # readings 2025-01-01 .. 2025-03-16 (hourly)


@pytest.fixture
def quiet_settings(settings: Settings) -> Settings:
    """Settings whose app starts no queue consumer: imports enqueue, nothing scores by itself."""
    return settings.model_copy(update={"queue": QueueSettings(in_process=False)})


@pytest.fixture
def api(quiet_settings: Settings, engine: Engine, clock: FrozenClock) -> Iterator[TestClient]:
    """An HTTP client on the real application and database."""
    with TestClient(create_app(quiet_settings, engine=engine, clock=clock)) as c:
        yield c


@pytest.fixture
def machine_id(session_factory: SessionFactory, clock: FrozenClock) -> int:
    """A demo machine (hourly readings with temperature, production and operating hours)."""
    with session_scope(session_factory, write=True) as session:
        return import_demo_machine(session, clock, index=1, days=DAYS).id


@pytest.fixture
def baselines(session_factory: SessionFactory, clock: FrozenClock, machine_id: int) -> list[int]:
    """Ids of two real baseline versions: v1 champion, v2 (shorter window) challenger."""
    train(session_factory, clock, machine_id, "baseline", TRAIN_UNTIL)
    train(session_factory, clock, machine_id, "baseline", TRAIN_UNTIL, start="2025-01-25")
    return version_ids(session_factory, "baseline")
