"""Two-sample data-drift tests per driver column, chosen by sample size, and their verdicts.

Owns :func:`column_drift` (one column) and :class:`TestResult` (one test's answer). The
test follows the sample size, as Evidently does, because a KS test on 100,000 rows flags
differences far too small to matter:

* ``min(n_ref, n_cur) ≤ small_sample`` (default 1,000): two-sample **Kolmogorov–Smirnov**
  (``scipy.stats.ks_2samp``), drift when ``p < ks_alpha`` (0.05). Driver series are
  autocorrelated (a week of hourly temperatures holds a few independent weather situations,
  not 168), and the iid p-value then flags ordinary weather as drift; by default
  (``ks_autocorrelation=True``) the p-value uses the effective sample sizes
  ``n·(1−ρ)/(1+ρ)`` (ρ: lag-1 autocorrelation of each sample in time order, clipped to
  [0, 0.99]) in the asymptotic Kolmogorov law with Stephens' correction;
* larger: **normalised Wasserstein** distance ``W₁(ref, cur) / sd(ref)``, drift when above
  ``wasserstein_threshold`` (0.1 — a shift of a tenth of the reference spread), and the
  **population stability index** over ``psi_bins`` reference-quantile bins (reported, and
  deciding instead when ``large_method="psi"``; threshold 0.2, the usual "significant" PSI).

Large samples are not sorted (sorting 1,000,000 values costs more than the whole test).
W₁ is ``∫ |F_ref − F_cur|``: between the pooled 0.1 % and 99.9 % quantiles (estimated on a
≤ 100,000-value strided subsample) both CDFs are evaluated exactly on 8,192 equal-width bins
and integrated by the trapezoidal rule; the two tails are integrated exactly from their few
values. The result is within a fraction of a percent of ``scipy.stats.wasserstein_distance``
(tested); two windows of 1,000,000 rows cost a few tens of milliseconds per column.

Non-finite values are dropped and counted (CONVENTIONS #22). Every result names its method,
settings, threshold and sample sizes (CONVENTIONS #21); ``score`` maps the statistic to
[0, 1] with 0.5 exactly at the threshold (see :mod:`enms.drift.score`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import stats

from enms.drift.score import distance_score, p_value_score

FloatArray = npt.NDArray[np.float64]
GRID_BINS = 8192
SUBSAMPLE = 100_000
PSI_FLOOR = 1e-4
"""Bin share floor in PSI (an empty bin would make the index infinite)."""


@dataclass(frozen=True)
class TestResult:
    """One test's answer on one column (``drift_detected`` None: not enough data)."""

    method: str
    statistic: float
    threshold: float
    drift_detected: bool | None
    score: float
    p_value: float | None = None
    settings: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ColumnDrift:
    """The verdict on one column: the deciding test first, then any reported alongside."""

    column: str
    n_reference: int
    n_current: int
    n_dropped_reference: int
    n_dropped_current: int
    tests: tuple[TestResult, ...]
    reference: str = ""
    """What the reference was (e.g. "training window, weeks 1–8 ± 2"), for the answer."""

    @property
    def decision(self) -> TestResult:
        """The test whose verdict is the column's verdict."""
        return self.tests[0]

    @property
    def drift_detected(self) -> bool | None:
        """The deciding test's verdict (None when the column could not be checked)."""
        return self.decision.drift_detected


def _finite(values: npt.ArrayLike) -> tuple[FloatArray, int]:
    x = np.asarray(values, dtype=np.float64).ravel()
    keep = np.isfinite(x)
    return x[keep], int(len(x) - keep.sum())


