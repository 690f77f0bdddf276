"""The plant overview the dashboard's first page shows: machines, champions, recent jobs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from enms.core.model_types import MODEL_TYPE_NAMES
from enms.readings import service as readings
from enms.readings.schemas import MachineRead
from enms.registry import service as registry
from enms.training import service as training
from enms.training.schemas import JobRead

#: The headline held-out metric shown per model type: (key, label, unit).
HEADLINE = {
    "baseline": ("cv_rmse", "CV(RMSE)", "%"),
    "anomaly": ("f1", "F1", ""),
    "forecast_arima": ("skill", "skill", ""),
    "forecast_prophet": ("skill", "skill", ""),
}


@dataclass
class ChampionCell:
    """One model type's champion on one machine."""

    version: int
    label: str
    value: float | None
    unit: str
    why_missing: str | None = None


@dataclass
class MachineRow:
    """A machine with its champions by model type."""

    machine: MachineRead
    champions: dict[str, ChampionCell] = field(default_factory=dict)


@dataclass
class Overview:
    """Everything on the first page."""

    rows: list[MachineRow]
    jobs: list[JobRead]
    machine_names: dict[int, str]
    model_types: tuple[str, ...] = MODEL_TYPE_NAMES


def plant_overview(session: Session, *, jobs_limit: int = 12) -> Overview:
    """Machines with their champions, and the latest training jobs."""
    machines = readings.list_machines(session=session)
    rows = {m.id: MachineRow(m) for m in machines}
    for model_type in MODEL_TYPE_NAMES:
        key, label, unit = HEADLINE[model_type]
        for version in registry.champions(session=session, model_type=model_type):
            value: Any = version.metrics_holdout.get(key)
            undefined = version.metrics_holdout.get("undefined") or {}
            cell = ChampionCell(
                version.version,
                label,
                float(value) if isinstance(value, int | float) else None,
                unit,
                str(undefined[key]) if key in undefined else None,
            )
            rows[version.machine_id].champions[model_type] = cell
    jobs = training.list_jobs(session=session, limit=jobs_limit)
    return Overview(list(rows.values()), jobs, {m.id: m.name for m in machines})
