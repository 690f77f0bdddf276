"""The dashboard's view clock: the demo's pages show the plant's time, the server acts on its own.

A server whose clock says 2026 while its plant's readings end in 2025 (the demo) is given a
view clock; the pages' "now" (default ranges, ages) follows it, while what the server does —
an acknowledgement's time, here — keeps the real clock. :class:`PlantClock` is the replay's
clock once it has moved, else the end of the newest reading's day.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from tests.factories import import_demo_machine

from enms.alerts.conditions import raise_condition
from enms.api.app import create_app
from enms.core.clock import FrozenClock
from enms.core.config import Settings
from enms.core.db import SessionFactory, session_scope
from enms.demo.viewclock import PlantClock, newest_reading

WALL = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
PLANT = datetime(2025, 7, 6, tzinfo=UTC)


@pytest.fixture
def demo_client(settings: Settings, engine: Engine) -> Iterator[TestClient]:
    app = create_app(
        settings, engine=engine, clock=FrozenClock(WALL), view_clock=FrozenClock(PLANT)
    )
    with TestClient(app) as c:
        yield c


def test_pages_take_the_view_clock_as_now(demo_client: TestClient) -> None:
    assert demo_client.get("/ui/api/overview").json()["now"] == PLANT.isoformat()
    assert demo_client.get("/ui/api/training/jobs").json()["now"] == PLANT.isoformat()
    assert PLANT.strftime("%Y-%m-%d") in demo_client.get("/").text


def test_actions_keep_the_servers_own_clock(
    demo_client: TestClient, session_factory: SessionFactory
) -> None:
    with session_scope(session_factory, write=True) as session:
        machine_id = import_demo_machine(session, FrozenClock(PLANT), days=3).id
        alert_id = raise_condition(
            session,
            machine_id=machine_id,
            model_type="baseline",
            alert_type="degradation",
            severity="warning",
            message="uses 20 % more than its baseline",
            details={},
            now=PLANT,
        ).alert_id
    answer = demo_client.post(f"/api/v1/alerts/{alert_id}/acknowledge", json={"by": "ana"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["acknowledged_at"].startswith(WALL.strftime("%Y-%m-%dT%H:%M"))


def test_the_plant_clock_is_the_replay_once_it_moves_else_the_end_of_the_data(
    session_factory: SessionFactory,
) -> None:
    assert newest_reading(session_factory) is None
    with session_scope(session_factory, write=True) as session:
        import_demo_machine(session, FrozenClock(PLANT), days=3)
    newest = newest_reading(session_factory)
    assert newest is not None
    replay = FrozenClock(datetime(1970, 1, 1, tzinfo=UTC))
    clock = PlantClock(replay, newest)
    # the UTC midnight after the newest reading: the end of the last day of data
    end_of_data = datetime.combine(newest.date() + timedelta(days=1), time(0), tzinfo=UTC)
    assert newest < clock.now() == end_of_data <= newest + timedelta(days=1)
    replay.advance(datetime(2025, 9, 1, tzinfo=UTC) - replay.now())
    assert clock.now() == datetime(2025, 9, 1, tzinfo=UTC)
    assert PlantClock(None, newest).now() == end_of_data
