"""Deterministic synthetic plant: eight machines, a year of readings, and the truth behind them.

Everything the readings are made of is returned next to them (:class:`MachineTruth`), so
tests can check that the models recover it. For every interval::

    energy = intercept + Σ coefficient·driver + heating_slope·max(0, Tb_h − T)
             + cooling_slope·max(0, T − Tb_c) + N(0, noise_sd²)

with ``operating_hours`` (hours of operation inside the interval) from shift schedules in
local time (Europe/Berlin: weekends off, German public holidays from the ``holidays``
package off, random overtime Saturdays and breakdowns), ``production_units`` proportional
to operating time with a varying rate, and an outdoor temperature made of a seasonal cycle,
a day/night cycle and AR(1) weather noise. Coefficients, slopes and noise are per interval
(``intercept_kwh`` and the temperature slopes scale with the interval length; the
per-unit and per-operating-hour coefficients do not).

Injected events (none in the first two months except labelled spikes, so baselines can
train): a product-mix change on the injection moulding line 124 days in (the
``production_units`` coefficient becomes ``coefficient·(1 + magnitude)`` from ``start``),
an efficiency loss on the compressor 151 days in (energy × (1 + magnitude) from ``start``),
and about 40 anomalous spikes a year, from day 14 on, labelled ``is_anomaly=True`` on four
machines. A shorter plant simply has fewer events (``truth.events`` lists what happened). Energy is
clipped at zero (the intercepts make clipping practically never happen).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import holidays
import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy.signal import lfilter

FloatArray = npt.NDArray[np.float64]
TIMEZONE = "Europe/Berlin"
COUNTRY = "DE"


@dataclass(frozen=True)
class InjectedEvent:
    """A change injected into one machine's readings from ``start`` on."""

    kind: str  # "efficiency_loss" | "product_mix_change" | "anomalous_spikes"
    start: pd.Timestamp
    description: str
    magnitude: float


@dataclass(frozen=True)
class MachineTruth:
    """The parameters the readings were generated from (per interval, before events)."""

    intercept_kwh: float
    coefficients: dict[str, float]  # per driver column, kWh per unit (per operating hour)
    heating_balance_c: float | None
    heating_slope: float
    cooling_balance_c: float | None
    cooling_slope: float
    noise_sd_kwh: float
    events: tuple[InjectedEvent, ...]


@dataclass(frozen=True)
class SyntheticMachine:
    """One demo machine: identity, readings (UTC index named ``timestamp``) and truth."""

    name: str
    machine_type: str
    timezone: str
    metadata: dict[str, Any]
    readings: pd.DataFrame
    truth: MachineTruth
    country: str | None = None
    #: Drivers known a day ahead: the production plan and the shift schedule it has.
    planned_drivers: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Spec:
    name: str
    machine_type: str
    shift: tuple[float, float]  # local start/end hour of the working day
    weekdays: int  # working days per week starting Monday (5 or 7)
    base_kw: float
    per_op_hour: float  # kWh per operating hour
    per_unit: float  # kWh per produced unit
    units_per_hour: float
    heating: tuple[float, float] | None  # (balance °C, kW per °C)
    cooling: tuple[float, float] | None
    noise_kwh_15min: float
    spikes: bool = False


_SPECS = (
    _Spec("Compressor C1", "compressor", (0, 24), 5, 60, 70, 0.05, 400, None, None, 2.0),
    _Spec("Furnace F1", "furnace", (6, 22), 5, 120, 150, 0.8, 120, (15, 4), None, 4.0),
    _Spec("Chiller CH1", "chiller", (6, 22), 5, 30, 20, 0.02, 300, None, (16, 9), 1.0),
    _Spec("CNC Line A", "cnc_line", (6, 22), 5, 15, 45, 0.3, 60, None, None, 0.6, True),
    _Spec("Boiler B1", "boiler", (5, 21), 5, 40, 25, 0.1, 200, (15, 12), None, 1.5, True),
    _Spec("HVAC AHU-1", "hvac", (6, 20), 5, 10, 30, 0.0, 0, (14, 5), (19, 7), 0.4, True),
    _Spec("Injection Moulding IM1", "injection_moulding", (0, 24), 5, 25, 60, 0.12, 250, None,
          None, 1.0),
    _Spec("Lighting Hall 1", "lighting", (6, 22), 7, 4, 28, 0.0, 0, None, None, 0.15, True),
)  # fmt: skip


