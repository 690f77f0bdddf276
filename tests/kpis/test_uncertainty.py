"""ASHRAE Guideline 14 fractional savings uncertainty of cumulative savings (pure, no DB)."""

from __future__ import annotations

import math

import pytest
from scipy import stats

from enms.kpis.uncertainty import BaselineStats, savings_uncertainty

BASE = BaselineStats(cv_rmse_percent=8.0, n=2880, n_params=30, autocorrelation=0.4)


def test_matches_the_formula_computed_by_hand() -> None:
    m, expected, savings = 1464, 150_000.0, 12_000.0  # F = 0.08
    got = savings_uncertainty(stats=BASE, savings_kwh=savings, expected_kwh=expected, m=m)
    n_eff = 2880 * (1 - 0.4) / (1 + 0.4)
    t = stats.t.ppf(0.84, n_eff - 30)  # two-sided 68 %
    fsu = 1.26 * t * 0.08 * math.sqrt((2880 / n_eff) * (1 + 2 / n_eff) / m) / 0.08
    assert got.fsu_percent == pytest.approx(100 * fsu, rel=1e-12)
    assert got.absolute_kwh == pytest.approx(fsu * savings, rel=1e-12)
    assert got.reason is None


def test_shrinks_like_one_over_sqrt_m() -> None:
    """Same savings fraction, four and sixteen times the reporting readings: 1/2 and 1/4."""

    def fsu(m: int) -> float:
        u = savings_uncertainty(stats=BASE, savings_kwh=-0.1 * m, expected_kwh=1.0 * m, m=m)
        assert u.fsu_percent is not None
        return u.fsu_percent

    assert fsu(400) / fsu(100) == pytest.approx(0.5, rel=1e-12)
    assert fsu(1600) / fsu(100) == pytest.approx(0.25, rel=1e-12)


def test_excess_consumption_gets_the_uncertainty_of_its_size() -> None:
    saved = savings_uncertainty(stats=BASE, savings_kwh=500.0, expected_kwh=5000.0, m=100)
    lost = savings_uncertainty(stats=BASE, savings_kwh=-500.0, expected_kwh=5000.0, m=100)
    assert saved == lost


def test_undefined_fraction_when_nothing_was_saved() -> None:
    """F = 0: the fraction diverges (None, with the reason); the kWh figure stays defined."""
    u = savings_uncertainty(stats=BASE, savings_kwh=0.0, expected_kwh=5000.0, m=100)
    other = savings_uncertainty(stats=BASE, savings_kwh=50.0, expected_kwh=5000.0, m=100)
    assert u.fsu_percent is None
    assert u.reason is not None
    assert "F ~ 0" in u.reason
    assert u.absolute_kwh == pytest.approx(other.absolute_kwh)
    none = savings_uncertainty(stats=None, savings_kwh=50.0, expected_kwh=5000.0, m=100)
    assert none.absolute_kwh is None
    assert none.fsu_percent is None


def test_stats_come_from_the_stored_fit_summary() -> None:
    summary = {"cv_rmse": 8.0, "n": 2880, "n_params": 30, "residual_autocorrelation": 0.4}
    assert BaselineStats.of({"summary": summary}) == BASE
    assert BaselineStats.of({"cv_rmse": 8.0}) is None
