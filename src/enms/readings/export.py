"""Write a machine's readings as CSV in the import format (``enms export readings``).

Columns: ``timestamp`` (ISO 8601 UTC), ``energy_kwh``, the known drivers the machine has,
its other drivers (from the ``drivers`` JSON) and ``is_anomaly`` when any reading is
labelled. Numbers are written with ``repr`` (the shortest text that reads back exactly), so
exporting and importing into another machine reproduces the readings bit for bit. The rows
are read in pages of ``chunk`` (keyset on the timestamp), so memory stays flat.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, TextIO

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from enms.core.timewindow import Window
from enms.readings import repository
from enms.readings.models import EnergyReading, Machine
from enms.readings.parsing import ENERGY, KNOWN_DRIVERS, LABEL, TIMESTAMP


@dataclass(frozen=True)
class ExportSummary:
    """What an export wrote."""

    machine: str
    rows: int
    columns: list[str]
    first: datetime | None
    last: datetime | None


def _columns(session: Session, machine_id: int, window: Window, chunk: int) -> list[str]:
    conditions = [EnergyReading.machine_id == machine_id]
    if window.start is not None:
        conditions.append(EnergyReading.ts >= window.start)
    if window.end is not None:
        conditions.append(EnergyReading.ts < window.end)
    counted = [*KNOWN_DRIVERS, LABEL]
    present = session.execute(
        select(*(func.count(getattr(EnergyReading, c)) for c in counted)).where(*conditions)
    ).one()
    known = [c for c, n in zip(counted, present, strict=True) if n and c != LABEL]
    extra: dict[str, None] = {}
    after: datetime | None = None
    while True:  # the extra drivers' names, in order of first appearance
        page = [*conditions, EnergyReading.drivers.is_not(None)]
        if after is not None:
            page.append(EnergyReading.ts > after)
        rows = session.execute(
            select(EnergyReading.ts, EnergyReading.drivers)
            .where(*page)
            .order_by(EnergyReading.ts)
            .limit(chunk)
        ).all()
        for _ts, drivers in rows:
            extra.update(dict.fromkeys(drivers or {}))
        if len(rows) < chunk:
            break
        after = rows[-1][0]
    label = [LABEL] if present[-1] else []
    return [ENERGY, *known, *(c for c in extra if c not in known), *label]


def _csv_rows(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    out = pd.DataFrame(index=range(len(frame)))
    out[TIMESTAMP] = [t.isoformat().replace("+00:00", "Z") for t in frame.index]
    drivers = frame["drivers"].tolist()
    for column in columns:
        if column == LABEL:
            out[LABEL] = [
                "" if pd.isna(v) else ("true" if v else "false") for v in frame[LABEL].tolist()
            ]
        elif column in frame.columns:
            out[column] = frame[column].to_numpy(dtype=float)
        else:
            out[column] = [float((d or {}).get(column, "nan")) for d in drivers]
    return out


def write_csv(
    *, session: Session, machine: Machine, window: Window, out: TextIO, chunk: int = 50_000
) -> ExportSummary:
    """Write ``machine``'s readings in ``window`` to ``out`` as an importable CSV."""
    columns = _columns(session, machine.id, window, chunk)
    header = [TIMESTAMP, *columns]
    out.write(",".join(header) + "\n")
    rows, first, last = 0, None, None
    after: datetime | None = None
    while True:
        frame = repository.readings_frame(
            session, machine.id, window.start, window.end, chunk, after=after
        )
        if frame.empty:
            break
        table: Any = _csv_rows(frame, columns)
        out.write(table[header].to_csv(header=False, index=False, na_rep="", lineterminator="\n"))
        rows += len(frame)
        first = first or frame.index[0].to_pydatetime()
        last = frame.index[-1].to_pydatetime()
        if len(frame) < chunk:
            break
        after = last
    return ExportSummary(machine.name, rows, header, first, last)
