"""What the A/B tests page starts from: the tests (newest first, filtered), the machines
with each model type's versions and aliases (the start form's choices), and the design
defaults a start without overrides gets. Read-only, from the domain services; the per-arm
results are fetched by the page script from the public results endpoint (running tests
only are polled, since their results are computed on request).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from enms.core.config import Settings
from enms.core.model_types import MODEL_TYPE_NAMES
from enms.experiments import service as experiments
from enms.readings.models import Machine
from enms.registry import repository as registry_rows
from enms.registry.models import ModelVersion


def machine_choices(session: Session) -> list[dict[str, Any]]:
    """Every machine with, per model type, its versions (newest first) and their aliases."""
    machines = list(session.scalars(select(Machine).order_by(Machine.name)))
    rows = list(session.scalars(select(ModelVersion).order_by(ModelVersion.version.desc())))
    out = []
    for machine in machines:
        models: dict[str, list[dict[str, Any]]] = {}
        for model_type in MODEL_TYPE_NAMES:
            mine = [r for r in rows if r.machine_id == machine.id and r.model_type == model_type]
            if not mine:
                continue
            aliases = registry_rows.aliases_by_version(session, machine.id, model_type)
            models[model_type] = [
                {"version": r.version, "aliases": sorted(aliases.get(r.id, []))} for r in mine
            ]
        out.append({"id": machine.id, "name": machine.name, "models": models})
    return out


def abtests_page_data(
    session: Session,
    settings: Settings,
    now: datetime,
    machine_id: int | None,
    model_type: str | None,
) -> dict[str, Any]:
    """The page's initial data: tests, start-form choices, defaults, filters and ``now``."""
    tests = experiments.list_tests(session=session, machine_id=machine_id, model_type=model_type)
    design = settings.ab_test
    return {
        "now": now.isoformat(),
        "filters": {"machine_id": machine_id, "model_type": model_type},
        "model_types": list(MODEL_TYPE_NAMES),
        "machines": machine_choices(session),
        "tests": [experiments.read(session, t).model_dump(mode="json") for t in tests],
        "defaults": {
            "duration_days": design.duration_days,
            "traffic_split": design.traffic_split,
            "primary_metric": design.primary_metric,
            "alpha": design.alpha,
        },
    }
