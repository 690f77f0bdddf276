"""Evidently's side of the data-drift benchmark; runs in ``benchmarks/.venvs/evidently``.

Usage: ``python evidently_drift.py WORK_DIR THRESHOLD DRIFT_SHARE``. ``WORK_DIR`` holds
``reference.npy`` and ``current.npy`` (rows × columns, float64) and ``columns.json`` (their
names), written by :mod:`benchmarks.scenarios.drift_evidently`. The script builds the two
DataFrames, then times Evidently's ``DataDriftPreset(method="wasserstein", threshold=…,
drift_share=…)`` — ``Dataset.from_pandas`` of both windows and ``Report.run``, nothing
rendered — and, separately, Evidently's registered ``wasserstein`` stattest function called
directly on each column (its bare statistic, no report), and its ``psi`` stattest (Sturges
bins on the pooled data, its default; reported only). It writes ``result.json``.

Evidently's verdict per column for the normed Wasserstein test is ``value >= threshold``
(``_wasserstein_distance_norm``); the preset reports the value, and the drifted count it
reports is checked against that rule.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

T_START = time.perf_counter()

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from evidently import DataDefinition, Dataset, Report  # type: ignore[import-not-found]  # noqa: E402
from evidently.legacy.calculations.stattests.psi import _psi  # type: ignore[import-not-found]  # noqa: E402
from evidently.legacy.calculations.stattests.wasserstein_distance_norm import (  # type: ignore[import-not-found]  # noqa: E402
    _wasserstein_distance_norm,
)
from evidently.legacy.core import ColumnType  # type: ignore[import-not-found]  # noqa: E402
from evidently.presets import DataDriftPreset  # type: ignore[import-not-found]  # noqa: E402


def main() -> None:
    work, threshold, share = Path(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
    imported = time.perf_counter()
    columns = json.loads((work / "columns.json").read_text())
    reference = pd.DataFrame(np.load(work / "reference.npy"), columns=columns)
    current = pd.DataFrame(np.load(work / "current.npy"), columns=columns)
    loaded = time.perf_counter()

    definition = DataDefinition(numerical_columns=columns)
    report = Report([DataDriftPreset(method="wasserstein", threshold=threshold, drift_share=share)])
    t0 = time.perf_counter()
    snapshot = report.run(
        Dataset.from_pandas(current, data_definition=definition),
        Dataset.from_pandas(reference, data_definition=definition),
    )
    preset_seconds = time.perf_counter() - t0

    values: dict[str, float] = {}
    count = None
    for metric in snapshot.dict()["metrics"]:
        config = metric["config"]
        if config["type"].endswith("ValueDrift"):
            values[config["column"]] = float(metric["value"])
        elif config["type"].endswith("DriftedColumnsCount"):
            count = metric["value"]

    t0 = time.perf_counter()
    numerical = ColumnType.Numerical
    bare = {
        c: float(_wasserstein_distance_norm(reference[c], current[c], numerical, threshold)[0])
        for c in columns
    }
    bare_seconds = time.perf_counter() - t0
    psi = {c: float(_psi(reference[c], current[c], ColumnType.Numerical, 0.2)[0]) for c in columns}

    import evidently

    result = {
        "version": evidently.__version__,
        "values": values,
        "detected": {c: values[c] >= threshold for c in columns},
        "drifted_count": count,
        "bare_values": bare,
        "psi": psi,
        "preset_seconds": preset_seconds,
        "bare_seconds": bare_seconds,
        "import_seconds": imported - T_START,
        "load_seconds": loaded - imported,
        "rows": len(reference),
    }
    (work / "result.json").write_text(json.dumps(result))


if __name__ == "__main__":
    main()
