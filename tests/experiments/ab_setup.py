"""Shared set-up of the A/B stage's tests: a machine with two registered baseline versions
(v1 champion, v2 challenger) and their shadow-scored points written to the prediction log."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd

from enms.core.clock import Clock
from enms.core.db import SessionFactory, session_scope
from enms.predictions import repository as log
from enms.predictions.models import PredictionBatch
from tests.factories import make_machine
from tests.registry.versions import register_baseline


@dataclass(frozen=True)
class Pair:
    machine_id: int
    a_id: int  # version 1, champion
    b_id: int  # version 2, challenger


def make_pair(factory: SessionFactory, clock: Clock, name: str = "Compressor 1") -> Pair:
    """A machine with v1 (champion) and v2 (challenger) of its baseline."""
    with session_scope(factory, write=True) as s:
        machine_id = make_machine(s, clock, name=name).id
        a = register_baseline(s, clock, machine_id).id
        b = register_baseline(s, clock, machine_id).id
    return Pair(machine_id, a, b)


def ar1(rng: np.random.Generator, n: int, phi: float, sd: float) -> np.ndarray:
    """A stationary AR(1) series with marginal standard deviation ``sd``."""
    out = np.empty(n)
    out[0] = rng.normal(0, sd)
    innovation = sd * np.sqrt(1 - phi**2)
    for i in range(1, n):
        out[i] = phi * out[i - 1] + rng.normal(0, innovation)
    return out


def simulate(
    start: datetime, hours: int, *, seed: int, b_scale: float, phi: float = 0.8
) -> tuple[pd.DatetimeIndex, np.ndarray, np.ndarray, np.ndarray]:
    """Hourly actuals and the predictions of A and B: autocorrelated errors with a shared
    component (both predict the same reading) and B's error scaled by ``b_scale``."""
    rng = np.random.default_rng(seed)
    ts = pd.date_range(start, periods=hours, freq="h", tz="UTC")
    actual = 100 + 10 * np.sin(2 * np.pi * np.arange(hours) / 24) + rng.normal(0, 1, hours)
    shared = ar1(rng, hours, phi, 3.0)
    err_a = shared + ar1(rng, hours, phi, 4.0)
    err_b = b_scale * (shared + ar1(rng, hours, phi, 4.0))
    return ts, actual, actual - err_a, actual - err_b


def log_points(
    factory: SessionFactory,
    pair: Pair,
    model_id: int,
    ts: pd.DatetimeIndex,
    actual: np.ndarray,
    predicted: np.ndarray,
    arm: list[str | None] | None = None,
) -> None:
    """Write shadow-scored points (baselines: origin = target timestamp)."""
    frame = pd.DataFrame({"predicted": predicted, "actual": actual}, index=ts)
    if arm is not None:
        frame["arm"] = arm
    now = ts[-1].to_pydatetime()
    with session_scope(factory, write=True) as s:
        batch = PredictionBatch(
            model_id=model_id, machine_id=pair.machine_id, model_type="baseline",
            source="shadow", drivers_used=[], window_start=ts[0].to_pydatetime(),
            window_end=now, created_at=now,
        )  # fmt: skip
        assert log.insert_points(s, batch=batch, frame=frame) == len(frame)
