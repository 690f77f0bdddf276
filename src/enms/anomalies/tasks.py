"""The periodic ``anomaly_detect`` job. STUB: filled by the anomalies branch."""

from __future__ import annotations

from typing import Any

from enms.core.clock import Clock
from enms.core.config import Settings
from enms.core.db import SessionFactory


def anomaly_detect(*, factory: SessionFactory, settings: Settings, clock: Clock) -> dict[str, Any]:
    """Score the newest readings with each champion anomaly detector; store flagged ones."""
    del factory, settings, clock
    return {"flagged": 0}
