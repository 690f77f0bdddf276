"""How the concept-drift thresholds were chosen: a seeded ARL₀ simulation per machine-year.

Owns :func:`yearly_false_alarm_share` and :func:`suite`, which run the detection path of
:mod:`enms.drift.concept` — whitener fitted on a reference, hourly values clipped and
tail-scaled (:func:`enms.drift.daily.clipped_whitened`), daily evidence standardised on the
reference days (:mod:`enms.drift.daily`), the same CUSUMs — on seeded AR(1) streams of
hourly values. A daily check over everything a version served since training is one
sequential run (the alarm time does not depend on when it is looked at), so the share of
no-change streams with at least one alarm in 365 days *is* the probability that a machine
without a change is flagged at least once in a year of daily checks.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from enms.drift import daily
from enms.drift.cusum import TwoSidedCusum
from enms.drift.synthetic import SuiteResult, residual_streams, run_batch
from enms.drift.whitening import ResidualWhitener

FloatArray = npt.NDArray[np.float64]
HOURS_PER_DAY = 24
DAYS_PER_YEAR = 365
REFERENCE_HOURS = 59 * 24  # the demo's first baseline: January and February


def daily_streams(
    ref: FloatArray, mon: FloatArray, *, z_clip: float, day_clip: float
) -> tuple[FloatArray, FloatArray]:
    """Mean and variance evidence per day, shapes ``(streams, days)``, via :mod:`daily`.

    Every block of 24 consecutive values is a day (synthetic streams have no gaps).
    """
    n_days = mon.shape[1] // HOURS_PER_DAY
    days = np.arange(n_days * HOURS_PER_DAY) // HOURS_PER_DAY
    ref_days = np.arange(ref.shape[1]) // HOURS_PER_DAY
    means, variances = np.empty((len(mon), n_days)), np.empty((len(mon), n_days))
    for i, (r, m) in enumerate(zip(ref, mon, strict=True)):
        whitener = ResidualWhitener().fit(r)
        z_ref, _ = daily.clipped_whitened(whitener, r, r, z_clip)
        z, _ = daily.clipped_whitened(whitener, r, m[: n_days * HOURS_PER_DAY], z_clip)
        ev_ref = daily.daily_evidence(z_ref, ref_days, min_hours=1)
        ev = daily.daily_evidence(z, days, min_hours=1)
        means[i] = daily.standardised(ev.mean, daily.day_scale(ev_ref.mean), day_clip)
        variances[i] = daily.standardised(ev.variance, daily.day_scale(ev_ref.variance), day_clip)
    return means, variances


def yearly_false_alarm_share(
    mean_detector: TwoSidedCusum,
    variance_detector: TwoSidedCusum,
    *,
    z_clip: float,
    day_clip: float,
    phi: float = 0.5,
    n_streams: int = 400,
    n_reference: int = REFERENCE_HOURS,
    n_days: int = DAYS_PER_YEAR,
    seed: int = 0,
) -> tuple[float, float, float]:
    """Shares of no-change streams flagged within ``n_days``: mean test, variance test, either.

    Each stream's whitener and day scales are fitted on its own ``n_reference`` hourly values,
    so the shares include the error of estimating them on a two-month reference.
    """
    ref, mon = residual_streams(
        change="none", phi=phi, n_streams=n_streams, n_reference=n_reference,
        n_monitor=n_days * HOURS_PER_DAY, change_at=n_days * HOURS_PER_DAY, seed=seed,
    )  # fmt: skip
    means, variances = daily_streams(ref, mon, z_clip=z_clip, day_clip=day_clip)
    by_mean = np.zeros(n_streams, dtype=bool)
    by_variance = np.zeros(n_streams, dtype=bool)
    by_mean[run_batch(mean_detector, means).stream] = True
    by_variance[run_batch(variance_detector, variances).stream] = True
    return float(by_mean.mean()), float(by_variance.mean()), float((by_mean | by_variance).mean())


def suite(
    detectors: Sequence[TwoSidedCusum],
    *,
    change: str,
    phi: float,
    z_clip: float,
    day_clip: float,
    n_streams: int = 200,
    n_reference: int = 1000,
    n_monitor: int = 2000,
    change_at: int = 1000,
    seed: int = 0,
) -> SuiteResult:
    """The issue's synthetic suite (:func:`enms.drift.synthetic.evaluate`: 1,000-sample
    reference, 2,000 monitored, change at 1,000) through the concept path, samples read as
    hours and grouped in days; ``detectors`` = (mean, variance). Delays and false-alarm
    rates are reported in samples (hours), alarms at the end of their day."""
    cut = n_monitor if change == "none" else change_at
    ref, mon = residual_streams(
        change=change, phi=phi, n_streams=n_streams, n_reference=n_reference,
        n_monitor=n_monitor, change_at=cut, seed=seed,
    )  # fmt: skip
    means, variances = daily_streams(ref, mon, z_clip=z_clip, day_clip=day_clip)
    cut_day = cut // HOURS_PER_DAY  # the day holding the change (1,000 = day 41, hour 16)
    first = np.full(n_streams, np.iinfo(np.int64).max)
    detected = np.zeros(n_streams, dtype=bool)
    false_alarms = 0
    for detector, stats in zip(detectors, (means, variances), strict=True):
        alarms = run_batch(detector, stats)
        false_alarms += alarms.count_before(cut_day)
        at, _ = alarms.first_after(cut_day)
        hit = at >= 0
        end_hour = (at + 1) * HOURS_PER_DAY
        better = hit & (end_hour < first)
        first[better] = end_hour[better]
        detected |= hit
    delays = first[detected] - cut
    return SuiteResult(
        change=change,
        phi=phi,
        n_streams=n_streams,
        n_samples=n_monitor,
        detection_rate=math.nan if change == "none" else float(detected.mean()),
        median_delay=float(np.median(delays)) if detected.any() else math.nan,
        median_change_point_error=math.nan,
        false_alarms_per_1000=1000.0 * false_alarms / (n_streams * cut_day * HOURS_PER_DAY),
    )