def _local_hours(index: pd.DatetimeIndex) -> tuple[FloatArray, npt.NDArray[np.int64], FloatArray]:
    local = index.tz_convert(TIMEZONE)
    hour = np.asarray(local.hour + local.minute / 60.0, dtype=np.float64)
    day_codes, _ = pd.factorize(local.normalize())
    dow = np.asarray(local.day_of_week, dtype=np.float64)
    return hour, np.asarray(day_codes, dtype=np.int64), dow


def _temperature(
    index: pd.DatetimeIndex, hour: FloatArray, dt_h: float, rng: np.random.Generator
) -> FloatArray:
    doy = np.asarray(index.tz_convert(TIMEZONE).day_of_year, dtype=np.float64) + hour / 24.0
    seasonal = 9.5 - 9.5 * np.cos(2 * np.pi * (doy - 20.0) / 365.25)
    diurnal = 4.0 * np.cos(2 * np.pi * (hour - 15.0) / 24.0)
    phi = float(np.exp(-dt_h / 36.0))  # weather fronts persist for about a day and a half
    shocks = rng.normal(0.0, 3.0 * np.sqrt(1.0 - phi**2), len(index))
    weather: FloatArray = lfilter([1.0], [1.0, -phi], shocks)
    return np.round(seasonal + diurnal + weather, 2).astype(np.float64)


def _operating_hours(
    spec: _Spec,
    hour: FloatArray,
    day: npt.NDArray[np.int64],
    dow: FloatArray,
    off_day: npt.NDArray[np.bool_],
    dt_h: float,
    rng: np.random.Generator,
) -> FloatArray:
    n_days = int(day.max()) + 1
    start = spec.shift[0] + rng.normal(0.0, 0.15, n_days)[day] * (spec.shift[0] > 0)
    end = spec.shift[1] + rng.normal(0.0, 0.25, n_days)[day] * (spec.shift[1] < 24)
    op = np.clip(np.minimum(hour + dt_h, end) - np.maximum(hour, start), 0.0, dt_h)
    working = (dow < spec.weekdays) & ~off_day
    if spec.weekdays == 5:  # overtime on about one Saturday in five, 06:00-14:00
        overtime = (rng.random(n_days) < 0.2)[day] & (dow == 5) & ~off_day
        op_sat = np.clip(np.minimum(hour + dt_h, 14.0) - np.maximum(hour, 6.0), 0.0, dt_h)
        op = np.where(overtime, op_sat, np.where(working, op, 0.0))
    else:
        op = np.where(working, op, 0.0)
    n = len(hour)
    steps = max(1, round(1.0 / dt_h))
    for _ in range(12):  # breakdowns and maintenance stops of 2-8 hours
        s = int(rng.integers(0, n))
        op[s : s + int(rng.integers(2, 9)) * steps] = 0.0
    return np.round(op, 4).astype(np.float64)


