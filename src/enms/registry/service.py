"""Use cases of the model registry: register versions, move aliases, promote, roll back.

These are the registry's primitive alias moves; the promotion policy (the gate, overrides,
the watch after a promotion) wraps them in :mod:`enms.promotion.service`.

Every alias move writes an ``audit_log`` row (who, when, why, from which version) in the same
transaction as the move, so the history can never disagree with the aliases. Rollback
replays that history as a stack (registration and promotion push, rollback pops) and returns
to the champion before the current one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from enms.core.clock import Clock
from enms.core.errors import Conflict, NotFound
from enms.core.model_types import check_model_type
from enms.readings.models import Machine
from enms.registry import artifacts, repository
from enms.registry.models import AuditLog, ModelAlias, ModelVersion
from enms.registry.schemas import AliasEvent, VersionRead

CHAMPION = "champion"
CHALLENGER = "challenger"
#: The champion before the latest promotion, kept shadow-scored while the new one is watched.
PREVIOUS = "previous"
ALIAS_ACTIONS = ("register", "promote", "rollback", "watch")


@dataclass(frozen=True)
class NewVersion:
    """Everything a training job knows about the version it is registering."""

    machine_id: int
    model_type: str
    artifact: bytes
    artifact_sha256: str
    hyperparameters: dict[str, Any]
    training_start: datetime | None
    training_end: datetime | None
    training_rows: int
    training_data_sha256: str
    metrics_in_sample: dict[str, Any]
    metrics_holdout: dict[str, Any]
    ashrae14: dict[str, Any] | None
    training_job_id: int | None
    fit_seconds: float
    created_by: str
    #: The promotion gate's verdicts at registration (None: not gated).
    gate: list[dict[str, Any]] | None = None
    gate_passed: bool | None = None


def register_version(*, session: Session, new: NewVersion, clock: Clock) -> ModelVersion:
    """Store a version, signed with the instance secret; the first becomes champion, later
    ones challenger. The gate's verdicts are stored with it: a first version that failed the
    gate still becomes champion (there is none), and the alias history says so."""
    number = repository.next_version_number(session, new.machine_id, new.model_type)
    signature = artifacts.sign(
        artifacts.signing_key(session),
        machine_id=new.machine_id,
        model_type=new.model_type,
        version=number,
        data=new.artifact,
    )
    row = ModelVersion(
        machine_id=new.machine_id,
        model_type=new.model_type,
        version=number,
        status="ready",
        artifact=new.artifact,
        artifact_sha256=new.artifact_sha256,
        artifact_size=len(new.artifact),
        artifact_signature=signature,
        hyperparameters=new.hyperparameters,
        training_start=new.training_start,
        training_end=new.training_end,
        training_rows=new.training_rows,
        training_data_sha256=new.training_data_sha256,
        metrics_in_sample=new.metrics_in_sample,
        metrics_holdout=new.metrics_holdout,
        ashrae14=new.ashrae14,
        training_job_id=new.training_job_id,
        fit_seconds=new.fit_seconds,
        created_at=clock.now(),
        created_by=new.created_by,
        gate=new.gate,
        gate_passed=new.gate_passed,
    )
    session.add(row)
    session.flush()
    has_champion = repository.alias(session, new.machine_id, new.model_type, CHAMPION)
    target = CHALLENGER if has_champion else CHAMPION
    reason = f"version {row.version} registered"
    if new.gate_passed is False:
        failed = ", ".join(str(v["rule"]) for v in new.gate or [] if v.get("passed") is False)
        reason += (
            f"; champion because there was none, although it failed the gate ({failed})"
            if target == CHAMPION
            else f"; it failed the gate ({failed})"
        )
    _move_alias(
        session,
        row,
        target,
        action="register",
        actor=new.created_by,
        reason=reason,
        clock=clock,
    )
    return row


def champion(*, session: Session, machine_id: int, model_type: str) -> ModelVersion | None:
    """The current champion, if any."""
    row = repository.alias(session, machine_id, model_type, CHAMPION)
    return session.get(ModelVersion, row.model_version_id) if row else None


def get_version(
    *, session: Session, machine_id: int, model_type: str, version: int | None = None
) -> ModelVersion:
    """Version ``version`` (default: the champion) or :class:`NotFound`."""
    check_model_type(model_type)
    if version is None:
        found = champion(session=session, machine_id=machine_id, model_type=model_type)
        if found is None:
            raise NotFound(
                f"{_machine(session, machine_id)} has no {model_type} champion yet: train one"
            )
        return found
    row = repository.version(session, machine_id, model_type, version)
    if row is None:
        raise NotFound(f"{_machine(session, machine_id)} has no {model_type} version {version}")
    return row


def _machine(session: Session, machine_id: int) -> str:
    """How messages name a machine: its name when it exists."""
    machine = session.get(Machine, machine_id)
    return f"machine {machine.name!r}" if machine else f"machine {machine_id}"


def read(session: Session, row: ModelVersion) -> VersionRead:
    """Schema view of a version, with its aliases."""
    aliases = repository.aliases_by_version(session, row.machine_id, row.model_type)
    return VersionRead.model_validate(row, from_attributes=True).model_copy(
        update={"aliases": sorted(aliases.get(row.id, []))}
    )


def list_versions(*, session: Session, machine_id: int, model_type: str) -> list[VersionRead]:
    """All versions of (machine, model type), newest first, with aliases."""
    check_model_type(model_type)
    aliases = repository.aliases_by_version(session, machine_id, model_type)
    return [
        VersionRead.model_validate(v, from_attributes=True).model_copy(
            update={"aliases": sorted(aliases.get(v.id, []))}
        )
        for v in repository.versions(session, machine_id, model_type)
    ]


def promote(
    *,
    session: Session,
    machine_id: int,
    model_type: str,
    version: int,
    actor: str,
    reason: str | None,
    clock: Clock,
    details: dict[str, Any] | None = None,
) -> VersionRead:
    """Make ``version`` the champion (recorded with the version it replaces and ``details``,
    e.g. the gate's verdicts, in the audit row)."""
    row = get_version(
        session=session, machine_id=machine_id, model_type=model_type, version=version
    )
    # Lock the champion alias first, so concurrent promotions queue up and each records
    # the version it really replaced.
    repository.alias(session, machine_id, model_type, CHAMPION, lock=True)
    current = champion(session=session, machine_id=machine_id, model_type=model_type)
    if current is not None and current.id == row.id:
        raise Conflict(f"version {version} is already the {model_type} champion")
    _move_alias(
        session,
        row,
        CHAMPION,
        action="promote",
        actor=actor,
        reason=reason,
        clock=clock,
        details=details,
    )
    challenger = repository.alias(session, machine_id, model_type, CHALLENGER)
    if challenger is not None and challenger.model_version_id == row.id:
        session.delete(challenger)
        session.flush()
    return read(session, row)


def rollback(
    *,
    session: Session,
    machine_id: int,
    model_type: str,
    actor: str,
    reason: str | None,
    clock: Clock,
    details: dict[str, Any] | None = None,
    expect_version: int | None = None,
) -> VersionRead:
    """Move the champion back to the one before it in the alias history (``expect_version``:
    refuse with :class:`Conflict` unless that is the version it goes back to)."""
    check_model_type(model_type)
    repository.alias(session, machine_id, model_type, CHAMPION, lock=True)
    stack: list[int] = []
    for event in repository.alias_events(session, machine_id, model_type):
        if event.details.get("alias") != CHAMPION:
            continue
        if event.action == "rollback":
            if stack:
                stack.pop()
        elif event.details.get("to_version") is not None:
            stack.append(int(event.details["to_version"]))
    if len(stack) < 2:
        raise Conflict(f"there is no earlier {model_type} champion to roll back to")
    if expect_version is not None and stack[-2] != expect_version:
        raise Conflict(
            f"the {model_type} champion before the current one is v{stack[-2]}, "
            f"not v{expect_version}"
        )
    target = get_version(
        session=session, machine_id=machine_id, model_type=model_type, version=stack[-2]
    )
    _move_alias(
        session,
        target,
        CHAMPION,
        action="rollback",
        actor=actor,
        reason=reason,
        clock=clock,
        details=details,
    )
    return read(session, target)


def set_alias(
    *,
    session: Session,
    row: ModelVersion,
    alias: str,
    action: str,
    actor: str,
    reason: str | None,
    clock: Clock,
) -> None:
    """Point ``alias`` (not the champion: use :func:`promote`) at ``row``, audited."""
    if alias == CHAMPION:
        raise Conflict("the champion alias moves only by promotion or rollback")
    _move_alias(session, row, alias, action=action, actor=actor, reason=reason, clock=clock)


def clear_alias(
    *,
    session: Session,
    machine_id: int,
    model_type: str,
    alias: str,
    actor: str,
    reason: str | None,
    clock: Clock,
) -> bool:
    """Remove ``alias`` of (machine, model type), audited; False when it was not set."""
    if alias == CHAMPION:
        raise Conflict("the champion alias cannot be removed")
    found = repository.alias(session, machine_id, model_type, alias, lock=True)
    if found is None:
        return False
    previous = session.get(ModelVersion, found.model_version_id)
    session.delete(found)
    session.add(
        AuditLog(
            at=clock.now(),
            actor=actor,
            action="watch",
            entity_type="model_alias",
            entity_id=model_type,
            machine_id=machine_id,
            reason=reason,
            details={
                "alias": alias,
                "from_version": previous.version if previous else None,
                "to_version": None,
                "model_version_id": None,
            },
        )
    )
    session.flush()
    return True


def alias_history(*, session: Session, machine_id: int, model_type: str) -> list[AliasEvent]:
    """Every alias move, oldest first."""
    check_model_type(model_type)
    return [
        AliasEvent(
            at=e.at,
            actor=e.actor,
            action=e.action,
            alias=str(e.details.get("alias")),
            from_version=e.details.get("from_version"),
            to_version=e.details.get("to_version"),
            reason=e.reason,
            details={k: v for k, v in e.details.items() if k not in _EVENT_KEYS},
        )
        for e in repository.alias_events(session, machine_id, model_type)
    ]


_EVENT_KEYS = ("alias", "from_version", "to_version", "model_version_id")


def _move_alias(
    session: Session,
    row: ModelVersion,
    name: str,
    *,
    action: str,
    actor: str,
    reason: str | None,
    clock: Clock,
    details: dict[str, Any] | None = None,
) -> None:
    now = clock.now()
    alias = repository.alias(session, row.machine_id, row.model_type, name, lock=True)
    previous = session.get(ModelVersion, alias.model_version_id) if alias else None
    if alias is None:
        session.add(
            ModelAlias(
                machine_id=row.machine_id,
                model_type=row.model_type,
                alias=name,
                model_version_id=row.id,
                updated_at=now,
            )
        )
    else:
        alias.model_version_id = row.id
        alias.updated_at = now
    session.add(
        AuditLog(
            at=now,
            actor=actor,
            action=action,
            entity_type="model_alias",
            entity_id=row.model_type,
            machine_id=row.machine_id,
            reason=reason,
            details={
                **(details or {}),
                "alias": name,
                "from_version": previous.version if previous else None,
                "to_version": row.version,
                "model_version_id": row.id,
            },
        )
    )
    session.flush()


def champions(*, session: Session, model_type: str) -> list[ModelVersion]:
    """Every machine's champion of ``model_type``."""
    return repository.champions(session, check_model_type(model_type))
