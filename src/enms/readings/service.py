"""Use cases for machines and readings: create, list, import, query, delete, check.

Raises domain errors (``NotFound``, ``AlreadyExists``, ``InvalidFile``,
``InsufficientReadings``); never commits. Import batch size comes from
``Settings.imports.batch_size`` (``ENMS_IMPORTS__BATCH_SIZE``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pandas as pd
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from enms.core.clock import Clock
from enms.core.errors import AlreadyExists, InvalidInput, NotFound
from enms.core.timewindow import Window
from enms.readings import bulk, repository, sufficiency
from enms.readings.aggregate import aggregate, to_points
from enms.readings.models import Machine
from enms.readings.parsing import ParsedReadings
from enms.readings.schemas import (
    ImportSummary,
    MachineCreate,
    MachineDeleted,
    MachineRead,
    MachineUpdate,
    ReadingsDeleted,
    ReadingsPage,
    Resolution,
)

RAW_LIMIT_MAX = 100_000


def create_machine(*, session: Session, data: MachineCreate, clock: Clock) -> MachineRead:
    """Register a machine; its name must be new."""
    if repository.machine_by_name(session, data.name) is not None:
        raise AlreadyExists(f"a machine named {data.name!r} already exists")
    machine = Machine(
        name=data.name,
        machine_type=data.machine_type,
        timezone=data.timezone,
        country=data.country,
        planned_drivers=list(data.planned_drivers),
        metadata_=data.metadata,
        created_at=clock.now(),
    )
    try:
        with session.begin_nested():
            repository.add_machine(session, machine)
    except IntegrityError:
        # Lost a race with a concurrent create of the same name.
        raise AlreadyExists(f"a machine named {data.name!r} already exists") from None
    return MachineRead.model_validate(machine, from_attributes=True)


def update_machine(*, session: Session, machine_id: int, data: MachineUpdate) -> MachineRead:
    """Change a machine's country and/or planned drivers (the fields ``data`` sets).

    Versions already trained keep the facts they were trained with; the next training
    uses the new ones.
    """
    machine = get_machine(session=session, machine_id=machine_id)
    changes = data.model_dump(include=data.model_fields_set)
    if "country" in changes:
        machine.country = changes["country"]
    if changes.get("planned_drivers") is not None:
        machine.planned_drivers = list(changes["planned_drivers"])
    session.flush()
    return _read(session, machine)


def _read(session: Session, machine: Machine) -> MachineRead:
    n, first, last = repository.reading_stats(session).get(machine.id, (0, None, None))
    read = MachineRead.model_validate(machine, from_attributes=True)
    return read.model_copy(
        update={"readings_count": n, "first_reading": first, "last_reading": last}
    )


def list_machines(*, session: Session) -> list[MachineRead]:
    """All machines with their reading counts and time span."""
    stats = repository.reading_stats(session)
    out = []
    for machine in repository.list_machines(session):
        n, first, last = stats.get(machine.id, (0, None, None))
        read = MachineRead.model_validate(machine, from_attributes=True)
        out.append(
            read.model_copy(
                update={"readings_count": n, "first_reading": first, "last_reading": last}
            )
        )
    return out


def get_machine(*, session: Session, machine_id: int) -> Machine:
    """The machine with ``machine_id`` or :class:`NotFound`."""
    machine = session.get(Machine, machine_id)
    if machine is None:
        raise NotFound(f"no machine with id {machine_id}")
    return machine


def get_machine_by_name(*, session: Session, name: str) -> Machine:
    """The machine called ``name`` or :class:`NotFound` (listing the known names)."""
    machine = repository.machine_by_name(session, name)
    if machine is None:
        known = [m.name for m in repository.list_machines(session)][:20]
        hint = f"; known machines: {', '.join(known)}" if known else "; there are no machines yet"
        raise NotFound(f"no machine named {name!r}{hint}")
    return machine


def import_readings(
    *,
    session: Session,
    machine: Machine,
    parsed: ParsedReadings,
    batch_size: int = 20_000,
    progress: bulk.Progress | None = None,
) -> ImportSummary:
    """Write a validated batch for ``machine`` (insert new timestamps, update known ones)."""
    before = repository.count_readings(session, machine.id)
    bulk.upsert(session, machine.id, parsed, batch_size=batch_size, progress=progress)
    after = repository.count_readings(session, machine.id)
    written = len(parsed.frame)
    index = parsed.frame.index
    return ImportSummary(
        machine=machine.name,
        rows_read=parsed.rows_read,
        rows_written=written,
        inserted=after - before,
        updated=written - (after - before),
        duplicates_in_file=parsed.duplicates,
        duplicate_examples=parsed.duplicate_examples,
        gaps=parsed.gaps,
        gap_examples=parsed.gap_examples,
        interval_seconds=parsed.interval_seconds,
        first=index[0].to_pydatetime(),
        last=index[-1].to_pydatetime(),
        drivers=[*parsed.known_drivers, *parsed.extra_drivers],
        has_label=parsed.has_label,
    )


def query_readings(
    *,
    session: Session,
    machine_id: int,
    window: Window,
    resolution: Resolution = "raw",
    limit: int = 10_000,
    cursor: datetime | None = None,
) -> ReadingsPage:
    """Readings of a machine in ``window``, raw or aggregated in the machine's time zone.

    A page cut at ``limit`` has ``truncated`` set and a ``next_cursor`` (its last
    timestamp); passing that back as ``cursor`` returns the points strictly after it, so
    following the cursors visits every point of the window exactly once.
    """
    machine = get_machine(session=session, machine_id=machine_id)
    if not 1 <= limit <= RAW_LIMIT_MAX:
        raise InvalidInput(f"limit must be between 1 and {RAW_LIMIT_MAX}, not {limit}")
    raw_limit = limit + 1 if resolution == "raw" else None
    frame = repository.readings_frame(
        session, machine.id, window.start, window.end, raw_limit, after=cursor
    )
    if resolution != "raw":
        frame = aggregate(frame, resolution, machine.timezone)
        if cursor is not None:  # the bucket holding the cursor was on the previous page
            frame = frame[frame.index > pd.Timestamp(cursor)]
    truncated = len(frame) > limit
    frame = frame.iloc[:limit]
    points = to_points(frame)
    return ReadingsPage(
        machine_id=machine.id,
        resolution=resolution,
        start=window.start,
        end=window.end,
        count=len(points),
        truncated=truncated,
        next_cursor=points[-1].timestamp if truncated else None,
        readings=points,
    )


def delete_readings(*, session: Session, machine_id: int, window: Window) -> ReadingsDeleted:
    """Delete a machine's readings in ``window`` (at least one side must be given)."""
    machine = get_machine(session=session, machine_id=machine_id)
    if window.start is None and window.end is None:
        raise InvalidInput(
            "give from and/or to: deleting readings needs a window (to delete the machine "
            "with everything it has, delete the machine)"
        )
    deleted = repository.delete_readings(session, machine.id, window.start, window.end)
    return ReadingsDeleted(
        machine_id=machine.id,
        machine=machine.name,
        start=window.start,
        end=window.end,
        deleted=deleted,
    )


