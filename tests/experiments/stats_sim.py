"""Simulated model errors for the A/B statistics tests (seeded; no database).

What "realistic autocorrelated errors" means here, for two versions A and B scoring the same
readings (15-minute or hourly):

``e_x(t) = s_hour(t) · s_day(t) · (bias + c(t) + 0.5·u_x(t))``, B's scaled by ``ratio_b``

* ``c`` — an AR(1) component both versions share (unmodelled load, meter noise), unit
  variance, coefficient ``phi`` per reading (0.95 at 15 min: a correlation time of hours);
* ``u_a``, ``u_b`` — each version's own AR(1) error, same ``phi`` (the two versions' errors
  correlate at 0.8);
* ``s_hour`` — a daily cycle of the error scale (0.5 at night to 1.5 by day);
* ``s_day`` — a day-to-day scale factor, log-normal with sd 0.25 (weather, production);
* ``bias`` — a constant offset of 0.3 (models are rarely unbiased).

Losses are absolute errors (the MAE basis): ``ratio_b = 0.9`` is a B with a 10 % lower MAE.
Arms come from :func:`enms.experiments.arms.arms_for` on 60-minute slots, one test id per
simulated test.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy.signal import lfilter

from enms.experiments.arms import arms_for

Floats = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Simulated:
    """``n_sims`` tests on one index: absolute errors of A and B per test (rows)."""

    index: pd.DatetimeIndex
    loss_a: Floats
    loss_b: Floats


def _ar1(rng: np.random.Generator, shape: tuple[int, int], phi: float) -> Floats:
    shocks = rng.normal(0.0, np.sqrt(1.0 - phi**2), shape)
    shocks[:, 0] = rng.normal(0.0, 1.0, shape[0])  # start in the stationary distribution
    out: Floats = lfilter([1.0], [1.0, -phi], shocks, axis=1)
    return out


def simulate(
    seed: int,
    n_sims: int,
    days: int,
    *,
    freq: str = "15min",
    phi: float = 0.95,
    ratio_b: float = 1.0,
    start: str = "2026-01-05",
) -> Simulated:
    """``n_sims`` independent tests of ``days`` days (see the module docstring)."""
    rng = np.random.default_rng(seed)
    per_day = int(pd.Timedelta("1D") / pd.Timedelta(freq))
    index = pd.date_range(start, periods=days * per_day, freq=freq, tz="UTC")
    hours = index.hour.to_numpy() + index.minute.to_numpy() / 60.0
    s_hour = 1.0 + 0.5 * np.sin(2.0 * np.pi * (hours - 6.0) / 24.0)
    s_day = np.repeat(np.exp(rng.normal(0.0, 0.25, (n_sims, days))), per_day, axis=1)
    shape = (n_sims, index.size)
    c = _ar1(rng, shape, phi)
    ua, ub = _ar1(rng, shape, phi), _ar1(rng, shape, phi)
    scale = s_hour * s_day
    loss_a = np.abs(scale * (0.3 + c + 0.5 * ua))
    loss_b = np.abs(ratio_b * scale * (0.3 + c + 0.5 * ub))
    return Simulated(index, loss_a, loss_b)


def arms_of(test_id: int, index: pd.DatetimeIndex, split: float = 0.5) -> npt.NDArray[np.bool_]:
    """True where a reading of ``index`` is in arm B (``arms_for`` on its 60-minute slots)."""
    slots = index.floor("60min").as_unit("ns")
    starts, which = np.unique(slots.asi8, return_inverse=True)
    arm = arms_for(test_id, pd.DatetimeIndex(starts, tz="UTC"), split, slot_minutes=60)
    is_b: npt.NDArray[np.bool_] = arm[which] == "b"
    return is_b
