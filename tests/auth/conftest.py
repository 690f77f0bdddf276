"""Fixtures of the access-control tests: an application with one API key per role (so
authentication is enforced) and a client that sends a chosen key."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from enms.api.app import create_app
from enms.auth import service
from enms.auth.roles import Role
from enms.core.clock import FrozenClock
from enms.core.config import Settings
from enms.core.db import SessionFactory, session_scope


@dataclass
class Secured:
    """An application with a key per role: ``keys[role]``; ``client`` sends no key."""

    app: FastAPI
    client: TestClient
    keys: dict[Role, str]

    def auth(self, role: Role) -> dict[str, str]:
        """The header that authenticates as ``role``'s key."""
        return {"Authorization": f"Bearer {self.keys[role]}"}


def make_keys(factory: SessionFactory, clock: FrozenClock) -> dict[Role, str]:
    """One key per role, named after it."""
    keys: dict[Role, str] = {}
    with session_scope(factory, write=True) as session:
        for role in Role:
            _, token = service.create_key(
                session, name=f"{role.value}-key", role=role, created_by="test", now=clock.now()
            )
            keys[role] = token
    return keys


@pytest.fixture
def secured(settings: Settings, engine: Engine, clock: FrozenClock) -> Iterator[Secured]:
    """The real application on the test database, with a key per role."""
    app = create_app(settings, engine=engine, clock=clock)
    keys = make_keys(app.state.session_factory, clock)
    with TestClient(app) as client:
        yield Secured(app=app, client=client, keys=keys)
