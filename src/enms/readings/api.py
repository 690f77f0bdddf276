"""JSON routes for machines and readings under ``/api/v1``."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, status
from fastapi.concurrency import run_in_threadpool

from enms.api.deps import ClockDep, SessionDep, SettingsDep
from enms.auth.deps import rate_limited, requires
from enms.auth.roles import Role
from enms.core.db import SessionFactory, session_scope
from enms.core.errors import InvalidFile, InvalidInput
from enms.core.ids import Id
from enms.core.timewindow import Window, parse_instant
from enms.readings import parsing, service
from enms.readings.schemas import (
    ImportSummary,
    MachineCreate,
    MachineDeleted,
    MachineRead,
    MachineUpdate,
    ReadingsBatch,
    ReadingsDeleted,
    ReadingsPage,
    Resolution,
)

router = APIRouter(tags=["machines"])
log = logging.getLogger(__name__)


@router.post(
    "/machines", dependencies=[requires(Role.operator)], status_code=status.HTTP_201_CREATED
)
def create_machine(data: MachineCreate, session: SessionDep, clock: ClockDep) -> MachineRead:
    """Register a machine."""
    return service.create_machine(session=session, data=data, clock=clock)


@router.patch("/machines/{machine_id}", dependencies=[requires(Role.admin)])
def update_machine(machine_id: Id, data: MachineUpdate, session: SessionDep) -> MachineRead:
    """Set where a machine is (``country``) and its ``planned_drivers``; omitted fields stay."""
    return service.update_machine(session=session, machine_id=machine_id, data=data)


@router.get("/machines")
def list_machines(session: SessionDep) -> list[MachineRead]:
    """All machines with their reading counts and time span."""
    return service.list_machines(session=session)


@router.post(
    "/machines/{machine_id}/readings",
    dependencies=[requires(Role.operator), rate_limited("imports")],
    openapi_extra={
        "requestBody": {
            "content": {
                "application/json": {"schema": ReadingsBatch.model_json_schema()},
                "text/csv": {"schema": {"type": "string"}},
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "properties": {"file": {"type": "string", "format": "binary"}},
                    }
                },
            }
        }
    },
)
async def import_readings(machine_id: Id, request: Request, settings: SettingsDep) -> ImportSummary:
    """Import readings: a JSON batch, a CSV body (text/csv) or a CSV file upload (``file``).

    The whole batch is validated first; one bad row rejects it with the line, column and
    problem, and nothing is written. Known timestamps are updated, new ones inserted.
    """
    # The body is received without holding a transaction; parsing and writing run on a
    # worker thread (not the event loop), and the write transaction opens only once the
    # batch is known to be valid, so a slow upload never holds the database's write lock.
    limits = parsing.Plausibility.from_settings(settings.imports)
    body = await _read_body(request, settings.imports.max_upload_mb, limits)
    factory: SessionFactory = request.app.state.session_factory
    summary = await run_in_threadpool(
        _import, factory, machine_id, body, settings.imports.batch_size
    )
    _score_after_import(request, summary)
    return summary


def _score_after_import(request: Request, summary: ImportSummary) -> None:
    """Have the prediction log score the new readings (and fill forecasts' actuals) now,
    on a worker: the import has committed, so the scoring run sees it."""
    runtime = getattr(request.app.state, "runtime", None)
    if runtime is None or not summary.rows_written:
        return
    try:
        runtime.enqueue_periodic("score_predictions")
    except Exception:  # the import is done; the hourly run scores these readings anyway
        log.exception("could not enqueue score_predictions after an import")


def _import(
    factory: SessionFactory,
    machine_id: int,
    body: Callable[[], parsing.ParsedReadings],
    batch_size: int,
) -> ImportSummary:
    with session_scope(factory) as session:
        service.get_machine(session=session, machine_id=machine_id)  # 404 before parsing
    parsed = body()
    with session_scope(factory, write=True) as session:
        machine = service.get_machine(session=session, machine_id=machine_id)
        return service.import_readings(
            session=session, machine=machine, parsed=parsed, batch_size=batch_size
        )


@router.get("/machines/{machine_id}/readings")
def get_readings(
    machine_id: Id,
    session: SessionDep,
    start: Annotated[str | None, Query(alias="from", description="ISO 8601, inclusive")] = None,
    end: Annotated[str | None, Query(alias="to", description="ISO 8601, exclusive")] = None,
    resolution: Resolution = "raw",
    limit: Annotated[int, Query(description="Most points (readings or buckets) returned")] = 10_000,
    cursor: Annotated[
        str | None, Query(description="`next_cursor` of the previous page: points after it")
    ] = None,
    after: Annotated[str | None, Query(description="Same as `cursor`")] = None,
) -> ReadingsPage:
    """Readings in ``[from, to)``: raw, or hourly/daily sums in the machine's time zone.

    A page cut at ``limit`` says ``truncated: true`` and gives ``next_cursor``; pass it
    back as ``cursor`` (with the same window) for the next page.
    """
    window = Window.parse(start, end)
    if cursor is not None and after is not None and cursor != after:
        raise InvalidInput("give cursor or after, not both")
    position = cursor if cursor is not None else after
    return service.query_readings(
        session=session,
        machine_id=machine_id,
        window=window,
        resolution=resolution,
        limit=limit,
        cursor=parse_instant(position, field="cursor") if position else None,
    )


@router.delete("/machines/{machine_id}/readings", dependencies=[requires(Role.admin)])
def delete_readings(
    machine_id: Id,
    session: SessionDep,
    start: Annotated[str | None, Query(alias="from", description="ISO 8601, inclusive")] = None,
    end: Annotated[str | None, Query(alias="to", description="ISO 8601, exclusive")] = None,
) -> ReadingsDeleted:
    """Delete the machine's readings in ``[from, to)``; the answer counts them."""
    window = Window.parse(start, end)
    return service.delete_readings(session=session, machine_id=machine_id, window=window)


@router.delete("/machines/{machine_id}", dependencies=[requires(Role.admin)])
def delete_machine(machine_id: Id, session: SessionDep) -> MachineDeleted:
    """Delete a machine with its readings, model versions, training history, metrics and
    alerts; the answer counts the rows removed, by table."""
    return service.delete_machine(session=session, machine_id=machine_id)


async def _read_body(
    request: Request, max_mb: int, limits: parsing.Plausibility
) -> Callable[[], parsing.ParsedReadings]:
    """Receive the body; return the (blocking) parse to run off the event loop."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    limit = max_mb * 1024 * 1024
    if content_type == "multipart/form-data":
        form = await request.form()
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise InvalidInput("multipart upload must carry the CSV in a field named 'file'")
        data = _within(await upload.read(limit + 1), limit)
        return lambda: parsing.parse_csv(data, limits=limits)
    body = _within(await request.body(), limit)
    if content_type in ("text/csv", "text/plain", "application/csv"):
        return lambda: parsing.parse_csv(body, limits=limits)
    if content_type == "application/json":
        return lambda: parsing.parse_records(_records(body), limits=limits)
    raise InvalidInput(
        f"unsupported content type {content_type or '(none)'!r}: send application/json, "
        "text/csv or a multipart form with a 'file' field"
    )


def _records(body: bytes) -> list[dict[str, Any]]:
    try:
        document = json.loads(body, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise InvalidInput(
            f"the body is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}",
            details={"line": exc.lineno, "column": exc.colno},
        ) from exc
    except ValueError as exc:
        raise InvalidInput(f"the body is not valid JSON: {exc}") from exc
    records = document.get("readings") if isinstance(document, dict) else document
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise InvalidInput('expected {"readings": [{"timestamp": …, "energy_kwh": …}, …]}')
    return records


def _no_constant(name: str) -> Any:
    # Python's json accepts NaN and Infinity; JSON does not, and neither do readings.
    raise ValueError(f"{name} is not a JSON number (readings must be finite)")


def _within(data: bytes, limit: int) -> bytes:
    if len(data) > limit:
        raise InvalidFile(
            f"the upload is larger than {limit // (1024 * 1024)} MiB (ENMS_IMPORTS__MAX_UPLOAD_MB)"
        )
    return data
