"""Result rows shared by every benchmark scenario and the table/JSON they are reported in.

A scenario is a module in ``benchmarks/scenarios/`` exposing ``NAME: str`` and
``run(*, quick: bool) -> list[Row]``. Every figure is reported next to a reference measured
in the same run (a floor such as plain ``executemany`` or ``COPY``), so results are ratios
that survive a slower or busier machine; absolute targets, where an issue sets one, are
given as ``target`` with ``higher_is_better`` telling which side passes.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass(frozen=True)
class Row:
    """One measured figure, optionally with its same-run reference and its target."""

    scenario: str
    case: str
    value: float
    unit: str
    reference_name: str | None = None
    reference_value: float | None = None
    target: float | None = None
    target_on: str = "ratio"  # "ratio" (value/reference) or "value"
    higher_is_better: bool = True
    note: str = ""

    @property
    def ratio(self) -> float | None:
        """``value / reference_value`` when a reference was measured."""
        if self.reference_value in (None, 0):
            return None
        return self.value / self.reference_value

    @property
    def passed(self) -> bool | None:
        """Whether the target holds; None when the row has no target."""
        if self.target is None:
            return None
        measured = self.ratio if self.target_on == "ratio" else self.value
        if measured is None:
            return None
        return measured >= self.target if self.higher_is_better else measured <= self.target


def format_table(rows: list[Row]) -> str:
    """Render rows as a fixed-width text table."""
    header = ("scenario", "case", "value", "unit", "reference", "ratio", "target", "ok")
    lines = [header]
    for r in rows:
        ref = "" if r.reference_value is None else f"{r.reference_name}={r.reference_value:,.4g}"
        ratio = "" if r.ratio is None else f"{r.ratio:.2f}"
        target = ""
        if r.target is not None:
            sign = ">=" if r.higher_is_better else "<="
            target = f"{r.target_on} {sign} {r.target:g}"
        ok = {None: "", True: "yes", False: "NO"}[r.passed]
        lines.append((r.scenario, r.case, f"{r.value:,.4g}", r.unit, ref, ratio, target, ok))
    widths = [max(len(str(line[i])) for line in lines) for i in range(len(header))]
    return "\n".join(
        "  ".join(str(c).ljust(w) for c, w in zip(line, widths, strict=True)) for line in lines
    )


def write_json(rows: list[Row], path: Path) -> None:
    """Write rows (with derived ratio and pass flag) as a JSON list."""
    data = [asdict(r) | {"ratio": r.ratio, "passed": r.passed} for r in rows]
    path.write_text(json.dumps(data, indent=2) + "\n")
