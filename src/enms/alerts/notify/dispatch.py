"""Sends the notifications that are due. STUB: filled by the notifications branch."""

from __future__ import annotations

from typing import Any

from enms.core.clock import Clock
from enms.core.config import Settings
from enms.core.db import SessionFactory


def dispatch(*, factory: SessionFactory, settings: Settings, clock: Clock) -> dict[str, Any]:
    """Group the alerts not yet notified, send them to the routed channels, log deliveries."""
    del factory, settings, clock
    return {"sent": 0}
