"""The outside-support channel on seeded synthetic plants: smooth extrapolation is not drift,
a step in time is.

Each stream: hourly residuals of a model trained on 59 winter days (temperature −5…10 °C,
daily cycle), then 150 monitored days warming up to 12…30 °C, so nearly every monitored hour
lies outside the support. The residual noise is AR(1) (φ = 0.6, σ = 1 kWh). The controls
carry what a winter-trained chiller does in summer: residuals that grow smoothly with the
temperature beyond its range, ``0.6 kWh/K × max(0, T − 16)``, nothing else. The changed
streams add a step of +1.5 kWh at day 100 on top. Measured at these seeds (40 streams each):
0 of 40 controls flagged over 150 days; of the steps, 39 of 40 flagged after the step (one
stream alarmed before it), median delay 3 days (the end of the step's third day), change
point within a day of the step in 36 of the 39.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from enms.drift.outside_support import NAME, outside_drift

TZ = "UTC"
REF_DAYS, CUR_DAYS, STEP_DAY = 59, 150, 100


def _plant(seed: int, step: float) -> tuple[pd.Series, pd.Series, pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    n_ref, n_cur = REF_DAYS * 24, CUR_DAYS * 24
    n = n_ref + n_cur
    index = pd.date_range("2025-01-01", periods=n, freq="h", tz=TZ)
    hour = np.arange(n) % 24
    daily_cycle = 4.0 * np.sin(2 * np.pi * (hour - 9) / 24)
    weather = np.zeros(n)
    for t in range(1, n):
        weather[t] = 0.97 * weather[t - 1] + rng.normal(0, 0.6)
    season = np.concatenate([np.full(n_ref, 2.0), np.linspace(17.0, 23.0, n_cur)])
    temperature = season + daily_cycle + weather
    temperature[:n_ref] = np.clip(temperature[:n_ref], -5.0, 10.0)
    noise = np.zeros(n)
    for t in range(1, n):
        noise[t] = 0.6 * noise[t - 1] + rng.normal(0, 0.8)
    residual = noise + 0.6 * np.maximum(0.0, temperature - 16.0)
    residual[n_ref + STEP_DAY * 24 :] += step
    drivers = pd.DataFrame({"outdoor_temp_c": temperature}, index=index)
    res = pd.Series(residual, index=index)
    return res.iloc[:n_ref], res.iloc[n_ref:], drivers.iloc[:n_ref], drivers.iloc[n_ref:]


Verdict = tuple[bool | None, pd.Timedelta | None, pd.Timedelta | None]


def _verdicts(step: float, seeds: range) -> list[Verdict]:
    out = []
    for seed in seeds:
        ref, cur, ref_drv, cur_drv = _plant(seed, step)
        found = outside_drift(
            ref, cur, timezone=TZ, reference_drivers=ref_drv, current_drivers=cur_drv
        )
        start = cur.index[0] + pd.Timedelta(days=STEP_DAY)
        delay = error = None
        if found.detected_at is not None and found.change_point is not None:
            delay = pd.Timestamp(found.detected_at) - start
            error = abs(pd.Timestamp(found.change_point) - start)
        out.append((found.drift_detected, delay, error))
    return out


def test_smooth_extrapolation_is_not_drift() -> None:
    """0 of 40 measured."""
    verdicts = _verdicts(0.0, range(100, 140))
    assert all(v is not None for v, _, _ in verdicts)
    assert sum(bool(v) for v, _, _ in verdicts) <= 2  # ≤ 5 % false alarms over 150 days


def test_a_step_in_time_is_flagged_with_its_change_point() -> None:
    """39 of 40 measured, median delay 3 days, 36 of 39 change points within a day."""
    verdicts = _verdicts(1.5, range(200, 240))
    after = [(d, e) for v, d, e in verdicts if v and d is not None and d > pd.Timedelta(0)]
    assert len(after) >= 38  # ≥ 95 % detected after the step
    delays = sorted(d for d, _ in after)
    assert delays[len(delays) // 2] <= pd.Timedelta(days=3)
    within_a_day = [e for _, e in after if e is not None and e <= pd.Timedelta(days=1)]
    assert len(within_a_day) >= 0.9 * len(after)


def test_the_verdict_names_its_test_and_matched_driver() -> None:
    ref, cur, ref_drv, cur_drv = _plant(7, 1.5)
    found = outside_drift(ref, cur, timezone=TZ, reference_drivers=ref_drv, current_drivers=cur_drv)
    assert found.test is not None
    assert found.test["name"] == NAME
    assert found.test["settings"]["matched_drivers"] == ["outdoor_temp_c"]
    assert found.details["n_current_hours_matched"] > 1000


def test_nothing_outside_the_support_is_undecided_with_a_reason() -> None:
    ref, cur, ref_drv, cur_drv = _plant(7, 0.0)
    found = outside_drift(
        ref, cur.iloc[:0], timezone=TZ, reference_drivers=ref_drv, current_drivers=cur_drv
    )
    assert found.drift_detected is None
    assert found.reason == "no monitored reading outside the support"
