"""``metrics/record``: metrics measured elsewhere written as ``model_performance_metrics`` rows.

One row or a batch, all-or-nothing: every item is validated (fields, ranges, window, known
machine, model type and version) before anything is written, and the rows go in with one
multi-row insert. A missing ``model_version`` is the champion in force at ``evaluation_end``
(the last champion move strictly before it, from the audit log: the window is half-open, so
a promotion at its very end did not serve it). Rows are ``source="recorded"``.

The handler stays lean because it is benchmarked: a fixed number of queries per request
(machines, versions, alias history only when a version is omitted), whatever the batch size.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pydantic import TypeAdapter, ValidationError
from sqlalchemy import insert, select, text
from sqlalchemy.orm import Session

from enms.core.clock import Clock
from enms.core.errors import InvalidInput
from enms.core.model_types import MODEL_TYPE_NAMES
from enms.core.timewindow import as_utc
from enms.evaluation.models import PerformanceMetric
from enms.evaluation.performance_schemas import MetricRecord
from enms.readings.models import Machine
from enms.registry.models import AuditLog, ModelVersion

SOURCE = "recorded"
MAX_BATCH = 10_000
_ITEMS = TypeAdapter(list[MetricRecord])
_COLUMNS = (
    "r_squared", "rmse", "mae", "mape", "cv_rmse", "nmbe",
    "precision", "recall", "f1", "skill", "n_samples",
    "drift_detected", "drift_score", "drift_details",
)  # fmt: skip


def parse(payload: Any) -> tuple[list[MetricRecord], bool]:
    """The items of ``{"metrics": [...]}`` or of a single object, and whether it was a batch;
    :class:`InvalidInput` naming the first bad field (``metrics[3].rmse``)."""
    batch = isinstance(payload, dict) and "metrics" in payload
    if batch:
        if set(payload) != {"metrics"} or not isinstance(payload["metrics"], list):
            raise InvalidInput('metrics: a batch is {"metrics": [ ... ]} and nothing else')
        raw = payload["metrics"]
        if not raw:
            raise InvalidInput("metrics: the batch is empty")
        if len(raw) > MAX_BATCH:
            raise InvalidInput(f"metrics: at most {MAX_BATCH} rows per request, got {len(raw)}")
    elif isinstance(payload, dict):
        raw = [payload]
    else:
        raise InvalidInput('body: send one metrics object or {"metrics": [ ... ]}')
    try:
        items = _ITEMS.validate_python(raw)
    except ValidationError as exc:
        problems = [_problem(e, batch) for e in exc.errors(include_url=False)]
        first = problems[0]
        raise InvalidInput(
            f"{first['field']}: {first['problem']}",
            details={"problems": problems[:50], **({"index": first["index"]} if batch else {})},
        ) from None
    for i, item in enumerate(items):
        if as_utc(item.evaluation_end) <= as_utc(item.evaluation_start):
            raise _bad(i, batch, "evaluation_end", "must be after evaluation_start")
        if item.model_type not in MODEL_TYPE_NAMES:
            raise _bad(
                i, batch, "model_type",
                f"unknown model type {item.model_type!r}; choose one of "
                + ", ".join(MODEL_TYPE_NAMES),
            )  # fmt: skip
    return items, batch


def record(
    *, session: Session, items: Sequence[MetricRecord], batch: bool, clock: Clock
) -> list[int]:
    """Resolve every item's version, then write all rows in one multi-row insert; the ids
    come back in the order of ``items``."""
    machine_ids = {i.machine_id for i in items}
    known = set(session.scalars(select(Machine.id).where(Machine.id.in_(machine_ids))))
    versions: dict[tuple[int, str, int], int] = {
        (m, t, v): vid
        for vid, m, t, v in session.execute(
            select(
                ModelVersion.id, ModelVersion.machine_id, ModelVersion.model_type,
                ModelVersion.version,
            ).where(ModelVersion.machine_id.in_(machine_ids & known))
        )
    }  # fmt: skip
    history = _champion_history(session, items, known)
    now = clock.now()
    rows: list[dict[str, Any]] = []
    for i, item in enumerate(items):
        if item.machine_id not in known:
            raise _bad(i, batch, "machine_id", f"no machine with id {item.machine_id}")
        end = as_utc(item.evaluation_end)
        number = item.model_version
        if number is None:
            number = _champion_at(history.get((item.machine_id, item.model_type), []), end)
            if number is None:
                raise _bad(
                    i, batch, "model_version",
                    f"machine {item.machine_id} had no {item.model_type} champion at "
                    f"{end.isoformat()}; give model_version",
                )  # fmt: skip
        version_id = versions.get((item.machine_id, item.model_type, number))
        if version_id is None:
            raise _bad(
                i, batch, "model_version",
                f"machine {item.machine_id} has no {item.model_type} version {number}",
            )  # fmt: skip
        rows.append(
            {
                "model_id": version_id,
                "machine_id": item.machine_id,
                "model_type": item.model_type,
                "model_version": number,
                "evaluation_date": now,
                "evaluation_start": as_utc(item.evaluation_start),
                "evaluation_end": end,
                "details": item.details,
                "source": SOURCE,
                **{c: getattr(item, c) for c in _COLUMNS},
            }
        )
    if session.get_bind().dialect.name == "postgresql":
        return _insert_unnest(session, rows)
    table = PerformanceMetric.__table__
    # insertmanyvalues: one multi-row INSERT … RETURNING per 1,000 rows, ids in row order.
    statement = insert(table).returning(table.c.id, sort_by_parameter_order=True)  # type: ignore[arg-type]
    return [int(r[0]) for r in session.execute(statement, rows)]


#: Column → PostgreSQL array type of the ``unnest`` insert.
_PG_TYPES = {
    "model_id": "integer", "machine_id": "integer", "model_type": "varchar",
    "model_version": "integer", "evaluation_date": "timestamptz",
    "evaluation_start": "timestamptz", "evaluation_end": "timestamptz", "details": "jsonb",
    "source": "varchar", "r_squared": "float8", "rmse": "float8", "mae": "float8",
    "mape": "float8", "cv_rmse": "float8", "nmbe": "float8", "precision": "float8",
    "recall": "float8", "f1": "float8", "skill": "float8", "n_samples": "integer",
    "drift_detected": "boolean", "drift_score": "float8", "drift_details": "jsonb",
}  # fmt: skip
_PG_COLUMNS = ", ".join(f'"{c}"' for c in _PG_TYPES)
_PG_ARRAYS = ", ".join(
    f"CAST(:{c} AS text[])::jsonb[]" if t == "jsonb" else f"CAST(:{c} AS {t}[])"
    for c, t in _PG_TYPES.items()
)
_PG_INSERT = text(
    f"INSERT INTO model_performance_metrics ({_PG_COLUMNS}) SELECT {_PG_COLUMNS} "
    f"FROM unnest({_PG_ARRAYS}) WITH ORDINALITY AS u({_PG_COLUMNS}, ord) "
    "ORDER BY ord RETURNING id"
)


def _insert_unnest(session: Session, rows: list[dict[str, Any]]) -> list[int]:
    """PostgreSQL: one INSERT … SELECT FROM unnest(arrays) — a short constant statement
    with one array per column, however many rows (a VALUES list of thousands of
    placeholders costs more to parse than to insert). Ids are drawn from the sequence in
    ``ord`` order, so sorted they follow the rows."""
    params: dict[str, list[Any]] = {c: [] for c in _PG_TYPES}
    for row in rows:
        for column, values in params.items():
            value = row[column]
            if _PG_TYPES[column] == "jsonb" and value is not None:
                value = json.dumps(value)
            values.append(value)
    return sorted(int(i) for i in session.scalars(_PG_INSERT, params))


def _champion_history(
    session: Session, items: Sequence[MetricRecord], known: set[int]
) -> dict[tuple[int, str], list[tuple[datetime, int | None]]]:
    """Champion moves (time, version) per (machine, model type), oldest first, for the
    pairs whose items omit the version (no query when none do)."""
    wanted = {(i.machine_id, i.model_type) for i in items if i.model_version is None}
    wanted = {w for w in wanted if w[0] in known}
    if not wanted:
        return {}
    events = session.execute(
        select(AuditLog.machine_id, AuditLog.entity_id, AuditLog.at, AuditLog.details)
        .where(
            AuditLog.entity_type == "model_alias",
            AuditLog.machine_id.in_({m for m, _ in wanted}),
        )
        .order_by(AuditLog.id)
    )
    out: dict[tuple[int, str], list[tuple[datetime, int | None]]] = {}
    for machine_id, model_type, at, details in events:
        key = (int(machine_id), str(model_type))
        if key in wanted and details.get("alias") == "champion":
            to = details.get("to_version")
            out.setdefault(key, []).append((at, None if to is None else int(to)))
    return out


def _champion_at(moves: list[tuple[datetime, int | None]], moment: datetime) -> int | None:
    """The version the last champion move strictly before ``moment`` pointed at.

    >>> from datetime import UTC
    >>> t = [datetime(2025, 1, d, tzinfo=UTC) for d in (1, 10)]
    >>> _champion_at([(t[0], 1), (t[1], 2)], datetime(2025, 1, 10, tzinfo=UTC))
    1
    >>> _champion_at([(t[0], 1), (t[1], 2)], datetime(2024, 12, 31, tzinfo=UTC)) is None
    True
    """
    found: int | None = None
    for at, version in moves:
        if at >= moment:
            break
        found = version
    return found


def _bad(index: int, batch: bool, field: str, problem: str) -> InvalidInput:
    name = f"metrics[{index}].{field}" if batch else field
    details: dict[str, Any] = {"field": name, "problem": problem}
    if batch:
        details["index"] = index
    return InvalidInput(f"{name}: {problem}", details=details)


def _problem(error: Any, batch: bool) -> dict[str, Any]:
    loc = list(error.get("loc", ()))
    index = int(loc.pop(0)) if loc and isinstance(loc[0], int) else 0
    field = ".".join(str(p) for p in loc) or "body"
    name = f"metrics[{index}].{field}" if batch else field
    value = error.get("input")
    shown = value if isinstance(value, int | float | str | bool) or value is None else None
    out: dict[str, Any] = {"field": name, "problem": str(error.get("msg")), "value": shown}
    if batch:
        out["index"] = index
    return out
