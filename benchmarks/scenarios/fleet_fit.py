"""Fleet-scale baseline fitting: 1,000 hourly machine-years (50 with ``quick``).

Machine-years come from the demo generator at hourly resolution (one plant of eight
machines per seed). Only ``BaselineModel.fit`` is timed: CPU with ``time.process_time``
(all threads of the process) and wall with ``time.perf_counter``. The same-run reference
is the textbook way to fit the chosen model: ``numpy.linalg.lstsq`` on the full design
(constant, 167 hour-of-week dummies, drivers, chosen change-point columns), which only
*evaluates one* balance-point pair, whereas the baseline's time includes the whole grid
search, standard errors and reporting. Both run with BLAS limited to one thread, as the
baseline does internally.

The forecasters add "forecast fit+predict time per machine-day" and "fit CPU per 15-min
machine-year" (``forecast_prophet`` target: 15 s, issue #7) in :func:`forecast_rows`.
"""

from __future__ import annotations

import os
import time

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

from benchmarks.harness import Row
from enms.demo.generator import generate_plant
from enms.ml.baseline import BaselineModel
from enms.ml.features import time_of_week_groups
from enms.ml.forecast_arima import ArimaForecaster
from enms.ml.forecast_prophet import ProphetForecaster

NAME = "fleet_fit"
FULL, QUICK = 1000, 50
CPU_TARGET_MS = 40.0
WALL_TARGET_S_PER_1000 = 60.0
PROPHET_FIT_TARGET_S = 15.0
PLANNED = ("production_units", "operating_hours")  # the demo's shift plan and schedule


def _full_design(model: BaselineModel, frame: pd.DataFrame) -> np.ndarray:
    index = pd.DatetimeIndex(frame.index)
    groups, n_groups = time_of_week_groups(index, model.timezone, model.interval_)
    cols = [np.ones(len(frame)), *np.eye(n_groups)[groups][:, 1:].T]
    # drivers and the chosen weather terms (split by occupancy when the model split them)
    return np.column_stack([*cols, *model.regressors(frame).to_numpy().T])


def _cpu_with_children() -> float:
    # Prophet's Stan optimiser runs as a child process; its CPU counts too.
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def forecast_rows(quick: bool) -> list[Row]:
    """Forecaster fit + a year of day-ahead forecasts, CPU per machine-day.

    Each forecaster is fitted on a machine-year and then issues the rolling day-ahead
    forecasts for that year (one origin per day). The same-run reference is a plain
    ``statsmodels`` ``AutoReg`` with one day of lags fitted and predicted on the same series.
    BLAS is limited to one thread, as for the baseline rows.
    """
    import prophet  # noqa: F401 - imported before timing: the forecasters import it lazily
    from statsmodels.tsa.statespace import sarimax  # noqa: F401 - likewise

    with threadpool_limits(limits=1, user_api="blas"):
        return _forecast_rows(quick)


def _forecast_rows(quick: bool) -> list[Row]:
    from statsmodels.tsa.ar_model import AutoReg

    rows: list[Row] = []
    cases = [("hourly", "h", 2 if quick else 8), ("15-min", "15min", 1 if quick else 2)]
    for label, freq, n_machines in cases:
        machines = generate_plant(seed=0, freq=freq)[:n_machines]
        reference, days = 0.0, 0.0
        for machine in machines:
            y = machine.readings["energy_kwh"].to_numpy()
            lags = len(y) // 365
            c0 = _cpu_with_children()
            AutoReg(y, lags=lags, trend="c").fit().predict()
            reference += _cpu_with_children() - c0
            days += (machine.readings.index[-1] - machine.readings.index[0]) / pd.Timedelta("1D")
        for cls in (ArimaForecaster, ProphetForecaster):
            spent, fit_spent = 0.0, 0.0
            for machine in machines:
                frame = machine.readings
                c0 = _cpu_with_children()
                model = cls(timezone=machine.timezone, drivers=PLANNED).fit(frame)
                c1 = _cpu_with_children()
                model.forecast(frame)
                spent += _cpu_with_children() - c0
                fit_spent += c1 - c0
            if label == "15-min":
                is_prophet = cls is ProphetForecaster
                rows.append(
                    Row(
                        NAME,
                        f"{cls.model_type} fit CPU per 15-min machine-year",
                        fit_spent / n_machines,
                        "s CPU",
                        target=PROPHET_FIT_TARGET_S if is_prophet else None,
                        target_on="value",
                        higher_is_better=False,
                        note=f"mean of {n_machines}; candidate validation + refit of the "
                        "winner; CPU includes child processes (Stan)",
                    )
                )
            rows.append(
                Row(
                    NAME,
                    f"{cls.model_type} fit+predict CPU per {label} machine-day",
                    1000.0 * spent / days,
                    "ms CPU",
                    reference_name="statsmodels_autoreg_one_day_of_lags",
                    reference_value=1000.0 * reference / days,
                    higher_is_better=False,
                    note=f"{n_machines} machine-years; fit on the year, then 365 day-ahead "
                    "forecasts; CPU includes child processes (Stan)",
                )
            )
    return rows


def run(*, quick: bool) -> list[Row]:
    """Fit baselines for a fleet of hourly machine-years and time them; then forecasters."""
    return [*baseline_rows(quick), *forecast_rows(quick)]


def baseline_rows(quick: bool) -> list[Row]:
    """Fit baselines for a fleet of hourly machine-years and time them."""
    target = QUICK if quick else FULL
    cpu: list[float] = []
    wall: list[float] = []
    reference_cpu: list[float] = []
    started = time.perf_counter()
    seed = 0
    while len(cpu) < target:
        for machine in generate_plant(seed=seed, freq="h"):
            if len(cpu) == target:
                break
            frame = machine.readings
            c0, w0 = time.process_time(), time.perf_counter()
            model = BaselineModel().fit(frame)
            cpu.append(time.process_time() - c0)
            wall.append(time.perf_counter() - w0)
            if len(reference_cpu) < 20:
                x, y = _full_design(model, frame), frame["energy_kwh"].to_numpy()
                with threadpool_limits(limits=1, user_api="blas"):
                    c0 = time.process_time()
                    np.linalg.lstsq(x, y, rcond=None)
                    reference_cpu.append(time.process_time() - c0)
        seed += 1
    total_wall = time.perf_counter() - started
    n = len(cpu)
    cpu_ms = 1000.0 * float(np.mean(cpu))
    ref_ms = 1000.0 * float(np.mean(reference_cpu))
    wall_target = WALL_TARGET_S_PER_1000 * n / FULL
    return [
        Row(
            NAME,
            "baseline fit CPU per hourly machine-year",
            cpu_ms,
            "ms CPU",
            reference_name="lstsq_full_design_one_candidate",
            reference_value=ref_ms,
            target=CPU_TARGET_MS,
            target_on="value",
            higher_is_better=False,
            note=f"mean of {n} fits; p95 {1000 * float(np.percentile(cpu, 95)):.1f} ms",
        ),
        Row(
            NAME,
            "baseline fits per second (wall)",
            n / float(np.sum(wall)),
            "fits/s",
            reference_name="lstsq_full_design_one_candidate",
            reference_value=1000.0 / ref_ms,
        ),
        Row(
            NAME,
            f"wall time to fit {n} machine-years",
            float(np.sum(wall)),
            "s",
            target=wall_target,
            target_on="value",
            higher_is_better=False,
            note=f"target {WALL_TARGET_S_PER_1000:g} s per 1,000 scaled to {n}; "
            f"{total_wall:.1f} s including data generation",
        ),
    ]
