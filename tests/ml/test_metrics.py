"""Metric formulas against independent computations, and their refusal to invent numbers."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from sklearn import metrics as skm

from enms.ml import metrics
from enms.ml.metrics import METRICS, MetricUndefined

PAIRED: list[Callable[..., float]] = [
    metrics.r_squared,
    metrics.rmse,
    metrics.mae,
    metrics.mape,
    metrics.cv_rmse,
    metrics.nmbe,
    metrics.precision,
    metrics.recall,
    metrics.f1,
]


def test_catalogue_declares_the_public_keys_and_field_thresholds() -> None:
    for key in ("r_squared", "rmse", "mae", "mape", "cv_rmse", "nmbe"):
        assert key in METRICS
    for key in ("precision", "recall", "f1", "skill", "n"):
        assert key in METRICS
    assert METRICS["cv_rmse"].thresholds == {"hourly_max": 30.0, "monthly_max": 15.0}
    assert METRICS["nmbe"].thresholds == {"hourly_abs_max": 10.0, "monthly_abs_max": 5.0}
    assert METRICS["r_squared"].thresholds["doe_enpi_min"] == 0.5
    assert METRICS["fractional_savings_uncertainty"].thresholds["max"] == 50.0
    assert {METRICS[k].unit for k in ("mape", "cv_rmse", "nmbe")} == {"%"}
    assert all(spec.name == name for name, spec in METRICS.items())


@pytest.mark.parametrize("func", PAIRED, ids=lambda f: f.__name__)
@pytest.mark.parametrize(
    ("actual", "predicted", "reason"),
    [
        ([], [], "empty"),
        ([1.0, 2.0], [1.0], "mismatched lengths"),
        ([1.0, np.nan, 1.0], [1.0, 1.0, 1.0], "NaN"),
    ],
)
def test_degenerate_windows_raise_with_a_reason(
    func: Callable[..., float], actual: list[float], predicted: list[float], reason: str
) -> None:
    with pytest.raises(MetricUndefined, match=reason):
        func(actual, predicted)


def test_regression_metrics_match_scikit_learn() -> None:
    rng = np.random.default_rng(3)
    y = rng.uniform(50, 150, 500)
    p = y + rng.normal(0, 10, 500)
    assert metrics.r_squared(y, p) == pytest.approx(skm.r2_score(y, p))
    assert metrics.rmse(y, p) == pytest.approx(np.sqrt(skm.mean_squared_error(y, p)))
    assert metrics.mae(y, p) == pytest.approx(skm.mean_absolute_error(y, p))
    assert metrics.mape(y, p) == pytest.approx(100 * skm.mean_absolute_percentage_error(y, p))
    assert metrics.cv_rmse(y, p) == pytest.approx(100 * metrics.rmse(y, p) / y.mean())


def test_ashrae_degrees_of_freedom_and_bias_sign() -> None:
    y, p = np.array([10.0, 20.0, 30.0, 40.0]), np.array([9.0, 19.0, 29.0, 39.0])
    assert metrics.nmbe(y, p) == pytest.approx(100 * 4 / (4 * 25))  # under-prediction > 0
    assert metrics.cv_rmse(y, p, n_params=2) == pytest.approx(100 * np.sqrt(4 / 2) / 25)
    with pytest.raises(MetricUndefined, match="do not exceed"):
        metrics.cv_rmse(y, p, n_params=4)


def test_zero_mean_and_zero_variance_are_undefined() -> None:
    with pytest.raises(MetricUndefined, match="mean of actuals is zero"):
        metrics.nmbe([-1.0, 1.0], [0.0, 0.0])
    with pytest.raises(MetricUndefined, match="zero variance"):
        metrics.r_squared([3.0, 3.0, 3.0], [3.0, 2.0, 3.0])


def test_mape_leaves_out_near_zero_actuals() -> None:
    # mean |y| = 100.2; 0.5 < 1 % of that, so the third point is ignored
    assert metrics.mape([100.0, 200.0, 0.5], [90.0, 220.0, 50.0]) == pytest.approx(10.0)
    with pytest.raises(MetricUndefined, match="all actuals are zero"):
        metrics.mape([0.0, 0.0], [1.0, 1.0])


def test_classification_scores_match_scikit_learn_and_refuse_empty_classes() -> None:
    rng = np.random.default_rng(5)
    labels = rng.random(300) < 0.1
    flags = labels ^ (rng.random(300) < 0.05)
    assert metrics.precision(labels, flags) == pytest.approx(skm.precision_score(labels, flags))
    assert metrics.recall(labels, flags) == pytest.approx(skm.recall_score(labels, flags))
    assert metrics.f1(labels, flags) == pytest.approx(skm.f1_score(labels, flags))
    with pytest.raises(MetricUndefined, match="no positive labels"):
        metrics.f1([False, False], [True, False])
    with pytest.raises(MetricUndefined, match="no point was flagged"):
        metrics.precision([True, False], [False, False])


def test_skill_and_coverage() -> None:
    y = np.array([1.0, 2.0, 3.0, 4.0])
    assert metrics.forecast_skill(y, y + 1, y + 2) == pytest.approx(0.5)
    assert metrics.forecast_skill(y, y + 2, y + 1) == pytest.approx(-1.0)
    assert metrics.interval_coverage(y, y - 1, y + 1) == 1.0
    with pytest.raises(MetricUndefined, match="lower bounds exceed"):
        metrics.interval_coverage(y, y + 1, y - 1)


def test_savings_uncertainty_behaves_like_the_ashrae_formula() -> None:
    def fsu(m: int, *, fraction: float = 0.1, rho: float = 0.0) -> float:
        return metrics.fractional_savings_uncertainty(
            savings_fraction=fraction,
            cv_rmse_percent=20.0,
            n_baseline=8760,
            m_reporting=m,
            n_params=5,
            autocorrelation=rho,
        )

    one_month, one_year = fsu(730), fsu(8760)
    assert one_year == pytest.approx(one_month / np.sqrt(12), rel=1e-9)  # ∝ 1/sqrt(m)
    # n' = n·0.2/1.8, so the uncertainty grows by about sqrt(n/n') = 3
    assert fsu(8760, rho=0.8) / one_year == pytest.approx(3.0, rel=0.01)
    assert fsu(8760, fraction=0.2) == pytest.approx(one_year / 2)


def test_savings_uncertainty_matches_the_ipmvp_worked_example() -> None:
    """EVO 10100-1:2014 "Statistics and Uncertainty for IPMVP", section 6, Table 3: twelve
    monthly readings regressed on CDD, standard error of the estimate 367.5 kWh, predicted
    baseline 6,920 kWh per month, reporting use 4,300 kWh per month (savings 2,620 kWh per
    month, 31,440 kWh per year), t = 2.2 from its table for 95 %. Published: absolute precision
    of the annual savings 2,801 kWh, relative precision 9 %. That is Guideline 14's formula
    with the 1.26 factor, the autocorrelation and the parameter term switched off."""
    baseline, standard_error, saved = 6920.0, 367.5, 2620.0
    fsu = metrics.fractional_savings_uncertainty(
        savings_fraction=saved / baseline,
        cv_rmse_percent=100.0 * standard_error / baseline,
        n_baseline=12,
        m_reporting=12,
        n_params=2,
        scale=1.0,
        parameter_term=False,
        t_value=2.2,
    )
    assert round(fsu) == 9  # the published "9 %"
    assert fsu / 100.0 * 12 * saved == pytest.approx(2801.0, abs=1.0)  # "2.2 x 1,273 = 2,801"
    # Guideline 14's own terms on the same example: 1.26 and sqrt(1 + 2/n) on top.
    g14 = metrics.fractional_savings_uncertainty(
        savings_fraction=saved / baseline,
        cv_rmse_percent=100.0 * standard_error / baseline,
        n_baseline=12,
        m_reporting=12,
        n_params=2,
        t_value=2.2,
    )
    assert g14 / fsu == pytest.approx(1.26 * np.sqrt(1 + 2 / 12), rel=1e-9)


def test_regression_report_records_values_and_reasons() -> None:
    report = metrics.regression_report([5.0, 5.0, 5.0], [4.0, 5.0, 6.0], n_params=1)
    assert set(report.values) == {"r_squared", "rmse", "mae", "mape", "cv_rmse", "nmbe", "n"}
    assert report.values["r_squared"] is None
    assert "zero variance" in report.undefined["r_squared"]
    assert report.values["n"] == 3
    assert report.values["cv_rmse"] == pytest.approx(100 * np.sqrt(2 / 2) / 5)
