"""Background work of the prediction log (periodic ``score_predictions``, and after imports)."""

from __future__ import annotations

from typing import Any

from enms.core.clock import Clock
from enms.core.config import Settings
from enms.core.db import SessionFactory


def score_predictions(
    *, factory: SessionFactory, settings: Settings, clock: Clock, machine_id: int | None = None
) -> dict[str, Any]:
    """Score new readings with every champion and active challenger (of one machine, or all)."""
    raise NotImplementedError
