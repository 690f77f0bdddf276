"""The periodic drift checks of every champion and challenger."""

from __future__ import annotations

from typing import Any

from enms.core.clock import Clock
from enms.core.config import Settings
from enms.core.db import SessionFactory


def drift_checks(*, factory: SessionFactory, settings: Settings, clock: Clock) -> dict[str, Any]:
    """Run the drift check of every champion and challenger on the last days; record each."""
    raise NotImplementedError
