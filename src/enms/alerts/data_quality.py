"""Data-quality conditions per machine (stopped meter, stale values, gaps).

Owns :func:`data_quality_check` (periodic ``data_quality_check``). STUB: filled by the
data-quality branch.
"""

from __future__ import annotations

from typing import Any

from enms.core.clock import Clock
from enms.core.config import Settings
from enms.core.db import SessionFactory


def data_quality_check(
    *, factory: SessionFactory, settings: Settings, clock: Clock
) -> dict[str, Any]:
    """Check every machine's recent readings; raise or clear its data_quality alert."""
    del factory, settings, clock
    return {"machines": 0}
