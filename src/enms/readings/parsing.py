"""Turn a readings CSV (or a JSON batch) into a validated frame, or reject it whole.

The public contract: ``timestamp`` (ISO 8601; naive means UTC), ``energy_kwh``, optional
drivers (``outdoor_temp_c``, ``production_units``, ``operating_hours`` and any other numeric
column) and an optional ``is_anomaly`` label. Every problem is collected with the line (or
JSON item) and the column it is in; one problem rejects the whole file, so an import never
half-happens. Values must be finite and plausible (:class:`Plausibility`, from
``ENMS_IMPORTS__MAX_KWH_PER_INTERVAL`` and ``ENMS_IMPORTS__MAX_ABS_DRIVER``), so sums and
means over the stored readings stay finite. Duplicate timestamps (the last one wins) and
gaps are not errors: they are reported in the summary.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np
import pandas as pd
from pandas.api.types import is_bool_dtype, is_numeric_dtype

from enms.core.config import ImportSettings
from enms.core.errors import InvalidFile

TIMESTAMP = "timestamp"
ENERGY = "energy_kwh"
LABEL = "is_anomaly"
KNOWN_DRIVERS = ("outdoor_temp_c", "production_units", "operating_hours")
MAX_REPORTED = 20
_TRUE = {"1", "true", "t", "yes", "y"}
_FALSE = {"0", "false", "f", "no", "n"}


@dataclass(frozen=True)
class Plausibility:
    """Bounds beyond which a value is refused as implausible (a meter or export error)."""

    max_kwh_per_interval: float = 1e9
    max_abs_driver: float = 1e12

    @classmethod
    def from_settings(cls, imports: ImportSettings) -> Plausibility:
        """The bounds configured in ``ENMS_IMPORTS__*``."""
        return cls(imports.max_kwh_per_interval, imports.max_abs_driver)


@dataclass
class Problem:
    """One reason a file was rejected."""

    location: str
    column: str
    value: str
    problem: str

    def __str__(self) -> str:
        shown = f" {self.value!r}" if self.value != "" else ""
        return f"{self.location}, column {self.column}:{shown} {self.problem}"


@dataclass
class ParsedReadings:
    """A validated batch: one row per timestamp, sorted, UTC-indexed."""

    frame: pd.DataFrame
    rows_read: int
    known_drivers: list[str]
    extra_drivers: list[str]
    has_label: bool
    duplicates: int = 0
    duplicate_examples: list[str] = field(default_factory=list)
    interval_seconds: float | None = None
    gaps: int = 0
    gap_examples: list[dict[str, Any]] = field(default_factory=list)


def _utf8(data: bytes) -> str:
    """The CSV bytes as text (UTF-8, with or without a byte-order mark)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidFile(
            f"the file is not UTF-8 text: byte 0x{data[exc.start]:02x} at offset {exc.start} "
            "(save the CSV as UTF-8)",
            details={"offset": exc.start},
        ) from exc


def parse_csv(data: bytes | str, *, limits: Plausibility | None = None) -> ParsedReadings:
    """Parse and validate CSV text; raise :class:`InvalidFile` naming every problem found."""
    text = _utf8(data) if isinstance(data, bytes) else data
    if not text.strip():
        raise InvalidFile("the file is empty: expected a header line with timestamp,energy_kwh")
    try:
        # The C parser types clean numeric columns itself (the fast path); a column with
        # anything non-numeric stays text and is examined cell by cell. Only an empty cell
        # means "missing".
        raw = pd.read_csv(
            io.StringIO(text),
            dtype={TIMESTAMP: str},
            keep_default_na=False,
            na_values=[""],
            skipinitialspace=True,
        )
    except (pd.errors.ParserError, ValueError) as exc:
        raise InvalidFile(f"the file is not valid CSV: {exc}") from exc
    raw.columns = [str(c).strip() for c in raw.columns]
    return validate(raw, lambda i: f"line {i + 2}", limits)


def parse_records(
    records: list[dict[str, Any]], *, limits: Plausibility | None = None
) -> ParsedReadings:
    """Validate a JSON batch (a list of reading objects) with the same rules as a CSV."""
    if not records:
        raise InvalidFile("the batch is empty: send at least one reading")
    raw = pd.DataFrame.from_records(records)
    if TIMESTAMP in raw.columns:
        raw[TIMESTAMP] = raw[TIMESTAMP].astype(object).where(raw[TIMESTAMP].notna(), "")
        raw[TIMESTAMP] = raw[TIMESTAMP].astype(str)
    return validate(raw, lambda i: f"readings[{i}]", limits)


