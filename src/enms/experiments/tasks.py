"""The periodic ``ab_test_evaluate`` job: start the tests of automatically retrained
challengers, analyse running tests, complete the ones that are due."""

from __future__ import annotations

from typing import Any

from enms.core.clock import Clock
from enms.core.config import Settings
from enms.core.db import SessionFactory


def ab_test_evaluate(
    *, factory: SessionFactory, settings: Settings, clock: Clock
) -> dict[str, Any]:
    """One pass over the A/B tests (skeleton: filled in by the A/B change)."""
    del factory, settings, clock
    return {"started": [], "analysed": [], "completed": []}
