"""The periodic ``alert_maintenance`` job: auto-resolve alerts clear for long enough, then send
due notifications. (Promoting retrained challengers is the A/B test's and the promotion
gate's job: :mod:`enms.experiments.tasks`.)"""

from __future__ import annotations

from typing import Any

from enms.alerts.maintenance import auto_resolve
from enms.alerts.notify.dispatch import dispatch
from enms.core.clock import Clock
from enms.core.config import Settings
from enms.core.db import SessionFactory


def alert_maintenance(
    *, factory: SessionFactory, settings: Settings, clock: Clock
) -> dict[str, Any]:
    """One pass: resolve alerts clear for long enough, then notify what is due."""
    resolved = auto_resolve(factory=factory, settings=settings, clock=clock)
    sent = dispatch(factory=factory, settings=settings, clock=clock)
    return {"auto_resolve": resolved, "notifications": sent}
