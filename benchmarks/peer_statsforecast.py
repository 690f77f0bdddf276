"""statsforecast peer for the accuracy benchmark; runs in its own venv (benchmarks/.venvs).

Usage: ``python peer_statsforecast.py IN.npz OUT.json``. ``IN.npz`` holds, per series
``NAME``: ``NAME.y`` (training + scored readings on a regular grid), ``NAME.meta``
(``[per_day, horizon, n_windows, step_size]``). For every series and model the script fits
once on the readings before the first window (``refit=False``: like enms, no refit per
origin) and forecasts every window; it writes the forecasts and the process CPU and wall
time spent on each model, JIT compilation (numba) included: nothing is warmed up first.
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any


def _cpu() -> float:
    t = os.times()
    return t.user + t.system


def main(src: str, dst: str) -> None:
    started_cpu, started = _cpu(), time.perf_counter()
    import numpy as np
    import pandas as pd
    from statsforecast import StatsForecast  # type: ignore[import-not-found]
    from statsforecast.models import MSTL, AutoARIMA, AutoETS  # type: ignore[import-not-found]

    import_cpu = _cpu() - started_cpu
    data = np.load(src)
    names = sorted({k.split(".")[0] for k in data.files})
    out: dict[str, Any] = {"import_cpu_s": import_cpu, "series": {}}
    for name in names:
        y = data[f"{name}.y"]
        per_day, horizon, n_windows, step_size = (int(v) for v in data[f"{name}.meta"])
        df = pd.DataFrame(
            {"unique_id": name, "ds": np.arange(len(y)), "y": pd.Series(y).interpolate().to_numpy()}
        )
        models = {
            "mstl_autoarima": MSTL(
                season_length=[per_day, 7 * per_day], trend_forecaster=AutoARIMA()
            ),
            "mstl_autoets": MSTL(season_length=[per_day, 7 * per_day]),
            "autoets_daily": AutoETS(season_length=per_day),
        }
        results: dict[str, Any] = {}
        for label, model in models.items():
            c0, w0 = _cpu(), time.perf_counter()
            sf = StatsForecast(models=[model], freq=1, n_jobs=1)
            cv = sf.cross_validation(
                df=df, h=horizon, step_size=step_size, n_windows=n_windows, refit=False
            )
            column = next(c for c in cv.columns if c not in ("unique_id", "ds", "cutoff", "y"))
            results[label] = {
                "cutoff": cv["cutoff"].astype(int).tolist(),
                "ds": cv["ds"].astype(int).tolist(),
                "forecast": cv[column].astype(float).tolist(),
                "cpu_s": _cpu() - c0,
                "wall_s": time.perf_counter() - w0,
            }
        out["series"][name] = results
    out["total_wall_s"] = time.perf_counter() - started
    with open(dst, "w") as fh:
        json.dump(out, fh)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