def deletion_preview(*, session: Session, machine_id: int) -> MachineDeleted:
    """What deleting the machine would remove, by table (nothing is deleted)."""
    machine = get_machine(session=session, machine_id=machine_id)
    return MachineDeleted(
        machine_id=machine.id,
        machine=machine.name,
        deleted=repository.dependent_rows(session, machine.id),
    )


def delete_machine(*, session: Session, machine_id: int) -> MachineDeleted:
    """Delete a machine with its readings, models, training history, metrics and alerts.

    The audit log keeps its entries (with the machine cleared), as an audit log should.
    """
    preview = deletion_preview(session=session, machine_id=machine_id)
    repository.delete_machine(session, machine_id)
    return preview


def require_sufficient_readings(
    *,
    session: Session,
    machine: Machine,
    model_type: str,
    window: Window,
    hyperparameters: dict[str, Any] | None = None,
    holdout_fraction: float = 0.2,
) -> None:
    """Raise :class:`InsufficientReadings` (saying what is missing) unless ``machine`` has
    enough readings in ``window`` to train ``model_type``."""
    n, first, last = repository.window_stats(session, machine.id, window.start, window.end)
    problem = sufficiency.check(
        machine_name=machine.name,
        model_type=model_type,
        n=n,
        first=first,
        last=last,
        holdout_fraction=holdout_fraction,
        hyperparameters=hyperparameters,
    )
    if problem is not None:
        raise problem


def training_frame(
    *, session: Session, machine_id: int, start: datetime | None, end: datetime | None
) -> pd.DataFrame:
    """Readings in ``[start, end)`` with extra drivers expanded into columns, for the models."""
    frame = repository.readings_frame(session, machine_id, start, end)
    extra = frame.pop("drivers")
    if extra.notna().any():
        expanded = pd.DataFrame.from_records([d or {} for d in extra], index=frame.index).astype(
            float
        )
        frame = frame.join(expanded)
    frame["is_anomaly"] = frame["is_anomaly"].astype("boolean")
    return frame.dropna(axis=1, how="all")


def require_readings(*, session: Session, machine: Machine, window: Window) -> int:
    """The number of readings ``machine`` has in ``window``; :class:`InvalidInput` (saying
    which readings it does have) when there are none."""
    n, _, _ = repository.window_stats(session, machine.id, window.start, window.end)
    if n:
        return n
    total, first, last = repository.window_stats(session, machine.id, None, None)
    have = (
        f"its {total:,} readings run from {first:%Y-%m-%d %H:%M} to {last:%Y-%m-%d %H:%M} UTC"
        if total and first and last
        else "it has no readings yet: import some first"
    )
    start = f"{window.start:%Y-%m-%d %H:%M}" if window.start else "the beginning"
    end = f"{window.end:%Y-%m-%d %H:%M}" if window.end else "now"
    raise InvalidInput(
        f"machine {machine.name!r} has no readings from {start} to {end} UTC; {have}"
    )
