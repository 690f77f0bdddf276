"""Concept drift on a model's residuals: did the drivers→energy relation change, and when.

:func:`concept_drift` takes the residuals (``actual − predicted``, kWh, UTC-indexed, gaps
and NaN allowed) of a reference period — the model's own training window — and of the
monitored period — everything the version served since it was trained — and answers
whether the residuals changed, when the change started and when the alarm rose.
:func:`in_support` says which monitored rows are inside the drivers' reference range; the
main channel judges only those (outside it the relation was never observed: a
winter-trained chiller in summer is extrapolation, reported by data drift). The monitored
residuals outside the support, passed as ``outside``, go to a second channel
(:mod:`enms.drift.outside_support`) that compares them with the outside-support hours of the
recent past at the same driver values; the first alarm of either channel decides. The
numbered steps below are the main channel's; the parameters of both are in
:mod:`enms.drift.concept_settings`.

Why the pipeline looks like this (every parameter is estimated on the reference only):

1. **Driver adjustment** (:func:`~enms.drift.aggregate.driver_adjustment`). Concept drift is
   a change of P(energy | drivers). A model that misses a driver leaves residuals that
   follow it: the demo's winter-trained boiler, furnace and air handler get no temperature
   term (no heating balance point *inside* January–February temperatures), so their
   residuals fall by 10–45 kWh per reading as spring warms up, inside the training range,
   with no change of the machine. The reference residuals (spikes clipped) are regressed on
   the drivers within local hour-of-week slots (the model's own time-of-week levels); slopes
   with ``|t| ≥ 5`` are removed from both periods, as are the slot means.
2. **Robust clipping** at the reference median ± 4 robust σ per reading (``CLIP``): a
   labelled spike (0.5–1.2 × the mean load, 1–4 readings) counts as 4 σ at most.
3. **Hourly means in local time** (:func:`~enms.drift.aggregate.period_means`): raw
   15-minute residuals are autocorrelated (lag-1 up to 0.98 on the demo) in a way no AR(1)
   filter removes. An hour needs 3 of its 4 readings (``MIN_SHARE``); fewer → skipped and
   counted; an hour without readings is a gap that restarts the filter.
4. **Leave-one-out reference scale** (:func:`~enms.drift.aggregate.deleted_factor`): the
   reference residuals are in-sample; with 168 hour-of-week levels fitted on 8.4 weeks the
   demo's out-of-sample hourly variance is 1.24–1.47 × the in-sample one (measured on
   seed 42; a leave-one-week-out refit reproduces it). Each reference hour is scaled by
   ``n_s/(n_s − n_h)`` before the whitener sees it.
5. **AR(1) pre-whitening** (:class:`~enms.drift.whitening.ResidualWhitener`) of the hourly
   means, a tail factor so the reference's ``|z|`` has its normal mean, and ``|z| ≤ 3``.
6. **Daily evidence** (:mod:`enms.drift.daily`): per local day with ≥ 6 whitened hours
   (``MIN_HOURS_PER_DAY``; fewer → skipped, counted), ``M = Σz/√n`` and ``V = Σs/√n``
   (``s`` = standardised ``|z|``), divided by their spread on the reference days and
   limited to ±4.5 (``DAY_CLIP``). One day can add at most 3.5 to a CUSUM whose threshold
   is 6, so a single odd day — a holiday the model never saw, a cluster of spikes — is
   never a change; a change must carry into a second day.
7. **Sequential detectors**: :class:`~enms.drift.cusum.MeanCusum` (``k = 1``, ``h = 6``) on
   ``M`` (mean shift) and on ``V`` (variance increase / decrease), from the first monitored
   day; the first alarm decides. ``detected_at`` is the end (local midnight, in UTC) of the
   day whose evidence raised the alarm.
8. **Change point**: a likelihood-ratio split of the hourly ``z`` (or ``s``) — known null
   mean 0, unknown mean after: the hour maximising ``S²/m`` of the values from it to the
   alarm — over the 7 usable days before the CUSUM's excursion start up to the alarm day,
   returned as the UTC start of that hour. Only data up to the alarm are used, so every
   later daily re-check answers the same change point.

Thresholds, per machine-year. A daily check over everything a version served since training
is one sequential run: its alarm time does not depend on the day it is looked at, so a
year of daily checks false-alarms exactly when the run over the year alarms once.
:func:`enms.drift.calibration.yearly_false_alarm_share` measures that on 400 seeded
no-change AR(1) streams (φ = 0.5, whitener and day scales fitted on each stream's own
1,416-hour reference = 59 days, then 365 days), through this same code path (seed 0):

============ ============== ============== ==============
h (k = 1)    mean test      variance test  either
============ ============== ============== ==============
4            5.25 %         6.25 %         10.5 %
5            2.25 %         2.5 %          4.25 %
5.5          0.75 %         1.5 %          2.0 %
**6**        **0 %**        **0.25 %**     **0.25 %**
============ ============== ============== ==============

On the demo plant itself (seeds 1–20, 120 change-free machine-years, 15-minute readings) it
flagged 2 (a boiler over Christmas, an air handler in July), and one compressor before its
leak: the synthetic rate is a floor, not the demo's. The issue's synthetic suite through this
path (1,000-sample reference, change at 1,000 of 2,000, samples read as hours, 200 streams):
100 % detected for shift, ramp and variance at φ = 0 and 0.5, 0 false alarms per 1,000
samples on the controls; median delay 56 / 104 samples for the shift (iid / φ = 0.5) — the
price of deciding per day. ``tests/drift/test_concept.py`` re-measures both.

Minimum data: ``MIN_REFERENCE_PERIODS = 168`` usable reference hours (a week: the whitener
estimates location, scale and φ) and ``MIN_CURRENT_DAYS = 2`` usable monitored days (also
the detectors' ``min_samples``); fewer → ``drift_detected=None`` with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from enms.drift import aggregate, daily
from enms.drift.concept_settings import (
    CHANGE_POINT_LOOKBACK_DAYS,
    DAY_CLIP,
    H_MEAN,
    H_VARIANCE,
    MIN_CURRENT_DAYS,
    MIN_HOURS_PER_DAY,
    MIN_REFERENCE_PERIODS,
    MIN_SHARE,
    PERIOD,
    SUPPORT_MARGIN,
    SUPPORT_TAIL,
    Z_CLIP,
    K,
)
from enms.drift.cusum import MeanCusum
from enms.drift.outside_support import OutsideDrift, outside_drift
from enms.drift.score import distance_score
from enms.drift.variance_cusum import ABS_MEAN, ABS_SD
from enms.drift.whitening import ResidualWhitener

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class ConceptDrift:
    """The verdict of the residual detectors over the monitored period."""

    #: None when there was too little data to decide (``reason`` says why).
    drift_detected: bool | None
    #: Estimated start of the change (UTC), and the first instant the alarm was raised.
    change_point: datetime | None
    detected_at: datetime | None
    #: One entry per test: name, method, settings, statistic, threshold, n, verdict,
    #: change_point (ISO) — every verdict names its method, settings and sample sizes.
    tests: list[dict[str, Any]] = field(default_factory=list)
    n_reference: int = 0
    n_current: int = 0
    #: In [0, 1], 0.5 exactly at the alarm threshold (see :mod:`enms.drift.score`).
    score: float | None = None
    reason: str | None = None
    #: Preparation counts and parameters: readings dropped (non-finite), clipped, hours
    #: used / skipped / empty per period, the driver adjustment and the whitener.
    details: dict[str, Any] = field(default_factory=dict)
    #: Non-finite residuals left out (reference + current).
    n_dropped: int = 0


def detectors() -> tuple[MeanCusum, MeanCusum]:
    """The CUSUMs on the daily mean and variance evidence (module docstring: thresholds)."""
    return (
        MeanCusum(k=K, h=H_MEAN, min_samples=MIN_CURRENT_DAYS),
        MeanCusum(k=K, h=H_VARIANCE, min_samples=MIN_CURRENT_DAYS),
    )


def _none(reason: str, n_ref: int, n_cur: int, details: dict[str, Any]) -> ConceptDrift:
    return ConceptDrift(None, None, None, [], n_ref, n_cur, None, reason, details)


def concept_drift(
    reference: pd.Series,
    current: pd.Series,
    *,
    timezone: str = "UTC",
    reference_drivers: pd.DataFrame | None = None,
    current_drivers: pd.DataFrame | None = None,
    outside: pd.Series | None = None,
) -> ConceptDrift:
    """Residual-based concept drift of ``current`` against ``reference``.

    ``reference_drivers`` / ``current_drivers`` (indexed like the residuals; the numeric
    columns present in both are used) enable the driver adjustment of the module docstring;
    pass every driver the readings have, not only the model's. ``timezone`` is the
    machine's: hours, hours of week and days are local. See the module docstring.

    ``current`` should be the monitored residuals inside the driver support
    (:func:`in_support`); ``outside``, when given with both driver frames, the rest — they
    are judged by :func:`enms.drift.outside_support.outside_drift`, and the first alarm of
    either channel decides.
    """
    inside = _inside(reference, current, timezone, reference_drivers, current_drivers)
    if outside is None or reference_drivers is None or current_drivers is None:
        return inside
    found = outside_drift(
        reference,
        outside,
        timezone=timezone,
        reference_drivers=reference_drivers,
        current_drivers=current_drivers,
    )
    return _combine(inside, found)


def _combine(inside: ConceptDrift, outside: OutsideDrift) -> ConceptDrift:
    """Both channels in one verdict: the earliest alarm decides (time and change point)."""
    details = {**inside.details, "outside_support": {
        "drift_detected": outside.drift_detected, "reason": outside.reason, **outside.details,
    }}  # fmt: skip
    tests = inside.tests + ([outside.test] if outside.test else [])
    verdicts = [v for v in (inside.drift_detected, outside.drift_detected) if v is not None]
    if not verdicts:
        reason = f"inside the support: {inside.reason}; outside it: {outside.reason}"
        return replace(inside, reason=reason, details=details)
    alarms = [
        (c.detected_at, c.change_point)
        for c in (inside, outside)
        if c.drift_detected and c.detected_at is not None
    ]
    first = min(alarms, key=lambda a: a[0]) if alarms else (None, None)
    scores = [t["score"] for t in tests if t.get("score") is not None]
    return replace(
        inside,
        drift_detected=any(verdicts),
        detected_at=first[0],
        change_point=first[1],
        tests=tests,
        n_current=inside.n_current + outside.n_days,
        score=max(scores) if scores else None,
        reason=None,
        details=details,
    )


def _inside(
    reference: pd.Series,
    current: pd.Series,
    timezone: str,
    reference_drivers: pd.DataFrame | None,
    current_drivers: pd.DataFrame | None,
) -> ConceptDrift:
    """The main channel: residuals inside the support (module docstring)."""
    details: dict[str, Any] = {}
    ref, cur, interval = aggregate.prepare(
        reference, current, timezone, reference_drivers, current_drivers, details
    )
    dropped = int(details["n_dropped_nonfinite"])
    if interval is None or len(ref) < MIN_REFERENCE_PERIODS:
        reason = f"reference has {len(ref)} usable residuals; {MIN_REFERENCE_PERIODS} hours needed"
        return _none(reason, len(ref), len(cur), details)
    ref_p, cur_p = (
        aggregate.hourly_means(ref, timezone, interval),
        aggregate.hourly_means(cur, timezone, interval),
    )
    n_ref = ref_p.n_periods
    if n_ref < MIN_REFERENCE_PERIODS:
        reason = f"reference has {n_ref} usable hours; at least {MIN_REFERENCE_PERIODS} needed"
        return _none(reason, n_ref, 0, details)
    # In-sample → leave-one-out hourly means (see aggregate.deleted_factor).
    factor = aggregate.deleted_factor(
        pd.DatetimeIndex(ref_p.means.index),
        ref_p.counts.to_numpy(dtype=np.float64),
        pd.DatetimeIndex(ref.index),
        timezone,
    )
    ref_means = ref_p.means.to_numpy(dtype=np.float64) * factor
    whitener = ResidualWhitener(min_reference=MIN_REFERENCE_PERIODS).fit(ref_means)
    cur_means = cur_p.means.to_numpy(dtype=np.float64)
    z, tail = daily.clipped_whitened(whitener, ref_means, cur_means, Z_CLIP)
    z_ref, _ = daily.clipped_whitened(whitener, ref_means, ref_means, Z_CLIP)
    ref_index = pd.DatetimeIndex(ref_p.means.index)
    ref_ev = daily.daily_evidence(
        z_ref, daily.day_codes(ref_index, timezone), min_hours=MIN_HOURS_PER_DAY
    )
    starts = pd.DatetimeIndex(cur_p.means.index)
    hour_day = daily.day_codes(starts, timezone)
    ev = daily.daily_evidence(z, hour_day, min_hours=MIN_HOURS_PER_DAY)
    scales = (daily.day_scale(ref_ev.mean), daily.day_scale(ref_ev.variance))
    details["whitener"] = {
        "loc": whitener.loc_,
        "scale": whitener.scale_,
        "phi": whitener.phi_,
        "z_clip": Z_CLIP,
        "tail_factor": tail,
    }
    details["periods"] = {
        "period": PERIOD,
        "timezone": timezone,
        "reading_interval_seconds": interval.total_seconds(),
        "min_share": MIN_SHARE,
        "reference": {"used": n_ref, "skipped": ref_p.n_skipped, "empty": ref_p.n_empty},
        "current": {"used": cur_p.n_periods, "skipped": cur_p.n_skipped, "empty": cur_p.n_empty},
    }
    details["days"] = {
        "min_hours": MIN_HOURS_PER_DAY,
        "day_clip": DAY_CLIP,
        "reference": {"used": len(ref_ev.day), "skipped": ref_ev.n_skipped},
        "current": {"used": len(ev.day), "skipped": ev.n_skipped},
        "scale_mean": scales[0],
        "scale_variance": scales[1],
    }
    n_cur = len(ev.day)
    if n_cur < MIN_CURRENT_DAYS:
        reason = (
            f"current window has {n_cur} usable days (≥ {MIN_HOURS_PER_DAY} usable hours "
            f"each); at least {MIN_CURRENT_DAYS} needed"
        )
        return _none(reason, n_ref, n_cur, details)
    s = (np.abs(z) - ABS_MEAN) / ABS_SD
    tests: list[dict[str, Any]] = []
    first: tuple[int, int] | None = None  # (alarm day, change hour)
    for name, detector, values, hourly, scale in zip(
        ("residual_mean_shift", "residual_variance_change"),
        detectors(),
        (ev.mean, ev.variance),
        (z, s),
        scales,
        strict=True,
    ):
        run = daily.run_days(detector, daily.standardised(values, scale, DAY_CLIP), ev.day)
        change = at = None
        if run.alarm_day is not None and run.start_day is not None:
            hours = np.flatnonzero(hour_day <= run.alarm_day)
            # Look back over usable days (a summer out of support has none to offer).
            k = int(np.searchsorted(ev.day, run.start_day))
            lo_day = int(ev.day[max(0, k - CHANGE_POINT_LOOKBACK_DAYS)])
            lo = int(np.searchsorted(hour_day, lo_day))
            change = daily.split(hourly, lo, int(hours[-1]))
            at = daily.day_end(starts[hours[-1]], timezone)
            if first is None or run.alarm_day < first[0]:
                first = (run.alarm_day, change)
        tests.append({
            "name": name,
            "method": f"cusum on daily sums of AR(1)-whitened hourly mean residuals ({name})",
            "settings": {**detector.settings(), "day_clip": DAY_CLIP,
                         "min_hours_per_day": MIN_HOURS_PER_DAY, "z_clip": Z_CLIP},
            "statistic": run.statistic,
            "threshold": detector.h,
            "n": run.n,
            "n_reference": len(ref_ev.day),
            "verdict": run.alarm_day is not None,
            "direction": run.direction,
            "change_point": starts[change].isoformat() if change is not None else None,
            "detected_at": at.isoformat() if at else None,
            "score": distance_score(run.statistic, threshold=detector.h),
        })  # fmt: skip
    alarm_hours = np.flatnonzero(hour_day <= first[0]) if first else np.empty(0, np.int64)
    return ConceptDrift(
        drift_detected=first is not None,
        change_point=starts[first[1]].to_pydatetime() if first else None,
        detected_at=daily.day_end(starts[alarm_hours[-1]], timezone) if first else None,
        tests=tests,
        n_reference=n_ref,
        n_current=n_cur,
        score=max(t["score"] for t in tests),
        details=details,
        n_dropped=dropped,
    )


def in_support(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    *,
    margin: float = SUPPORT_MARGIN,
    tail: float = SUPPORT_TAIL,
) -> pd.Series:
    """Rows of ``current`` whose drivers lie within the range seen in ``reference``.

    Drivers are the numeric columns present in both frames except ``energy_kwh`` and
    ``is_anomaly``. The range of each is its reference ``tail`` and ``1 − tail`` quantiles
    (0.5 % / 99.5 %), widened by ``margin`` (2 %) of their distance on each side. Quantiles,
    not the extremes: one warm February afternoon (0.5 % of the demo's readings above
    12 °C, maximum 14.6 °C) does not make 12–15 °C observed — the air handler's heating
    stops at 14 °C, and a range up to the maximum would put that kink, never fitted, inside
    the support. The margin admits a reading a rounding step beyond. A row with a missing
    driver value, or a driver with no finite reference value, is out of support (it cannot
    be checked). No drivers at all → every row is in support.
    """
    inside = pd.Series(True, index=current.index, name="in_support")
    for column in aggregate.numeric_drivers(reference, current):
        ref = reference[column].to_numpy(dtype=np.float64)
        ref = ref[np.isfinite(ref)]
        values = current[column].to_numpy(dtype=np.float64)
        if ref.size == 0:
            inside &= False
            continue
        lo, hi = (float(q) for q in np.quantile(ref, [tail, 1.0 - tail]))
        m = margin * (hi - lo)
        inside &= (values >= lo - m) & (values <= hi + m)
    return inside
