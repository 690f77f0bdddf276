"""Residual preparation for concept drift: driver adjustment, robust clipping, period means.

Owns the steps between a model's raw residuals (one per reading) and the stream the
sequential detectors of :mod:`enms.drift.concept` see. Every parameter is estimated on the
reference only and applied unchanged to the monitored period.

* :func:`driver_adjustment` — a regression of the reference residuals on the drivers within
  local hour-of-week slots (the baseline's own time-of-week levels). A model that misses a
  driver (a winter-trained boiler model with no temperature term: no balance point inside
  the training temperatures) leaves residuals that move with that driver; when the driver
  moves inside its support, the residual mean moves although the relation did not change.
  Concept drift is a change of P(energy | drivers), so the part of the reference residuals
  the drivers explain (slopes with ``|t| ≥ 5`` only) and the slot means are removed from
  both periods. For a well specified model nothing but noise-level slot means is removed.
* :func:`robust_clip` — residuals limited to ``median ± c·σ̂`` of the reference
  (σ̂ = 1.4826·MAD): one spike of several times the load cannot dominate a period mean,
  while a sustained change still moves every reading (clipping bounds influence, it
  never hides a shift).
* :func:`period_means` — means per local clock period (hour by default; the period is
  found in the machine's time zone, so zones with a half-hour offset get their own hours),
  with a minimum count: a period with fewer than ``min_share`` of its expected readings is
  skipped and counted; periods with no reading are gaps (NaN) that restart the whitener.
* :func:`deleted_factor` — in-sample hourly reference means → leave-one-out ones.
* :func:`prepare` and :func:`hourly_means` — the first three steps as the detection path
  runs them (both channels of :mod:`enms.drift.concept`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from enms.drift.concept_settings import CLIP, MIN_SHARE, PERIOD
from enms.drift.whitening import MAD_TO_SIGMA

FloatArray = npt.NDArray[np.float64]
EXCLUDED_COLUMNS = ("energy_kwh", "is_anomaly")


def numeric_drivers(reference: pd.DataFrame, current: pd.DataFrame) -> list[str]:
    """Numeric columns present in both frames, except the target and the anomaly label."""
    return [
        c
        for c in reference.columns
        if c in current.columns
        and c not in EXCLUDED_COLUMNS
        and pd.api.types.is_numeric_dtype(reference[c])
        and not pd.api.types.is_bool_dtype(reference[c])
        and pd.api.types.is_numeric_dtype(current[c])
        and not pd.api.types.is_bool_dtype(current[c])
    ]


def hour_of_week(index: pd.DatetimeIndex, timezone: str) -> npt.NDArray[np.int64]:
    """Local hour of the week (Monday 00:00 = 0 … Sunday 23:00 = 167) of each timestamp."""
    local = pd.DatetimeIndex(index).tz_convert(timezone)
    return np.asarray(local.day_of_week * 24 + local.hour, dtype=np.int64)


N_SLOTS = 168


def _slot_means(values: FloatArray, slots: npt.NDArray[np.int64]) -> FloatArray:
    """Per-slot means of the columns of ``values``; a slot never seen gets the overall mean."""
    counts = np.bincount(slots, minlength=N_SLOTS).astype(np.float64)
    out = np.empty((N_SLOTS, values.shape[1]))
    for j in range(values.shape[1]):
        sums = np.bincount(slots, weights=values[:, j], minlength=N_SLOTS)
        out[:, j] = np.where(counts > 0, sums / np.maximum(counts, 1.0), values[:, j].mean())
    return out


@dataclass(frozen=True)
class DriverAdjustment:
    """Reference residuals explained by hour of week and the drivers (within-slot OLS)."""

    columns: tuple[str, ...]
    coefficients: tuple[float, ...]
    slot_means: FloatArray  # (168, 1 + columns): residual, then each driver
    timezone: str
    n: int

    def apply(self, residuals: pd.Series, drivers: pd.DataFrame | None) -> pd.Series:
        """``r − m_s(r) − (x − m_s(x))·β`` with the reference slot means ``m_s``."""
        slots = hour_of_week(pd.DatetimeIndex(residuals.index), self.timezone)
        out = residuals.to_numpy(dtype=np.float64) - self.slot_means[slots, 0]
        if self.columns and drivers is not None:
            x = drivers.reindex(residuals.index)[list(self.columns)].to_numpy(dtype=np.float64)
            out = out - (x - self.slot_means[slots, 1:]) @ np.asarray(self.coefficients)
        return pd.Series(out, index=residuals.index, name=residuals.name)

    def as_dict(self) -> dict[str, object]:
        """The adjustment for the verdict's settings."""
        return {
            "method": "within local hour-of-week OLS of the reference residuals on the drivers",
            "n": self.n,
            "coefficients": dict(zip(self.columns, self.coefficients, strict=True)),
        }