def _strided(x: FloatArray) -> FloatArray:
    return x[:: max(1, len(x) // SUBSAMPLE)]


def _tail_integral(tx: FloatArray, ty: FloatArray, nx: int, ny: int, edge: float) -> float:
    """Exact ``∫ |F_x − F_y|`` below ``edge`` from the (few) values below it."""
    tx, ty = np.sort(tx), np.sort(ty)
    points = np.unique(np.concatenate([tx, ty, [edge]]))
    fx = np.searchsorted(tx, points[:-1], side="right") / nx
    fy = np.searchsorted(ty, points[:-1], side="right") / ny
    return float(np.sum(np.abs(fx - fy) * np.diff(points)))


def wasserstein_normed(x: FloatArray, y: FloatArray, *, bins: int = GRID_BINS) -> float:
    """``W₁(x, y) / sd(x)``: exact in the tails, trapezoidal on a fine grid in between."""
    pooled = np.concatenate([_strided(x), _strided(y)])
    lo, hi = (float(v) for v in np.quantile(pooled, [0.001, 0.999]))
    if not hi > lo:
        lo, hi = float(pooled.min()), float(pooled.max())
    if not hi > lo:
        hi = lo + 1.0
    width = (hi - lo) / bins
    nx, ny = len(x), len(y)

    def cdf_on_grid(v: FloatArray) -> FloatArray:
        # Bin 0: below lo; 1..bins: the grid; bins + 1: at or above hi.
        idx = np.clip(np.floor((v - lo) / width).astype(np.int64), -1, bins) + 1
        idx[v >= hi] = bins + 1
        counts = np.bincount(idx, minlength=bins + 2)
        return np.cumsum(counts[: bins + 1]) / len(v)  # F at lo, lo + width, ..., hi

    gap = np.abs(cdf_on_grid(x) - cdf_on_grid(y))
    w = float(np.sum(gap[1:] + gap[:-1]) * width / 2.0)
    w += _tail_integral(x[x < lo], y[y < lo], nx, ny, lo)
    w += _tail_integral(-x[x >= hi], -y[y >= hi], nx, ny, -hi)  # mirrored upper tail
    sd = float(np.std(x))
    return w / sd if sd > 0 else (0.0 if w == 0 else float("inf"))


def psi(x: FloatArray, y: FloatArray, *, bins: int = 10) -> float:
    """Population stability index of ``y`` against ``x`` on ``x``'s quantile bins."""
    edges = np.unique(np.quantile(_strided(x), np.linspace(0, 1, bins + 1)))[1:-1]

    def shares(v: FloatArray) -> FloatArray:
        below = np.array([0, *[int(np.count_nonzero(v < e)) for e in edges], len(v)])
        return np.diff(below) / len(v)

    px, py = np.maximum(shares(x), PSI_FLOOR), np.maximum(shares(y), PSI_FLOOR)
    return float(np.sum((py - px) * np.log(py / px)))


def _lag1(v: FloatArray) -> float:
    c = v - v.mean()
    denom = float(np.dot(c, c))
    return float(np.clip(np.dot(c[1:], c[:-1]) / denom, 0.0, 0.99)) if denom > 0 else 0.0


def _ks(
    x: FloatArray, y: FloatArray, *, alpha: float, small_sample: int, adjust: bool
) -> TestResult:
    """Two-sample KS; with ``adjust`` the p-value uses the effective sample sizes."""
    result = stats.ks_2samp(x, y)
    d, p = float(result.statistic), float(result.pvalue)
    settings: dict[str, Any] = {"alpha": alpha, "small_sample": small_sample}
    if adjust:
        rx, ry = _lag1(x), _lag1(y)
        nx = max(len(x) * (1 - rx) / (1 + rx), 2.0)
        ny = max(len(y) * (1 - ry) / (1 + ry), 2.0)
        if rx > 0 or ry > 0:
            en = math.sqrt(nx * ny / (nx + ny))
            # Asymptotic Kolmogorov law with Stephens' small-sample correction.
            p = float(stats.kstwobign.sf((en + 0.12 + 0.11 / en) * d))
        settings |= {"lag1_reference": rx, "lag1_current": ry, "n_effective": (nx, ny)}
    return TestResult(
        method="ks",
        statistic=d,
        threshold=alpha,
        p_value=p,
        drift_detected=p < alpha,
        score=p_value_score(p, alpha=alpha),
        settings=settings,
    )


def column_drift(
    reference: npt.ArrayLike,
    current: npt.ArrayLike,
    *,
    column: str = "",
    reference_label: str = "",
    small_sample: int = 1000,
    min_samples: int = 30,
    ks_alpha: float = 0.05,
    wasserstein_threshold: float = 0.1,
    psi_threshold: float = 0.2,
    psi_bins: int = 10,
    large_method: str = "wasserstein",
    ks_autocorrelation: bool = True,
) -> ColumnDrift:
    """Test one column of ``current`` against ``reference`` with the size-appropriate test.

    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> same = column_drift(rng.normal(size=5000), rng.normal(size=5000), column="temp")
    >>> same.decision.method, same.drift_detected
    ('wasserstein_normed', False)
    >>> moved = column_drift(rng.normal(size=200), rng.normal(0.5, size=200))
    >>> moved.decision.method, moved.drift_detected, moved.n_current
    ('ks', True, 200)
    """
    if large_method not in ("wasserstein", "psi"):
        raise ValueError(f"large_method must be 'wasserstein' or 'psi', got {large_method!r}")
    x, dropped_x = _finite(reference)
    y, dropped_y = _finite(current)
    n = min(len(x), len(y))
    tests: tuple[TestResult, ...]
    if n < min_samples:
        tests = (
            TestResult(
                method="insufficient_data",
                statistic=float("nan"),
                threshold=float(min_samples),
                drift_detected=None,
                score=0.0,
                settings={"min_samples": min_samples},
            ),
        )
    elif n <= small_sample:
        tests = (_ks(x, y, alpha=ks_alpha, small_sample=small_sample, adjust=ks_autocorrelation),)
    else:
        w = wasserstein_normed(x, y)
        p_si = psi(x, y, bins=psi_bins)
        w_test = TestResult(
            method="wasserstein_normed",
            statistic=w,
            threshold=wasserstein_threshold,
            drift_detected=w > wasserstein_threshold,
            score=distance_score(w, threshold=wasserstein_threshold),
            settings={"normalised_by": "reference sd", "small_sample": small_sample},
        )
        psi_test = TestResult(
            method="psi",
            statistic=p_si,
            threshold=psi_threshold,
            drift_detected=p_si > psi_threshold,
            score=distance_score(p_si, threshold=psi_threshold),
            settings={"bins": psi_bins, "binning": "reference quantiles", "floor": PSI_FLOOR},
        )
        tests = (w_test, psi_test) if large_method == "wasserstein" else (psi_test, w_test)
    return ColumnDrift(
        column=column,
        n_reference=len(x),
        n_current=len(y),
        n_dropped_reference=dropped_x,
        n_dropped_current=dropped_y,
        tests=tests,
        reference=reference_label,
    )
