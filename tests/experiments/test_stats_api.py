"""The A/B statistics against hand computations with scipy, and their input checks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from enms.experiments import stats
from enms.experiments.arms import arms_for


def _arms_data(seed: int, days: int = 10) -> tuple[pd.DatetimeIndex, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    idx = pd.date_range("2026-03-01", periods=days * 96, freq="15min", tz="UTC")
    la = np.abs(rng.normal(0, 1.0, idx.size))
    lb = np.abs(rng.normal(0, 0.9, idx.size))
    return idx, la, lb


def test_compare_arms_equals_one_sample_t_on_daily_differences_by_scipy() -> None:
    idx, la, lb = _arms_data(1)
    arm = arms_for(11, idx, 0.5, slot_minutes=60)
    ia, ib = idx[arm == "a"], idx[arm == "b"]
    got = stats.compare_arms(ia, la[arm == "a"], ib, lb[arm == "b"], alpha=0.05)

    # By hand: per-day means with pandas, one-sample t over days with scipy.
    day_a = pd.Series(la[arm == "a"], index=ia).groupby(ia.normalize()).mean()
    day_b = pd.Series(lb[arm == "b"], index=ib).groupby(ib.normalize()).mean()
    d = (day_b - day_a).to_numpy()
    ref = sps.ttest_1samp(d, 0.0)
    ci = ref.confidence_interval(0.95)
    assert got.n_units == 10
    assert got.estimate == pytest.approx(d.mean(), rel=1e-12)
    assert got.p_value == pytest.approx(ref.pvalue, rel=1e-9)
    assert (got.ci_low, got.ci_high) == pytest.approx((ci.low, ci.high), rel=1e-9)
    assert got.n_a + got.n_b == idx.size
    assert stats.verdict(got, 0.05) == ("b" if ref.pvalue < 0.05 else "inconclusive")


def test_diebold_mariano_equals_a_hand_hac_computation() -> None:
    idx, la, lb = _arms_data(2, days=7)
    got = stats.diebold_mariano(idx, la, lb, lag=10)
    # By hand: AR(1) prewhitening, Bartlett weights over 10 lags, recolouring, fixed-b
    # factor and Student t by scipy.
    d = lb - la
    n = d.size
    x = d - d.mean()
    rho = np.sum(x[1:] * x[:-1]) / np.sum(x[:-1] ** 2)
    r = x[1:] - rho * x[:-1]
    r = r - r.mean()
    m = r.size
    gamma = [np.sum(r[j:] * r[: m - j]) / m for j in range(11)]
    lrv = (gamma[0] + 2 * sum((1 - j / 11) * gamma[j] for j in range(1, 11))) / (1 - rho) ** 2
    b = 11 / n
    t = d.mean() / np.sqrt(lrv / n) * np.sqrt(1 - b + b * b / 3)
    p = 2 * sps.t.sf(abs(t), 1.5 / b)
    assert got.estimate == pytest.approx(d.mean(), rel=1e-12)
    assert got.p_value == pytest.approx(p, rel=1e-9)
    assert got.settings["lag"] == 10
    assert got.settings["prewhitening_rho"] == pytest.approx(rho)
    half = sps.t.ppf(0.975, 1.5 / b) * np.sqrt(lrv / n) / np.sqrt(1 - b + b * b / 3)
    assert (got.ci_low, got.ci_high) == pytest.approx((d.mean() - half, d.mean() + half))


def test_losses_and_summary() -> None:
    assert stats.losses("mae", [1.0, 3.0], [2.0, 1.0]).tolist() == [1.0, 2.0]
    assert stats.losses("energy_kwh", [1.0], [2.5]).tolist() == [1.5]
    with pytest.raises(ValueError, match="price"):
        stats.losses("cost", [1.0], [2.0])
    with pytest.raises(ValueError, match="not one of"):
        stats.losses("r2", [1.0], [2.0])
    s = stats.summarise([10.0, 20.0, 30.0], [12.0, 18.0, 30.0])
    assert s.n == 3
    assert s.mae == pytest.approx(4 / 3)
    assert s.rmse == pytest.approx(np.sqrt(8 / 3))
    assert s.mean_actual == pytest.approx(20.0)


def test_too_little_data_is_said_not_guessed() -> None:
    idx = pd.date_range("2026-03-01", periods=4, freq="1h", tz="UTC")
    with pytest.raises(stats.InsufficientData, match="at least 2"):
        stats.compare_arms(idx[:2], [1.0, 2.0], idx[2:], [1.0, 2.0])
    assert stats.sequential_p_value(idx[:2], [1.0, 2.0], idx[2:], [1.0, 2.0]) is None
    assert stats.required_per_arm(idx[:2], [1.0, 2.0], idx[2:], [1.0, 2.0]) is None
    assert stats.srm(0, 0, 0.5)["mismatch"] is None
