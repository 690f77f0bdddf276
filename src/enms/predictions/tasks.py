"""Background work of the prediction log: the periodic ``score_predictions`` (hourly, cron
``settings.schedule.score_predictions``) and the run after every import.

One pass: every champion and challenger scores its new readings (:mod:`.service`), earlier
points get the actuals that arrived, complete days are rolled up and raw points past
``settings.monitoring.retention_days`` deleted (:mod:`.rollup`). Each step opens its own short
units of work; no model runs inside one.
"""

from __future__ import annotations

from typing import Any

from enms.core.clock import Clock
from enms.core.config import Settings
from enms.core.db import SessionFactory
from enms.predictions import rollup, service


def score_predictions(
    *, factory: SessionFactory, settings: Settings, clock: Clock, machine_id: int | None = None
) -> dict[str, Any]:
    """Score new readings with every champion and active challenger (of one machine, or all),
    fill arrived actuals, roll up and prune. Returns JSON-able counts."""
    scored = service.score_versions(
        factory=factory, settings=settings, clock=clock, machine_id=machine_id
    )
    touched = dict(scored.pop("touched"))
    filled, earliest = service.fill_actuals(
        factory=factory, settings=settings, clock=clock, machine_ids=scored.pop("machines")
    )
    for model_id, moment in earliest.items():
        touched[model_id] = min(moment, touched.get(model_id, moment))
    rolled = rollup.rollup(
        factory=factory,
        clock=clock,
        touched=touched,
        retention_days=settings.monitoring.retention_days,
    )
    pruned = rollup.prune(factory=factory, settings=settings, clock=clock)
    return {**scored, "actuals_filled": filled, **rolled, **pruned}