def driver_adjustment(
    residuals: pd.Series,
    drivers: pd.DataFrame | None,
    *,
    columns: list[str],
    timezone: str,
    clip: float = 4.0,
    t_min: float = 5.0,
) -> DriverAdjustment:
    """Within-slot OLS of the reference residuals on ``columns``, refitted without outliers.

    Residuals and drivers are demeaned per local hour of week on the reference (the
    baseline's own time-of-week levels, Frisch–Waugh–Lovell), so the slope of a missed
    driver is the one the model would have had. The refit drops readings beyond ``clip``
    robust σ of the first fit (spikes). Columns constant on the reference are left out; with
    fewer than ``10 × columns`` complete rows no column is used (slot means only). A column
    is kept only when its slope has ``|t| ≥ t_min`` (5): a slope that is noise would be
    multiplied by the seasonal change of its driver (a 0.001 kWh/°C slope × 15 °C of
    spring is a bias the CUSUM accumulates); the OLS t ignores autocorrelation, hence 5.
    """
    idx = pd.DatetimeIndex(residuals.index)
    y = residuals.to_numpy(dtype=np.float64)
    x = (
        drivers.reindex(idx)[columns].to_numpy(dtype=np.float64)
        if drivers is not None and columns
        else np.empty((len(y), 0))
    )
    ok = np.isfinite(y) & np.isfinite(x).all(axis=1)
    keep = [j for j in range(x.shape[1]) if ok.any() and np.ptp(x[ok, j]) > 0]
    if int(ok.sum()) < 10 * max(len(keep), 1):
        keep = []
    keep_all = list(keep)
    slots = hour_of_week(idx, timezone)[ok]
    # Spikes inflate the slot means they fall in (a model leaves labelled anomalies out of
    # its fit, so its in-sample residuals there are not centred): clip them first.
    yk = y[ok]
    if len(yk):
        med = float(np.median(yk))
        spread = MAD_TO_SIGMA * float(np.median(np.abs(yk - med)))
        if spread > 0:
            yk = np.clip(yk, med - clip * spread, med + clip * spread)
    data = np.column_stack([yk, x[ok][:, keep]])
    means = _slot_means(data, slots) if len(data) else np.zeros((N_SLOTS, 1 + len(keep)))
    centred = data - means[slots]
    beta, keep = _significant_fit(centred, keep, n_groups=int(np.unique(slots).size), clip=clip,
                                  t_min=t_min)  # fmt: skip
    means = means[:, [0, *[1 + keep_all.index(j) for j in keep]]]
    return DriverAdjustment(
        columns=tuple(columns[j] for j in keep),
        coefficients=tuple(float(b) for b in beta),
        slot_means=means,
        timezone=timezone,
        n=int(ok.sum()),
    )


def _significant_fit(
    centred: FloatArray, keep: list[int], *, n_groups: int, clip: float, t_min: float
) -> tuple[FloatArray, list[int]]:
    """Within-slot OLS of column 0 on the others, outliers dropped, insignificant ones out."""
    cols = list(range(1, 1 + len(keep)))
    inlier = np.ones(len(centred), dtype=bool)
    for _ in range(3):
        if not cols:
            return np.zeros(0), []
        x, y = centred[inlier][:, cols], centred[inlier, 0]
        beta = np.linalg.lstsq(x, y, rcond=None)[0]
        e = centred[:, 0] - centred[:, cols] @ beta
        scale = MAD_TO_SIGMA * float(np.median(np.abs(e - np.median(e))))
        if scale > 0:
            inlier = np.abs(e - np.median(e)) <= clip * scale
        x, y = centred[inlier][:, cols], centred[inlier, 0]
        beta = np.linalg.lstsq(x, y, rcond=None)[0]
        resid = y - x @ beta
        dof = max(len(y) - n_groups - len(cols), 1)
        sigma2 = float(resid @ resid) / dof
        cov = sigma2 * np.linalg.pinv(x.T @ x)
        t = np.abs(beta) / np.sqrt(np.maximum(np.diag(cov), 1e-300))
        if bool(np.all(t >= t_min)):
            return beta, [keep[c - 1] for c in cols]
        cols = [c for c, tc in zip(cols, t, strict=True) if tc >= t_min]
    return np.zeros(0), []


