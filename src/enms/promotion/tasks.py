"""The periodic ``promotion_watch`` job: watch new champions, roll back a worse one."""

from __future__ import annotations

from typing import Any

from enms.core.clock import Clock
from enms.core.config import Settings
from enms.core.db import SessionFactory


def promotion_watch(*, factory: SessionFactory, settings: Settings, clock: Clock) -> dict[str, Any]:
    """One pass over the watched promotions (skeleton: filled in by the promotion change)."""
    del factory, settings, clock
    return {"watched": [], "passed": [], "rolled_back": []}
