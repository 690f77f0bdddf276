"""The training-window change-point test as a statistic: size under autocorrelation, power."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.signal import lfilter

from enms.ml.window_check import cusum_test, training_window_check


def _ar1(rng: np.random.Generator, n: int, phi: float) -> np.ndarray:
    return np.asarray(lfilter([1.0], [1.0, -phi], rng.normal(0.0, 1.0, n)))


def test_false_alarm_rate_stays_near_alpha_with_autocorrelated_residuals() -> None:
    # 300 days of AR(1) daily residuals (phi 0.3, weather-front persistence), no change:
    # the long-run variance keeps the rejection rate at alpha = 1 % near its nominal level
    # (an i.i.d. variance would reject far more often). 400 runs: binomial SD 0.5 points.
    rng = np.random.default_rng(11)
    rejections = [cusum_test(_ar1(rng, 300, 0.3))[1] < 0.01 for _ in range(400)]
    assert np.mean(rejections) <= 0.03


def test_power_against_a_level_shift_and_location_of_the_change() -> None:
    rng = np.random.default_rng(12)
    hits, errors = 0, []
    for _ in range(200):
        x = _ar1(rng, 300, 0.3)
        x[180:] += 1.0  # one residual SD (of the innovations) after day 180
        _, p, k = cusum_test(x)
        hits += p < 0.01
        errors.append(abs(k - 180))
    assert hits / 200 >= 0.95
    assert np.median(errors) <= 3


def test_report_shape_and_not_checked_on_short_windows() -> None:
    index = pd.date_range("2025-01-01", periods=24 * 20, freq="h", tz="UTC")
    residuals = np.zeros(len(index))
    short = training_window_check(
        index=index, residuals=residuals, actual=np.ones(len(index)), timezone="UTC"
    )
    assert short["checked"] is False
    assert short["change_detected"] is None  # not checked is not "no change"
    assert "needs 28" in short["reason"]
    index = pd.date_range("2025-01-01", periods=24 * 100, freq="h", tz="UTC")
    rng = np.random.default_rng(3)
    residuals = rng.normal(0.0, 1.0, len(index)) + np.where(
        index >= pd.Timestamp("2025-03-01", tz="UTC"), 0.5, 0.0
    )
    rep = training_window_check(
        index=index, residuals=residuals, actual=np.full(len(index), 10.0), timezone="UTC"
    )
    assert rep["change_detected"] is True
    assert rep["change_point"] == "2025-03-01T00:00:00+00:00"
    assert abs(rep["shift_kwh"] - 0.5) < 0.1
    assert abs(rep["shift_percent"] - 5.0) < 1.0
    assert rep["n"] == 100