def deleted_factor(
    period_starts: pd.DatetimeIndex,
    period_counts: npt.NDArray[np.float64],
    reading_index: pd.DatetimeIndex,
    timezone: str,
) -> FloatArray:
    """``n_s / (n_s − n_h)`` per reference period: in-sample → leave-one-out residual.

    The reference residuals are centred per hour of week (by the model's levels and by
    :class:`DriverAdjustment`), which shrinks an hour's mean residual towards zero by the
    share of its slot's readings it holds. Residuals of hours the model has not seen carry
    the slot level's error instead; dividing by ``1 − n_h/n_s`` turns the in-sample hourly
    mean into the one a fit without that hour would give (exact for slot means; 8.4
    weeks of reference → the hourly variance grows by ≈ 1.27).
    """
    slot_counts = np.bincount(hour_of_week(reading_index, timezone), minlength=N_SLOTS)
    n_s = slot_counts[hour_of_week(period_starts, timezone)].astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(n_s > period_counts, n_s / (n_s - period_counts), np.nan)
    return np.asarray(factor, dtype=np.float64)


@dataclass(frozen=True)
class Clip:
    """Robust bounds from the reference: ``center ± c·scale``."""

    center: float
    scale: float
    c: float

    @classmethod
    def fit(cls, reference: pd.Series, *, c: float) -> Clip:
        """Median and MAD-σ of the finite reference values (σ of the values if MAD is 0)."""
        x = reference.to_numpy(dtype=np.float64)
        x = x[np.isfinite(x)]
        center = float(np.median(x)) if len(x) else 0.0
        scale = MAD_TO_SIGMA * float(np.median(np.abs(x - center))) if len(x) else 0.0
        if not scale > 0 and len(x) > 1:
            scale = float(np.std(x))
        return cls(center, scale, c)

    def apply(self, values: pd.Series) -> tuple[pd.Series, int]:
        """The clipped values and how many were beyond the bounds."""
        if not self.scale > 0:
            return values, 0
        lo, hi = self.center - self.c * self.scale, self.center + self.c * self.scale
        beyond = int(((values < lo) | (values > hi)).sum())
        return values.clip(lo, hi), beyond


def robust_clip(reference: pd.Series, current: pd.Series, *, c: float = 4.0) -> Clip:
    """The clipping bounds for both periods, from the reference (see module docstring)."""
    del current  # the bounds never look at the monitored period
    return Clip.fit(reference, c=c)


def reading_interval(index: pd.DatetimeIndex) -> pd.Timedelta | None:
    """Median spacing of a sorted index (None with fewer than two timestamps)."""
    if len(index) < 2:
        return None
    diffs = pd.Series(index).diff().dropna()
    diffs = diffs[diffs > pd.Timedelta(0)]
    return pd.Timedelta(diffs.median()) if len(diffs) else None


@dataclass(frozen=True)
class PeriodMeans:
    """Means per local period on a complete grid of periods (NaN: gap or skipped)."""

    means: pd.Series  # indexed by period start (UTC)
    counts: pd.Series
    n_periods: int  # periods with enough readings
    n_skipped: int  # periods with some readings, but too few
    n_empty: int  # periods on the grid without any reading


def _period_start(index: pd.DatetimeIndex, timezone: str, freq: str) -> pd.DatetimeIndex:
    local = index.tz_convert(timezone)
    offset = local.tz_localize(None) - index.tz_convert("UTC").tz_localize(None)
    # Floor on the local wall clock, then back to UTC with each reading's own offset.
    start = (local.tz_localize(None).floor(freq) - offset).tz_localize("UTC")
    return pd.DatetimeIndex(start)


