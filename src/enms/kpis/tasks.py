"""The periodic ``kpi_calculate`` job. STUB: filled by the KPI branch."""

from __future__ import annotations

from typing import Any

from enms.core.clock import Clock
from enms.core.config import Settings
from enms.core.db import SessionFactory


def kpi_calculate(*, factory: SessionFactory, settings: Settings, clock: Clock) -> dict[str, Any]:
    """Compute and store the energy KPIs of the last complete local days of every machine."""
    del factory, settings, clock
    return {"rows": 0}
