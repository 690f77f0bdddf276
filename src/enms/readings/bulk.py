"""Fast, transactional upsert of a validated readings frame, one strategy per dialect.

SQLite: ``executemany`` of ``INSERT … ON CONFLICT DO UPDATE`` on the session's own
connection. PostgreSQL: ``COPY`` into a temporary table, then one
``INSERT … SELECT … ON CONFLICT DO UPDATE``. Both run inside the caller's transaction, so a
failure leaves nothing behind. Columns absent from the file are left untouched on rows that
already exist; present-but-empty values are written as NULL.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any, cast

import numpy as np
import pandas as pd
from sqlalchemy.orm import Session

from enms.readings.parsing import ENERGY, LABEL, ParsedReadings

Progress = Callable[[int, int], None]


def _columns(parsed: ParsedReadings) -> list[str]:
    cols = [ENERGY, *parsed.known_drivers]
    if parsed.extra_drivers:
        cols.append("drivers")
    if parsed.has_label:
        cols.append(LABEL)
    return cols


def _drivers_json(frame: pd.DataFrame, extra: Sequence[str]) -> list[str | None]:
    values = frame[list(extra)].to_numpy(dtype=float)
    out: list[str | None] = []
    for row in values:
        item = {k: float(v) for k, v in zip(extra, row, strict=True) if not np.isnan(v)}
        out.append(json.dumps(item) if item else None)
    return out


def upsert(
    session: Session,
    machine_id: int,
    parsed: ParsedReadings,
    *,
    batch_size: int,
    progress: Progress | None = None,
) -> None:
    """Insert or update every row of ``parsed`` for ``machine_id`` in the current transaction."""
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        _upsert_postgres(
            conn.connection.driver_connection, machine_id, parsed, batch_size, progress
        )
    else:
        _upsert_sqlite(conn.connection.driver_connection, machine_id, parsed, batch_size, progress)


def _batches(total: int, size: int) -> range:
    return range(0, total, size)


def _naive_utc_text(index: pd.DatetimeIndex) -> np.ndarray[Any, Any]:
    # SQLAlchemy's SQLite DateTime storage format ("YYYY-MM-DD HH:MM:SS.ffffff", naive UTC),
    # so rows written here compare and load exactly like rows written through the ORM.
    text = np.datetime_as_string(index.tz_convert(None).to_numpy("datetime64[us]"), unit="us")
    return np.char.replace(text, "T", " ")


def _rows(
    parsed: ParsedReadings, machine_id: int, ts: np.ndarray[Any, Any]
) -> list[tuple[Any, ...]]:
    frame = parsed.frame
    columns: list[list[Any]] = [[machine_id] * len(frame), ts.tolist()]
    for col in (ENERGY, *parsed.known_drivers):
        values = frame[col].to_numpy(dtype=float)
        cells = values.astype(object)
        cells[np.isnan(values)] = None
        columns.append(cells.tolist())
    if parsed.extra_drivers:
        columns.append(_drivers_json(frame, parsed.extra_drivers))
    if parsed.has_label:
        columns.append([None if pd.isna(v) else bool(v) for v in frame[LABEL]])
    return list(zip(*columns, strict=True))


def _upsert_sqlite(
    dbapi: Any, machine_id: int, parsed: ParsedReadings, batch_size: int, progress: Progress | None
) -> None:
    cols = _columns(parsed)
    names = ", ".join(["machine_id", "ts", *cols])
    marks = ", ".join("?" * (len(cols) + 2))
    updates = ", ".join(f"{c} = excluded.{c}" for c in cols)
    sql = (
        f"INSERT INTO energy_readings ({names}) VALUES ({marks}) "
        f"ON CONFLICT (machine_id, ts) DO UPDATE SET {updates}"
    )
    rows = _rows(parsed, machine_id, _naive_utc_text(cast(pd.DatetimeIndex, parsed.frame.index)))
    cursor = dbapi.cursor()
    try:
        for start in _batches(len(rows), batch_size):
            cursor.executemany(sql, rows[start : start + batch_size])
            if progress:
                progress(min(start + batch_size, len(rows)), len(rows))
    finally:
        cursor.close()


def _upsert_postgres(
    dbapi: Any, machine_id: int, parsed: ParsedReadings, batch_size: int, progress: Progress | None
) -> None:
    cols = _columns(parsed)
    frame = parsed.frame
    # "+00" makes each timestamp explicit UTC, whatever the session's TimeZone setting.
    stamps = np.char.add(_naive_utc_text(cast(pd.DatetimeIndex, frame.index)), "+00")
    out = pd.DataFrame({"machine_id": machine_id, "ts": stamps})
    for col in (ENERGY, *parsed.known_drivers):
        out[col] = frame[col].to_numpy(dtype=float)
    if parsed.extra_drivers:
        out["drivers"] = _drivers_json(frame, parsed.extra_drivers)
    if parsed.has_label:
        out[LABEL] = frame[LABEL].map({True: "t", False: "f"}).astype(object).to_numpy()
    with dbapi.cursor() as cur:
        # Imports of one machine take turns, so the overlap check below stays true until
        # this transaction commits.
        cur.execute("SELECT id FROM machines WHERE id = %s FOR UPDATE", (machine_id,))
        cur.execute(
            "SELECT EXISTS (SELECT 1 FROM energy_readings WHERE machine_id = %s "
            "AND ts >= %s AND ts <= %s)",
            (machine_id, frame.index[0].to_pydatetime(), frame.index[-1].to_pydatetime()),
        )
        overlaps = bool(cur.fetchone()[0])
        if not overlaps:
            # Only new timestamps: COPY straight into the table (its unique index still
            # guards it), the fastest path PostgreSQL has.
            _copy(cur, "energy_readings", ["machine_id", "ts", *cols], out, batch_size, progress)
            return
        types = {"drivers": "jsonb", LABEL: "boolean"}
        defs = ", ".join(
            [
                "machine_id integer",
                "ts timestamptz",
                *(f"{c} {types.get(c, 'double precision')}" for c in cols),
            ]
        )
        cur.execute(f"CREATE TEMPORARY TABLE _enms_import ({defs}) ON COMMIT DROP")
        _copy(cur, "_enms_import", ["machine_id", "ts", *cols], out, batch_size, progress)
        names = ", ".join(cols)
        updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in cols)
        cur.execute(
            f"INSERT INTO energy_readings (machine_id, ts, {names}) "
            f"SELECT machine_id, ts, {names} FROM _enms_import "
            f"ON CONFLICT (machine_id, ts) DO UPDATE SET {updates}"
        )
        cur.execute("DROP TABLE _enms_import")


def _copy(
    cur: Any,
    table: str,
    columns: list[str],
    out: pd.DataFrame,
    batch_size: int,
    progress: Progress | None,
) -> None:
    """COPY ``out`` (its columns in ``columns`` order) into ``table``.

    One COPY statement fed chunk by chunk: psycopg sends each chunk from its own writer
    thread, so the server ingests one chunk while the next is being formatted.
    """
    sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv)"
    with cur.copy(sql) as copy:
        for start in _batches(len(out), batch_size):
            # pandas writes floats with repr: the shortest text that reads back exactly.
            copy.write(
                out.iloc[start : start + batch_size].to_csv(header=False, index=False, na_rep="")
            )
            if progress:
                progress(min(start + batch_size, len(out)), len(out))
