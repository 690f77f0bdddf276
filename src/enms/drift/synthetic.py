"""Seeded synthetic residual streams and a vectorised detector runner, for measuring rates.

Owns the simulation the tests and benchmarks use to state detection rates, delays and
false-alarm rates honestly: :func:`residual_streams` draws ``(streams, time)`` arrays of
AR(1) residuals with unit marginal variance and one injected change, and :func:`run_batch`
runs a :class:`~enms.drift.cusum.TwoSidedCusum` over every stream at once with the same
arithmetic as its scalar :meth:`update` (a test checks they agree sample by sample).

Change types, injected at ``change_at`` (in marginal σ of the residuals):

* ``"none"`` — control;
* ``"shift"`` — abrupt mean shift of ``+magnitude``;
* ``"ramp"`` — linear mean drift reaching ``+magnitude`` after ``ramp_length`` samples,
  then constant;
* ``"variance"`` — the innovations' variance multiplied by ``2·magnitude`` (a doubling at
  the default ``magnitude = 1``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import signal

from enms.drift.cusum import MeanCusum, TwoSidedCusum
from enms.drift.whitening import ResidualWhitener

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
CHANGE_TYPES = ("none", "shift", "ramp", "variance")


def residual_streams(
    *,
    change: str,
    phi: float,
    n_streams: int,
    n_reference: int,
    n_monitor: int,
    change_at: int,
    seed: int,
    magnitude: float = 1.0,
    ramp_length: int = 200,
) -> tuple[FloatArray, FloatArray]:
    """Reference and monitored residuals, shapes ``(n_streams, n_reference|n_monitor)``.

    The AR(1) process ``x_t = φ·x_{t−1} + √(1−φ²)·ε_t`` starts from its stationary law, so
    ``x`` has unit marginal variance; ``change_at`` indexes the monitored part.
    """
    if change not in CHANGE_TYPES:
        raise ValueError(f"change must be one of {CHANGE_TYPES}, got {change!r}")
    rng = np.random.default_rng(seed)
    n = n_reference + n_monitor
    eps = rng.standard_normal((n_streams, n)) * math.sqrt(1.0 - phi**2)
    start = n_reference + change_at
    if change == "variance":
        eps[:, start:] *= math.sqrt(2.0 * magnitude)
    eps[:, 0] = rng.standard_normal(n_streams)
    x = np.asarray(signal.lfilter([1.0], [1.0, -phi], eps, axis=1), dtype=np.float64)
    if change == "shift":
        x[:, start:] += magnitude
    elif change == "ramp":
        steps = np.arange(n - start, dtype=np.float64)
        x[:, start:] += magnitude * np.minimum(1.0, (steps + 1.0) / ramp_length)
    return x[:, :n_reference], x[:, n_reference:]


@dataclass(frozen=True)
class BatchAlarms:
    """Every alarm of a batch run: stream index, sample index and change-point estimate."""

    stream: IntArray
    at: IntArray
    change_point: IntArray
    n_streams: int
    n_samples: int

    def first_after(self, t0: int) -> tuple[IntArray, IntArray]:
        """Per stream, the first alarm at or after ``t0`` and its change point (−1: none)."""
        first = np.full(self.n_streams, -1, dtype=np.int64)
        cp = np.full(self.n_streams, -1, dtype=np.int64)
        # Alarms are in time order; write in reverse so the earliest wins.
        for s, t, c in zip(self.stream[::-1], self.at[::-1], self.change_point[::-1], strict=True):
            if t >= t0:
                first[s], cp[s] = t, c
        return first, cp

    def count_before(self, t0: int) -> int:
        """Number of alarms strictly before ``t0`` (false alarms when the change is at t0)."""
        return int(np.sum(self.at < t0))


def run_batch(detector: TwoSidedCusum, z: FloatArray) -> BatchAlarms:
    """Run ``detector``'s recursion over each row of ``z`` (restarting after each alarm)."""
    n_streams, n_samples = z.shape
    up_inc, down_inc = detector.increments(z)
    g_up = np.zeros(n_streams)
    g_down = np.zeros(n_streams)
    start_up = np.zeros(n_streams, dtype=np.int64)
    start_down = np.zeros(n_streams, dtype=np.int64)
    n = np.zeros(n_streams, dtype=np.int64)
    streams, ats, cps = [], [], []
    for t in range(n_samples):
        g_up = np.maximum(0.0, g_up + up_inc[:, t])
        g_down = np.maximum(0.0, g_down + down_inc[:, t])
        n += 1
        start_up[g_up == 0.0] = t + 1
        start_down[g_down == 0.0] = t + 1
        hit = (n >= detector.min_samples) & (np.maximum(g_up, g_down) > detector.h)
        if hit.any():
            idx = np.flatnonzero(hit)
            up_wins = g_up[idx] >= g_down[idx]
            streams.append(idx)
            ats.append(np.full(len(idx), t, dtype=np.int64))
            cps.append(np.where(up_wins, start_up[idx], start_down[idx]))
            g_up[idx], g_down[idx], n[idx] = 0.0, 0.0, 0
            start_up[idx], start_down[idx] = t + 1, t + 1

    def cat(parts: list[IntArray]) -> IntArray:
        return np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, np.int64)

    order = np.argsort(cat(ats), kind="stable")
    return BatchAlarms(
        stream=cat(streams)[order],
        at=cat(ats)[order],
        change_point=cat(cps)[order],
        n_streams=n_streams,
        n_samples=n_samples,
    )


def whiten_batch(reference: FloatArray, monitor: FloatArray) -> FloatArray:
    """Whiten each monitored stream with a :class:`ResidualWhitener` fitted on its reference."""
    out = np.empty_like(monitor)
    for i in range(len(monitor)):
        out[i] = ResidualWhitener().fit(reference[i]).transform(monitor[i])
    return out


