"""Run benchmark scenarios, print a table and write JSON.

Usage::

    python -m benchmarks.run                 # every scenario, full size
    python -m benchmarks.run --quick         # small sizes (a smoke run)
    python -m benchmarks.run --only import_readings --json results.json
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from pathlib import Path

from benchmarks import scenarios
from benchmarks.harness import Row, format_table, write_json


def discover() -> dict[str, str]:
    """Scenario name → module path, for every module in ``benchmarks/scenarios``."""
    found = {}
    for info in pkgutil.iter_modules(scenarios.__path__):
        module = importlib.import_module(f"benchmarks.scenarios.{info.name}")
        found[str(getattr(module, "NAME", info.name))] = module.__name__
    return found


def main(argv: list[str] | None = None) -> int:
    """Run the selected scenarios; exit 1 when a target is missed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument("--only", action="append", help="scenario name (repeatable)")
    parser.add_argument(
        "--json",
        type=Path,
        default=Path("benchmarks/results.json"),
        help="where to write the rows as JSON",
    )
    args = parser.parse_args(argv)
    available = discover()
    names = args.only or sorted(available)
    unknown = [n for n in names if n not in available]
    if unknown:
        parser.error(f"unknown scenario(s) {unknown}; available: {sorted(available)}")
    rows: list[Row] = []
    for name in names:
        print(f"running {name}{' (quick)' if args.quick else ''}…", file=sys.stderr, flush=True)
        module = importlib.import_module(available[name])
        rows.extend(module.run(quick=args.quick))
    print(format_table(rows))
    write_json(rows, args.json)
    print(f"\nwrote {args.json}", file=sys.stderr)
    return 1 if any(r.passed is False for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