def period_means(
    values: pd.Series,
    *,
    timezone: str,
    interval: pd.Timedelta,
    freq: str = "h",
    min_share: float = 0.75,
) -> PeriodMeans:
    """Mean of the finite ``values`` per local period of length ``freq`` (hour: ``"h"``).

    A period needs ``ceil(min_share × period / interval)`` finite readings (3 of 4 at 15
    minutes, 1 of 1 at hourly readings); fewer → NaN and counted in ``n_skipped``. The
    grid runs from the first to the last period seen; periods without readings are
    ``n_empty``.
    """
    period = pd.Timedelta(freq if freq[:1].isdigit() else f"1{freq}")
    expected = max(period / interval, 1.0)
    need = max(1, math.ceil(min_share * expected - 1e-9))
    finite = values[np.isfinite(values.to_numpy(dtype=np.float64))]
    empty = pd.Series(dtype=np.float64, index=pd.DatetimeIndex([], tz="UTC"))
    if finite.empty:
        return PeriodMeans(empty, empty, 0, 0, 0)
    idx = pd.DatetimeIndex(finite.index).tz_convert("UTC")
    start = _period_start(idx, timezone, freq)
    grouped = pd.Series(finite.to_numpy(dtype=np.float64), index=start).groupby(level=0)
    sums, counts = grouped.sum(), grouped.count().astype(np.float64)
    grid = pd.date_range(start.min(), start.max(), freq=period, tz="UTC")
    # DST or half-hour zones can put period starts off a UTC grid: keep them all.
    grid = grid.union(pd.DatetimeIndex(sums.index))
    counts = counts.reindex(grid, fill_value=0.0)
    means = (sums.reindex(grid) / counts.where(counts > 0)).where(counts >= need)
    return PeriodMeans(
        means=means,
        counts=counts,
        n_periods=int((counts >= need).sum()),
        n_skipped=int(((counts > 0) & (counts < need)).sum()),
        n_empty=int((counts == 0).sum()),
    )


def hourly_means(values: pd.Series, timezone: str, interval: pd.Timedelta) -> PeriodMeans:
    """:func:`period_means` with the detection path's period and minimum share."""
    return period_means(
        values, timezone=timezone, interval=interval, freq=PERIOD, min_share=MIN_SHARE
    )


def prepare(
    reference: pd.Series,
    current: pd.Series,
    timezone: str,
    reference_drivers: pd.DataFrame | None,
    current_drivers: pd.DataFrame | None,
    details: dict[str, Any],
    *,
    clip_values: bool = True,
) -> tuple[pd.Series, pd.Series, pd.Timedelta | None]:
    """Non-finite values out (counted), driver adjustment, robust clipping (unless
    ``clip_values`` is False); the reading interval of the reference (None with fewer than
    two readings). ``details`` receives the counts and the fitted parameters."""
    ref, cur = reference.astype(np.float64).sort_index(), current.astype(np.float64).sort_index()
    details["n_dropped_nonfinite"] = int((~np.isfinite(ref)).sum() + (~np.isfinite(cur)).sum())
    ref, cur = ref[np.isfinite(ref)], cur[np.isfinite(cur)]
    columns: list[str] = []
    if reference_drivers is not None and current_drivers is not None:
        columns = numeric_drivers(reference_drivers, current_drivers)
    adjustment = driver_adjustment(ref, reference_drivers, columns=columns, timezone=timezone)
    ref = adjustment.apply(ref, reference_drivers).dropna()
    cur = adjustment.apply(cur, current_drivers).dropna()
    details["driver_adjustment"] = adjustment.as_dict()
    interval = reading_interval(pd.DatetimeIndex(ref.index))
    if not clip_values:
        return ref, cur, interval
    clip = robust_clip(ref, cur, c=CLIP)
    ref, n_clip_ref = clip.apply(ref)
    cur, n_clip_cur = clip.apply(cur)
    details["clip"] = {
        "center": clip.center,
        "scale": clip.scale,
        "c": clip.c,
        "n_clipped_reference": n_clip_ref,
        "n_clipped_current": n_clip_cur,
    }
    return ref, cur, interval
