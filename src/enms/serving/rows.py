"""The request's rows as a readings-like frame, and the check that the drivers are there.

Every problem is a 422 (:class:`~enms.core.errors.InvalidInput`) naming the row and field:
a missing or unparsable ``timestamp`` (ISO 8601, naive means UTC, as for imports), a repeated
timestamp, a value that is not a number. :func:`require_drivers` names every driver column a
model needs that is absent or null, with the first rows lacking it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from enms.core.errors import InvalidInput

TIMESTAMP = "timestamp"
MAX_NAMED_ROWS = 10


def rows_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """The rows indexed by UTC timestamp (in request order), numeric columns as floats."""
    stamps: list[Any] = []
    for i, row in enumerate(rows):
        if TIMESTAMP not in row or row[TIMESTAMP] in (None, ""):
            raise InvalidInput(
                f"rows[{i}] has no {TIMESTAMP!r}: every row needs one (ISO 8601)",
                details={"row": i, "field": TIMESTAMP},
            )
        stamps.append(row[TIMESTAMP])
    index = pd.to_datetime(
        pd.Series([str(s) for s in stamps]), format="ISO8601", utc=True, errors="coerce"
    )
    bad = np.flatnonzero(index.isna().to_numpy())
    if len(bad):
        i = int(bad[0])
        raise InvalidInput(
            f"rows[{i}].{TIMESTAMP} {stamps[i]!r} is not an ISO 8601 timestamp",
            details={"row": i, "field": TIMESTAMP, "value": str(stamps[i])},
        )
    ts = pd.DatetimeIndex(index)
    if ts.has_duplicates:
        i = int(np.flatnonzero(ts.duplicated())[0])
        raise InvalidInput(
            f"rows[{i}].{TIMESTAMP} {ts[i].isoformat()} repeats an earlier row: one row per "
            "timestamp",
            details={"row": i, "field": TIMESTAMP},
        )
    columns = sorted({k for row in rows for k in row if k != TIMESTAMP})
    data: dict[str, np.ndarray] = {}
    for name in columns:
        values = np.full(len(rows), np.nan)
        for i, row in enumerate(rows):
            values[i] = _number(row.get(name), i, name)
        data[name] = values
    return pd.DataFrame(data, index=ts)


def _number(value: Any, i: int, name: str) -> float:
    if value is None:
        return float("nan")
    if isinstance(value, bool):
        return float(value)
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InvalidInput(
            f"rows[{i}].{name} {value!r} is not a number",
            details={"row": i, "field": name, "value": str(value)},
        ) from None
    if not np.isfinite(number):
        raise InvalidInput(f"rows[{i}].{name} must be finite", details={"row": i, "field": name})
    return number


def require_drivers(frame: pd.DataFrame, columns: list[str], *, label: str) -> None:
    """:class:`InvalidInput` naming the ``columns`` absent from ``frame`` or null in a row."""
    missing: dict[str, list[int]] = {}
    for name in columns:
        if name not in frame.columns:
            missing[name] = list(range(min(len(frame), MAX_NAMED_ROWS)))
            continue
        null = np.flatnonzero(frame[name].isna().to_numpy())
        if len(null):
            missing[name] = [int(i) for i in null[:MAX_NAMED_ROWS]]
    if not missing:
        return
    names = list(missing)
    absent = [n for n in names if n not in frame.columns]
    where = "absent" if len(absent) == len(names) else "absent or null in some rows"
    raise InvalidInput(
        f"{label} needs the driver column(s) {names} in every row ({where}); add them to the "
        f"rows (it uses {columns})",
        details={"missing_columns": names, "rows": missing, "required_columns": columns},
    )
