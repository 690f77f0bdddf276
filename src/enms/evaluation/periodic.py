"""The periodic evaluation: daily and weekly metrics rows from the prediction log."""

from __future__ import annotations

from typing import Any

from enms.core.clock import Clock
from enms.core.config import Settings
from enms.core.db import SessionFactory


def performance_evaluation(
    *, factory: SessionFactory, settings: Settings, clock: Clock
) -> dict[str, Any]:
    """Write the metrics rows of the last whole day (and week, on Mondays) for every
    champion and challenger from the prediction log."""
    raise NotImplementedError
