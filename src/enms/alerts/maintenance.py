"""The alert maintenance rules that run on a schedule: auto-resolve after hysteresis.

Owns :func:`auto_resolve` (rule ``condition_cleared``). STUB: filled by the lifecycle branch.
"""

from __future__ import annotations

from typing import Any

from enms.core.clock import Clock
from enms.core.config import Settings
from enms.core.db import SessionFactory


def auto_resolve(*, factory: SessionFactory, settings: Settings, clock: Clock) -> dict[str, Any]:
    """Resolve every unresolved alert whose condition has been clear for clear_hours."""
    del factory, settings, clock
    return {"resolved": 0}