def validate(
    raw: pd.DataFrame, where: Callable[[int], str], limits: Plausibility | None = None
) -> ParsedReadings:
    """Validate a frame (one column per CSV column) into :class:`ParsedReadings`."""
    limits = limits or Plausibility()
    problems = _Problems()
    raw = raw.rename(columns=_canonical_names(list(raw.columns)))
    _check_header(raw)
    n = len(raw)
    if n == 0:
        raise InvalidFile("the file has a header but no readings")
    stamps = raw[TIMESTAMP].fillna("").astype(str).str.strip()
    ts = pd.to_datetime(stamps, format="ISO8601", utc=True, errors="coerce")
    _collect(
        problems, stamps, ts.isna().to_numpy(), where, TIMESTAMP, "is not an ISO 8601 timestamp"
    )

    frame = pd.DataFrame(index=pd.DatetimeIndex(ts, name="ts"))
    energy = _numeric(raw[ENERGY], ENERGY, problems, where, required=True)
    negative = energy < 0
    _collect(
        problems,
        raw[ENERGY],
        negative,
        where,
        ENERGY,
        "is negative (energy use cannot be below zero)",
    )
    _collect(
        problems,
        raw[ENERGY],
        energy > limits.max_kwh_per_interval,
        where,
        ENERGY,
        f"is implausible: above {limits.max_kwh_per_interval:g} kWh for one reading "
        "(ENMS_IMPORTS__MAX_KWH_PER_INTERVAL)",
    )
    frame[ENERGY] = energy
    known = [c for c in KNOWN_DRIVERS if c in raw.columns]
    extra = [c for c in raw.columns if c not in (TIMESTAMP, ENERGY, LABEL, *KNOWN_DRIVERS)]
    for column in (*known, *extra):
        values = _numeric(raw[column], column, problems, where, required=False)
        _collect(
            problems,
            raw[column],
            np.abs(values) > limits.max_abs_driver,
            where,
            column,
            f"is implausible: its magnitude is above {limits.max_abs_driver:g} "
            "(ENMS_IMPORTS__MAX_ABS_DRIVER)",
        )
        frame[column] = values
    has_label = LABEL in raw.columns
    if has_label:
        frame[LABEL] = _boolean(raw[LABEL], problems, where)
    if problems:
        _reject(problems)
    return _summarise(frame, n, known, extra, has_label, stamps, where)


class _Problems(list[Problem]):
    """The problems kept for the report (at most ``MAX_REPORTED`` per column and kind), and
    how many there were in all."""

    total: int = 0


def _canonical_names(columns: list[object]) -> dict[object, str]:
    """Known column names match whatever their case (``Energy_kWh`` is ``energy_kwh``)."""
    known = {c: c for c in (TIMESTAMP, ENERGY, LABEL, *KNOWN_DRIVERS)}
    out: dict[object, str] = {}
    for column in columns:
        name = str(column).strip()
        out[column] = known.get(name.lower(), name)
    return out


def _check_header(raw: pd.DataFrame) -> None:
    columns = [str(c) for c in raw.columns]
    missing = [c for c in (TIMESTAMP, ENERGY) if c not in columns]
    if missing:
        hint = ""
        if any(";" in c for c in columns):
            hint = (
                " — the file looks semicolon-separated: save it as comma-separated "
                "values with '.' as the decimal mark"
            )
        raise InvalidFile(
            f"missing required column(s) {', '.join(missing)}; the header has: "
            f"{', '.join(columns) or '(nothing)'}{hint}",
            details={"missing_columns": missing, "columns": columns},
        )
    dupes = sorted(
        {
            c
            for c in columns
            if columns.count(c) > 1
            or (c.rsplit(".", 1)[0] in columns and c.rsplit(".", 1)[-1].isdigit())
        }
    )
    unnamed = [c for c in columns if c == "" or c.startswith("Unnamed:")]
    if dupes or unnamed:
        raise InvalidFile(
            f"the header has duplicate or empty column names: {dupes + unnamed}",
            details={"columns": columns},
        )


