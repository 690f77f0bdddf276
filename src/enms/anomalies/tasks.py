"""The periodic ``anomaly_detect`` job (hourly at :05, ``settings.schedule.anomaly_detect``)."""

from __future__ import annotations

from typing import Any

from enms.anomalies import service
from enms.core.clock import Clock
from enms.core.config import Settings
from enms.core.db import SessionFactory


def anomaly_detect(*, factory: SessionFactory, settings: Settings, clock: Clock) -> dict[str, Any]:
    """Score the newest readings with each champion anomaly detector; store flagged ones and
    raise (or clear) the machine's ``anomaly`` cluster alert. Returns JSON-able counts."""
    return service.detect_all(factory=factory, settings=settings, clock=clock)
