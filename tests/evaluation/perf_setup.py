"""Shared set-up of the performance-tracking tests: a machine with two baseline versions,
the second promoted ten days after the first was registered."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from tests.factories import make_machine
from tests.registry.versions import register_baseline

from enms.core.clock import FrozenClock
from enms.core.db import SessionFactory, session_scope
from enms.registry import service as registry


@dataclass(frozen=True)
class Pair:
    machine_id: int
    registered_at: datetime
    promoted_at: datetime


def two_versions(factory: SessionFactory, clock: FrozenClock) -> Pair:
    """v1 champion at the clock's time; v2 registered and promoted ten days later."""
    with session_scope(factory, write=True) as s:
        machine_id = make_machine(s, clock).id
        register_baseline(s, clock, machine_id)
    registered = clock.now()
    clock.advance(timedelta(days=10))
    with session_scope(factory, write=True) as s:
        register_baseline(s, clock, machine_id)
        registry.promote(
            session=s, machine_id=machine_id, model_type="baseline", version=2,
            actor="test", reason="better", clock=clock,
        )  # fmt: skip
    promoted = clock.now()
    clock.advance(timedelta(days=10))
    return Pair(machine_id, registered, promoted)