def _numeric(
    column_values: pd.Series,
    column: str,
    problems: list[Problem],
    where: Callable[[int], str],
    *,
    required: bool,
) -> np.ndarray[Any, np.dtype[np.float64]]:
    if is_numeric_dtype(column_values) and not is_bool_dtype(column_values):
        values = column_values.to_numpy(dtype=float, na_value=np.nan)
        missing = np.isnan(values)
        bad = np.zeros(len(values), dtype=bool)
    else:
        text = column_values.astype(object).where(column_values.notna(), "").astype(str).str.strip()
        missing = (text == "").to_numpy()
        coerced = pd.to_numeric(text.where(~missing, None), errors="coerce")
        values = np.asarray(coerced, dtype=float)
        bad = np.isnan(values) & ~missing
    infinite = np.isinf(values)
    _collect(problems, column_values, infinite, where, column, "is not a finite number")
    # Comparisons below treat an infinity as reported already, not as implausible too.
    values = np.where(infinite, np.nan, values)
    kind = (
        "is not a number"
        if column in (ENERGY, *KNOWN_DRIVERS)
        else (
            "is not a number (every column other than timestamp and is_anomaly must be a "
            "numeric driver)"
        )
    )
    _collect(problems, column_values, bad, where, column, kind)
    if required:
        _collect(problems, column_values, missing, where, column, "is empty (a value is required)")
    return values


def _boolean(
    column_values: pd.Series, problems: list[Problem], where: Callable[[int], str]
) -> np.ndarray[Any, Any]:
    text = column_values.astype(object).where(column_values.notna(), "").astype(str)
    lowered = text.str.strip().str.lower().str.replace(r"\.0$", "", regex=True)
    known = lowered.isin(_TRUE | _FALSE) | (lowered == "")
    _collect(
        problems,
        text,
        ~known.to_numpy(),
        where,
        LABEL,
        "is not a boolean (use true/false, 1/0, yes/no or leave empty)",
    )
    out = pd.Series(pd.NA, index=text.index, dtype="boolean")
    out[lowered.isin(_TRUE)] = True
    out[lowered.isin(_FALSE)] = False
    return out.to_numpy()


def _collect(
    problems: list[Problem],
    source: pd.Series,
    mask: np.ndarray[Any, Any],
    where: Callable[[int], str],
    column: str,
    message: str,
) -> None:
    if isinstance(problems, _Problems):
        problems.total += int(np.count_nonzero(mask))
    for i in np.flatnonzero(mask)[:MAX_REPORTED]:
        value = source.iloc[i]
        shown = "" if value is None or (isinstance(value, float) and np.isnan(value)) else value
        problems.append(Problem(where(int(i)), column, str(shown), message))


def _reject(problems: list[Problem]) -> None:
    problems.sort(key=lambda p: _location_key(p.location))
    first = problems[0]
    total = max(len(problems), problems.total if isinstance(problems, _Problems) else 0)
    more = f" (and {total - 1:,} more problem(s))" if total > 1 else ""
    raise InvalidFile(
        f"rejected, nothing was imported: {first}{more}",
        details={
            "problem_count": total,
            "problems": [
                {"location": p.location, "column": p.column, "value": p.value, "problem": p.problem}
                for p in problems[:MAX_REPORTED]
            ],
        },
    )


def _location_key(location: str) -> int:
    digits = "".join(ch for ch in location if ch.isdigit())
    return int(digits) if digits else 0


def _summarise(
    frame: pd.DataFrame,
    rows_read: int,
    known: list[str],
    extra: list[str],
    has_label: bool,
    stamps: pd.Series,
    where: Callable[[int], str],
) -> ParsedReadings:
    dup_mask = frame.index.duplicated(keep="last")
    duplicates = int(dup_mask.sum())
    examples = [
        f"{where(int(i))}: {stamps.iloc[i]} appears again later (the later row is kept)"
        for i in np.flatnonzero(dup_mask)[:5]
    ]
    frame = frame[~dup_mask].sort_index()
    parsed = ParsedReadings(frame, rows_read, known, extra, has_label, duplicates, examples)
    if len(frame) >= 2:
        index = cast(pd.DatetimeIndex, frame.index)
        steps = np.diff(index.as_unit("ns").asi8) / 1e9
        interval = float(np.median(steps))
        parsed.interval_seconds = interval
        gap_at = np.flatnonzero(steps > 1.5 * interval)
        parsed.gaps = len(gap_at)
        parsed.gap_examples = [
            {
                "after": frame.index[i].isoformat(),
                "before": frame.index[i + 1].isoformat(),
                "missing_intervals": round(steps[i] / interval) - 1,
            }
            for i in gap_at[:10]
        ]
    return parsed