def false_alarm_rate(
    detector: TwoSidedCusum,
    *,
    phi: float = 0.5,
    n_streams: int = 400,
    n_samples: int = 5000,
    n_reference: int = 1000,
    seed: int = 0,
) -> float:
    """False alarms per 1,000 samples on no-change AR(1) streams, after whitening.

    Each stream's whitener is fitted on its own reference of ``n_reference`` samples, so the
    rate includes the effect of estimating location, scale and φ — as in service.
    """
    ref, mon = residual_streams(
        change="none",
        phi=phi,
        n_streams=n_streams,
        n_reference=n_reference,
        n_monitor=n_samples,
        change_at=n_samples,
        seed=seed,
    )
    alarms = run_batch(detector, whiten_batch(ref, mon))
    return 1000.0 * len(alarms.at) / (n_streams * n_samples)


@dataclass(frozen=True)
class SuiteResult:
    """Detection figures of a set of detectors on one change type (any detector alarms)."""

    change: str
    phi: float
    n_streams: int
    n_samples: int
    detection_rate: float
    """Share of streams with an alarm at or after the change (nan for controls)."""
    median_delay: float
    """Median samples from the change to that alarm (nan when none detected)."""
    median_change_point_error: float
    """Median ``|estimated − true|`` change point over detected streams, in samples."""
    false_alarms_per_1000: float
    """Alarms before the change per 1,000 pre-change samples."""


def evaluate(
    detectors: Sequence[TwoSidedCusum],
    *,
    change: str,
    phi: float,
    n_streams: int = 200,
    n_reference: int = 1000,
    n_monitor: int = 2000,
    change_at: int = 1000,
    seed: int = 0,
) -> SuiteResult:
    """Whiten seeded streams and run ``detectors`` together (an alarm of any counts)."""
    cut = n_monitor if change == "none" else change_at
    ref, mon = residual_streams(
        change=change,
        phi=phi,
        n_streams=n_streams,
        n_reference=n_reference,
        n_monitor=n_monitor,
        change_at=cut,
        seed=seed,
    )
    z = whiten_batch(ref, mon)
    first = np.full(n_streams, np.iinfo(np.int64).max)
    cp = np.full(n_streams, -1, dtype=np.int64)
    false_alarms = 0
    for detector in detectors:
        alarms = run_batch(detector, z)
        false_alarms += alarms.count_before(cut)
        at, point = alarms.first_after(cut)
        better = (at >= 0) & (at < first)
        first[better], cp[better] = at[better], point[better]
    detected = cp >= 0
    delays = first[detected] - cut
    return SuiteResult(
        change=change,
        phi=phi,
        n_streams=n_streams,
        n_samples=n_monitor,
        detection_rate=math.nan if change == "none" else float(detected.mean()),
        median_delay=float(np.median(delays)) if detected.any() else math.nan,
        median_change_point_error=(
            float(np.median(np.abs(cp[detected] - cut))) if detected.any() else math.nan
        ),
        false_alarms_per_1000=1000.0 * false_alarms / (n_streams * cut),
    )


@dataclass(frozen=True)
class OracleResult:
    """The optimal detector's figures at a false-alarm budget (see :func:`optimal_cusum`)."""

    h: float
    false_alarms_per_1000: float
    median_delay: float


def optimal_cusum(
    *,
    phi: float,
    budget_per_1000: float = 0.2,
    n_controls: int = 400,
    n_control_samples: int = 5000,
    n_streams: int = 200,
    seed: int = 21,
) -> OracleResult:
    """The reference for a 1 σ abrupt shift of AR(1) residuals: the CUSUM optimal for exactly
    that change (Lorden 1971, Moustakides 1986), with nothing estimated.

    The streams are whitened with the true φ and scale; ``k`` is half the whitened shift
    ``(1 − φ)/√(1 − φ²)``; no variance detector runs beside it, so the whole budget is the
    mean test's. The threshold is the smallest on a 0.25 grid whose seeded controls
    (``n_controls`` × ``n_control_samples``, seed ``seed``) stay within ``budget_per_1000``;
    the median delay is measured on ``n_streams`` shifted streams (seed ``seed + 1``, change at
    sample 1,000 of 2,000). Any detector that estimates its parameters, watches both sides
    and also variance can only be slower at the same budget.
    """
    scale = math.sqrt(1.0 - phi**2)

    def whitened(x: FloatArray) -> FloatArray:
        z = np.empty_like(x)
        z[:, 0] = x[:, 0]
        z[:, 1:] = (x[:, 1:] - phi * x[:, :-1]) / scale
        return z

    _, controls = residual_streams(
        change="none", phi=phi, n_streams=n_controls, n_reference=1,
        n_monitor=n_control_samples, change_at=n_control_samples, seed=seed,
    )  # fmt: skip
    _, shifted = residual_streams(
        change="shift", phi=phi, n_streams=n_streams, n_reference=1, n_monitor=2000,
        change_at=1000, seed=seed + 1,
    )  # fmt: skip
    zc, zs = whitened(controls), whitened(shifted)
    k = (1.0 - phi) / scale / 2.0
    for h in np.arange(4.0, 30.0, 0.25):
        rate = 1000.0 * len(run_batch(MeanCusum(k=k, h=float(h), min_samples=1), zc).at) / zc.size
        if rate <= budget_per_1000:
            at, _ = run_batch(MeanCusum(k=k, h=float(h), min_samples=1), zs).first_after(1000)
            delay = float(np.median(at[at >= 0] - 1000)) if (at >= 0).any() else math.nan
            return OracleResult(float(h), rate, delay)
    raise ValueError(f"no threshold up to 30 keeps the controls within {budget_per_1000}")
