"""The A/B statistics against hand computations with scipy, and their input checks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from enms.experiments import stats
from enms.experiments.arms import arms_for
from enms.experiments.blocking import block_differences


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

    # By hand: per-day means and counts with pandas, the one-sample t statistic with scipy,
    # Welch–Satterthwaite df from per-day variance proxies (1/n_a + 1/n_b)·level², scipy's t.
    day_a = pd.Series(la[arm == "a"], index=ia).groupby(ia.normalize()).agg(["mean", "size"])
    day_b = pd.Series(lb[arm == "b"], index=ib).groupby(ib.normalize()).agg(["mean", "size"])
    d = (day_b["mean"] - day_a["mean"]).to_numpy()
    ref = sps.ttest_1samp(d, 0.0)
    level = ((day_a["mean"] + day_b["mean"]) / 2).to_numpy()
    v = (1 / day_a["size"].to_numpy() + 1 / day_b["size"].to_numpy()) * level**2
    k = d.size
    df = (k - 1) * v.sum() ** 2 / (k * (v**2).sum())
    p = 2 * sps.t.sf(abs(ref.statistic), df)
    half = sps.t.ppf(0.975, df) * d.std(ddof=1) / np.sqrt(k)
    assert got.n_units == 10
    assert 1 <= got.settings["df"] <= 9
    assert got.settings["df"] == pytest.approx(df, rel=1e-12)
    assert got.estimate == pytest.approx(d.mean(), rel=1e-12)
    assert got.p_value == pytest.approx(p, rel=1e-9)
    assert (got.ci_low, got.ci_high) == pytest.approx((d.mean() - half, d.mean() + half))
    assert got.n_a + got.n_b == idx.size
    # With equal blocks the df are K − 1 and the p-value is scipy's one-sample t-test's.
    assert df < k - 1
    assert stats.verdict(got, 0.05) == ("b" if p < 0.05 else "inconclusive")


def test_compare_arms_on_equal_blocks_is_scipys_one_sample_t_test() -> None:
    idx = pd.date_range("2026-03-01", periods=6 * 4, freq="6h", tz="UTC")
    is_b = np.tile([False, True], idx.size // 2)
    la = np.ones(idx.size // 2)  # the same level every day (B within 1 %): equal proxies
    rng = np.random.default_rng(9)
    lb = 1.0 + rng.normal(0, 0.01, idx.size // 2)
    got = stats.compare_arms(idx[~is_b], la, idx[is_b], lb)
    d = lb.reshape(-1, 2).mean(axis=1) - 1.0
    ref = sps.ttest_1samp(d, 0.0)
    assert got.settings["df"] == pytest.approx(5, rel=1e-3)
    assert got.p_value == pytest.approx(ref.pvalue, rel=1e-3)


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


def _daily_arms(days: int, hours: int = 24) -> tuple[pd.DatetimeIndex, np.ndarray, np.ndarray]:
    idx = pd.date_range("2026-03-01", periods=days * 24, freq="1h", tz="UTC")[
        : (days - 1) * 24 + hours
    ]
    is_b = arms_for(5, idx, 0.5, slot_minutes=60) == "b"
    rng = np.random.default_rng(3)
    loss = np.abs(rng.normal(0, 1, idx.size)) * np.where(is_b, 0.5, 1.0)
    return idx, loss, is_b


def test_sequential_p_value_waits_for_complete_blocks() -> None:
    idx, loss, is_b = _daily_arms(8, hours=10)  # 7 full days and 10 hours of the 8th
    args = (idx[~is_b], loss[~is_b], idx[is_b], loss[is_b])
    seven = stats.sequential_p_value(*args)
    assert seven is not None
    # The partial 8th day does not count, with or without a clock …
    assert stats.sequential_p_value(*args, now=idx[-1]) == seven
    cut = idx < pd.Timestamp("2026-03-08", tz="UTC")
    full7 = (idx[cut & ~is_b], loss[cut & ~is_b], idx[cut & is_b], loss[cut & is_b])
    assert stats.sequential_p_value(*full7) == seven
    # … and with a clock before the 7th day ends, there are only 6 blocks: no decision yet.
    assert stats.sequential_p_value(*args, now=pd.Timestamp("2026-03-07 12:00", tz="UTC")) is None
    # Naive timestamps are taken as UTC.
    naive = (idx[~is_b].tz_localize(None), loss[~is_b], idx[is_b].tz_localize(None), loss[is_b])
    assert stats.sequential_p_value(*naive) == seven


def test_blocked_test_counts_what_it_drops() -> None:
    idx, loss, is_b = _daily_arms(5)
    la = loss[~is_b].copy()
    la[:3] = np.nan
    got = stats.compare_arms(idx[~is_b], la, idx[is_b], loss[is_b])
    assert got.settings["points_dropped"] == 3
    assert got.n_a + got.n_b == idx.size - 3
    assert got.estimate < 0  # B's losses are half of A's
    assert stats.verdict(got, 0.05, p_value=0.5) == "inconclusive"


def test_required_size_for_rmse_counts_in_squared_errors() -> None:
    idx, loss, is_b = _daily_arms(6)
    args = (idx[~is_b], loss[~is_b], idx[is_b], loss[is_b])
    mae = stats.required_per_arm(*args, mde_relative=0.10)
    rmse = stats.required_per_arm(*args, mde_relative=0.10, metric="rmse")
    assert mae is not None
    assert rmse is not None
    # Same losses, so the same spread: only the effect differs. 10 % lower RMSE is 19 % lower
    # mean squared error, so about (10/19)² of the readings.
    assert rmse < mae
    assert rmse == pytest.approx(mae * (0.10 / 0.19) ** 2, rel=0.25)


def test_short_blocks_are_merged_not_weighted_like_full_days() -> None:
    # A test started at 21:00 and looked at at 03:00 fifteen days later: a 3-hour first day
    # and a 3-hour last day around 14 full ones.
    idx = pd.date_range("2026-03-01 21:00", "2026-03-16 02:45", freq="15min", tz="UTC")
    is_b = arms_for(8, idx, 0.5, slot_minutes=60) == "b"
    rng = np.random.default_rng(4)
    loss = np.abs(rng.normal(0, 1, idx.size))
    ta, la, tb, lb = idx[~is_b], loss[~is_b], idx[is_b], loss[is_b]
    merged = block_differences(ta, la, tb, lb)
    plain = block_differences(ta, la, tb, lb, merge_below=0.0)
    assert plain.n_blocks == 16
    assert merged.n_blocks == 14
    assert merged.starts[0] == pd.Timestamp("2026-03-01", tz="UTC")
    assert merged.ends[0] == pd.Timestamp("2026-03-03", tz="UTC")  # 1 March joined 2 March
    assert merged.ends[-1] == pd.Timestamp("2026-03-17", tz="UTC")  # 16 March joined 15th
    assert merged.n_a + merged.n_b == idx.size  # nothing lost
    # The short days would have cost the spread most of its degrees of freedom.
    assert merged.effective_df() > 2 * plain.effective_df()
    got = stats.compare_arms(ta, la, tb, lb)
    assert got.n_units == 14
    # The sequential test merges forward only: the short last day waits (is left out) …
    seq = block_differences(ta, la, tb, lb, merge_last=False)
    assert seq.last_open
    assert seq.n_blocks == 15  # the open one is there, flagged
    assert seq.ends[-1] == pd.Timestamp("2026-03-17", tz="UTC")
    cut = idx < pd.Timestamp("2026-03-15", tz="UTC")
    before = (idx[cut & ~is_b], loss[cut & ~is_b], idx[cut & is_b], loss[cut & is_b])
    # … so its p-value is the one of the data up to the last complete day.
    assert stats.sequential_p_value(ta, la, tb, lb) == stats.sequential_p_value(
        *before, now=pd.Timestamp("2026-03-15", tz="UTC")
    )
