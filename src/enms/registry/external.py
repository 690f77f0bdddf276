"""External models: versions trained elsewhere, registered by name with metadata and no artifact.

enms tracks their metrics (``metrics/record``) like those of its own versions. An external
version takes the next version number of its (machine, model type), carries
``origin="external"``, and becomes champion only when the pair has no champion yet or the
caller asks for it (an audited alias move, like a promotion). It never becomes challenger:
challengers are shadow-scored by enms, which needs an artifact. Loading its artifact is
refused with :class:`enms.registry.artifacts.ArtifactRefused` ("has no stored artifact").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from enms.core.clock import Clock
from enms.core.errors import InvalidInput, NotFound
from enms.core.model_types import check_model_type
from enms.readings.models import Machine
from enms.registry import repository
from enms.registry.models import AuditLog, ModelVersion
from enms.registry.service import CHAMPION, _move_alias

EXTERNAL = "external"


@dataclass(frozen=True)
class NewExternal:
    """What the caller knows about a model trained elsewhere."""

    machine_id: int
    model_type: str
    name: str
    metadata: dict[str, Any] = field(default_factory=dict)
    training_start: datetime | None = None
    training_end: datetime | None = None
    metrics_holdout: dict[str, Any] = field(default_factory=dict)
    make_champion: bool = False
    actor: str = "api"
    reason: str | None = None


def register_external(*, session: Session, new: NewExternal, clock: Clock) -> ModelVersion:
    """Store an external version (no artifact) and move the champion to it when the pair has
    none or ``make_champion`` is set; every registration is written to the audit log."""
    check_model_type(new.model_type)
    if session.get(Machine, new.machine_id) is None:
        raise NotFound(f"no machine with id {new.machine_id}")
    if not new.name.strip():
        raise InvalidInput("name: an external model needs a name")
    if new.training_start and new.training_end and new.training_start >= new.training_end:
        raise InvalidInput("training_end: must be after training_start")
    number = repository.next_version_number(session, new.machine_id, new.model_type)
    now = clock.now()
    row = ModelVersion(
        machine_id=new.machine_id,
        model_type=new.model_type,
        version=number,
        status="ready",
        origin=EXTERNAL,
        name=new.name.strip(),
        external_metadata=new.metadata,
        artifact=None,
        hyperparameters={},
        training_start=new.training_start,
        training_end=new.training_end,
        metrics_in_sample={},
        metrics_holdout=new.metrics_holdout,
        created_at=now,
        created_by=new.actor,
    )
    session.add(row)
    session.flush()
    session.add(
        AuditLog(
            at=now,
            actor=new.actor,
            action="register_external",
            entity_type="model_version",
            entity_id=new.model_type,
            machine_id=new.machine_id,
            reason=new.reason,
            details={"version": number, "name": row.name, "model_version_id": row.id},
        )
    )
    has_champion = repository.alias(session, new.machine_id, new.model_type, CHAMPION)
    if new.make_champion or has_champion is None:
        _move_alias(
            session,
            row,
            CHAMPION,
            action="promote" if has_champion else "register",
            actor=new.actor,
            reason=new.reason or f"external model {row.name!r} registered as version {number}",
            clock=clock,
        )
    session.flush()
    return row