def _machine(
    spec: _Spec,
    index: pd.DatetimeIndex,
    temp: FloatArray,
    calendar: tuple[FloatArray, npt.NDArray[np.int64], FloatArray, npt.NDArray[np.bool_]],
    dt_h: float,
    rng: np.random.Generator,
) -> SyntheticMachine:
    hour, day, dow, off_day = calendar
    n = len(index)
    op = _operating_hours(spec, hour, day, dow, off_day, dt_h, rng)
    rate = spec.units_per_hour * np.clip(1.0 + rng.normal(0.0, 0.2, n), 0.2, None)
    units = np.round(rate * op, 2)
    intercept = spec.base_kw * dt_h
    coef = {"production_units": spec.per_unit, "operating_hours": spec.per_op_hour}
    hb, hs = (spec.heating[0], spec.heating[1] * dt_h) if spec.heating else (None, 0.0)
    cb, cs = (spec.cooling[0], spec.cooling[1] * dt_h) if spec.cooling else (None, 0.0)
    unit_coef = np.full(n, spec.per_unit)
    events: list[InjectedEvent] = []
    first_event = index[0] + pd.Timedelta(days=61)
    mix_at = int(index.searchsorted(first_event + pd.Timedelta(days=63)))
    if spec.machine_type == "injection_moulding" and mix_at < n:
        start = index[mix_at]
        unit_coef[mix_at:] *= 1.35
        note = "heavier parts: +35 % kWh per produced unit"
        events.append(InjectedEvent("product_mix_change", start, note, 0.35))
    energy = intercept + unit_coef * units + spec.per_op_hour * op
    if hb is not None:
        energy += hs * np.maximum(0.0, hb - temp)
    if cb is not None:
        energy += cs * np.maximum(0.0, temp - cb)
    noise_sd = spec.noise_kwh_15min * np.sqrt(dt_h / 0.25)
    energy += rng.normal(0.0, noise_sd, n)
    leak_at = int(index.searchsorted(first_event + pd.Timedelta(days=90)))
    if spec.machine_type == "compressor" and leak_at < n:
        start = index[leak_at]
        energy[leak_at:] *= 1.12
        note = "compressed-air leak: +12 % energy"
        events.append(InjectedEvent("efficiency_loss", start, note, 0.12))
    label = np.zeros(n, dtype=bool)
    candidates = np.arange(int(14 * 24 / dt_h), n - 8)  # spikes from day 14 on
    n_spikes = max(1, round(40 * n * dt_h / (365 * 24)))  # about 40 a year
    if spec.spikes and candidates.size >= n_spikes:
        level = float(np.mean(energy))
        starts = np.sort(rng.choice(candidates, n_spikes, replace=False))
        sizes = rng.uniform(0.5, 1.2, n_spikes)
        for s, size in zip(starts, sizes, strict=True):
            length = int(rng.integers(1, 5))  # 1-4 intervals
            energy[s : s + length] += size * level
            label[s : s + length] = True
        note = f"{n_spikes} labelled spikes of 0.5-1.2 x mean energy, 1-4 intervals long"
        events.append(
            InjectedEvent("anomalous_spikes", index[starts[0]], note, float(sizes.mean()))
        )
    readings = pd.DataFrame(
        {
            "energy_kwh": np.round(np.maximum(energy, 0.0), 3),
            "outdoor_temp_c": temp,
            "production_units": units,
            "operating_hours": op,
            "is_anomaly": label,
        },
        index=index,
    )
    truth = MachineTruth(intercept, coef, hb, hs, cb, cs, float(noise_sd), tuple(events))
    metadata = {"site": "Demo Plant Nord", "nominal_kw": spec.base_kw}
    planned = ("production_units",) if spec.units_per_hour > 0 else ()
    return SyntheticMachine(
        spec.name,
        spec.machine_type,
        TIMEZONE,
        metadata,
        readings,
        truth,
        country=COUNTRY,
        planned_drivers=(*planned, "operating_hours"),
    )


def generate_plant(
    *, seed: int = 42, start: date = date(2025, 1, 1), days: int = 365, freq: str = "15min"
) -> list[SyntheticMachine]:
    """Generate the demo plant: the same seed and arguments always give the same readings.

    ``start`` is a local (Europe/Berlin) calendar day; the readings cover ``days`` days at
    ``freq``, indexed in UTC.

    >>> plant = generate_plant(days=70, freq="h")
    >>> len(plant), plant[0].readings.shape, str(plant[0].readings.index.tz)
    (8, (1680, 5), 'UTC')
    """
    first = pd.Timestamp(start, tz=TIMEZONE)
    end = first + pd.DateOffset(days=days)
    index = pd.date_range(first, end, freq=freq, inclusive="left").tz_convert("UTC")
    index.name = "timestamp"
    pair = pd.date_range(first, periods=2, freq=freq)
    dt_h = (pair[1] - pair[0]) / pd.Timedelta(hours=1)
    rng = np.random.default_rng(seed)
    hour, day, dow = _local_hours(index)
    local = index.tz_convert(TIMEZONE)
    years = range(int(local[0].year), int(local[-1].year) + 1)
    calendar_de = holidays.country_holidays(COUNTRY, years=years)
    unique_days = pd.unique(local.normalize().date)
    is_holiday = np.array([d in calendar_de for d in unique_days], dtype=bool)
    off_day = is_holiday[day]
    temp = _temperature(index, hour, dt_h, rng)
    cal = (hour, day, dow, off_day)
    return [_machine(spec, index, temp, cal, dt_h, rng) for spec in _SPECS]
