"""The baseline recovers the generator's truth, matches plain OLS, and refuses thin data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from enms.demo.generator import SyntheticMachine
from enms.ml import metrics
from enms.ml.base import InsufficientData
from enms.ml.baseline import COOLING, HEATING, BaselineModel
from enms.ml.features import time_of_week_groups

from .conftest import Aggregate

# Machines whose whole year follows one truth (spike rows are labelled and left out of fits);
# the compressor (efficiency loss) and the injection moulding line (product-mix change) are
# used up to their first event only.
STABLE = ("furnace", "chiller", "cnc_line", "boiler", "hvac", "lighting")
ALL_TYPES = (*STABLE, "compressor", "injection_moulding")
PER_UNIT = ("production_units", "operating_hours")


def _pre_event(machine: SyntheticMachine, frame: pd.DataFrame) -> pd.DataFrame:
    starts = [e.start for e in machine.truth.events if e.kind != "anomalous_spikes"]
    return frame[frame.index < min(starts)] if starts else frame


@pytest.mark.parametrize("machine_type", ALL_TYPES)
def test_recovers_true_coefficients_on_hourly_data(
    plant_by_type: dict[str, SyntheticMachine], to_hourly: Aggregate, machine_type: str
) -> None:
    machine = plant_by_type[machine_type]
    truth = machine.truth
    frame = _pre_event(machine, to_hourly(machine.readings))
    model = BaselineModel().fit(frame)
    coef = model.coefficients_
    # Per-unit and per-operating-hour coefficients do not change when 15-minute readings are
    # summed to hours, and the intercept scales by 4: OLS is unbiased for them here, so the
    # estimate must lie within 3 standard errors of the truth.
    expected = {name: truth.coefficients[name] for name in PER_UNIT if name in model.drivers_}
    weather = truth.heating_balance_c is not None or truth.cooling_balance_c is not None
    if weather:  # the intercept absorbs the hinge aggregation bias described below
        intercept = coef.loc["intercept", "estimate"]
        assert intercept == pytest.approx(4 * truth.intercept_kwh, rel=0.02)
    else:
        expected["intercept"] = 4 * truth.intercept_kwh
    for term, value in expected.items():
        est, se = coef["estimate"].to_dict()[term], coef["std_error"].to_dict()[term]
        assert abs(est - value) < 3 * se, f"{term}: {est:.4f} ± {se:.4f} vs true {value}"
    # A driver the truth does not use (production of a lighting hall is constant 0) is dropped.
    assert set(model.drivers_) | set(model.summary_["dropped_drivers"]) == set(PER_UNIT)
    # Temperature: hourly mean temperature in a hinge is not the mean of the 15-minute hinges
    # near the balance point (Jensen), a small bias of the true model, so slopes get a 2 %
    # relative tolerance instead of 3 SE; balance points must be the true ones.
    checks: list[tuple[float | None, float, float | None, str]] = [
        (truth.heating_balance_c, truth.heating_slope, model.heating_balance_c_, HEATING),
        (truth.cooling_balance_c, truth.cooling_slope, model.cooling_balance_c_, COOLING),
    ]
    for balance, slope, fitted_balance, term in checks:
        if balance is None:
            assert fitted_balance is None, f"spurious {term} at {fitted_balance}"
            continue
        assert fitted_balance == pytest.approx(balance, abs=1.0)
        assert coef.loc[term, "estimate"] == pytest.approx(4 * slope, rel=0.02)


@pytest.mark.parametrize("machine_type", STABLE)
@pytest.mark.parametrize("resolution", ["15min", "1h"])
def test_held_out_cv_rmse_is_at_the_noise_floor(
    plant_by_type: dict[str, SyntheticMachine],
    to_hourly: Aggregate,
    machine_type: str,
    resolution: str,
) -> None:
    machine = plant_by_type[machine_type]
    frame = machine.readings if resolution == "15min" else to_hourly(machine.readings)
    readings_per_row = 1 if resolution == "15min" else 4
    train, test = frame.loc[:"2025-09-30"], frame.loc["2025-10-01":]
    test = test[~test["is_anomaly"]]
    model = BaselineModel().fit(train)
    cv = metrics.cv_rmse(test["energy_kwh"], model.predict(test))
    noise_sd = machine.truth.noise_sd_kwh * np.sqrt(readings_per_row)
    floor = 100 * noise_sd / test["energy_kwh"].mean()
    assert cv <= 1.10 * floor, f"CV(RMSE) {cv:.3f} % vs noise floor {floor:.3f} %"


def test_fast_path_equals_full_dummy_ols(
    plant_by_type: dict[str, SyntheticMachine], to_hourly: Aggregate
) -> None:
    frame = to_hourly(plant_by_type["hvac"].readings).loc[:"2025-09-30"]  # both seasons
    frame = frame[~frame["is_anomaly"]]
    model = BaselineModel().fit(frame)
    index = pd.DatetimeIndex(frame.index)
    groups, n_groups = time_of_week_groups(index, "Europe/Berlin", pd.Timedelta("1h"))
    dummies = np.eye(n_groups)[groups][:, 1:]
    temp = frame["outdoor_temp_c"].to_numpy()
    assert model.heating_balance_c_ is not None
    assert model.cooling_balance_c_ is not None
    x = np.column_stack(
        [
            frame[model.drivers_].to_numpy(),
            np.maximum(0, model.heating_balance_c_ - temp),
            np.maximum(0, temp - model.cooling_balance_c_),
            dummies,
        ]
    )
    ols = sm.OLS(frame["energy_kwh"].to_numpy(), sm.add_constant(x)).fit()
    k = len(model.drivers_) + 2
    ours = model.coefficients_.iloc[1:]
    np.testing.assert_allclose(ours["estimate"], ols.params[1 : 1 + k], rtol=1e-7)
    np.testing.assert_allclose(ours["std_error"], ols.bse[1 : 1 + k], rtol=1e-7)
    assert model.summary_["r_squared"] == pytest.approx(ols.rsquared, rel=1e-9)
    assert model.summary_["adj_r_squared"] == pytest.approx(ols.rsquared_adj, rel=1e-9)
    np.testing.assert_allclose(model.predict(frame), ols.fittedvalues, rtol=1e-7)
    # the chosen balance points beat their grid neighbours in SSR (same parameter count)
    for dh, dc in ((1, 0), (-1, 0), (0, 1), (0, -1)):
        x2 = x.copy()
        x2[:, k - 2] = np.maximum(0, model.heating_balance_c_ + dh - temp)
        x2[:, k - 1] = np.maximum(0, temp - model.cooling_balance_c_ - dc)
        assert sm.OLS(frame["energy_kwh"].to_numpy(), sm.add_constant(x2)).fit().ssr > ols.ssr


def test_reports_iso50006_and_ashrae_figures(
    plant_by_type: dict[str, SyntheticMachine], to_hourly: Aggregate
) -> None:
    model = BaselineModel().fit(to_hourly(plant_by_type["boiler"].readings))
    s = model.summary_
    assert model.ashrae14_ == {"hourly": True, "monthly": True}
    assert s["doe_enpi_valid"] is True
    assert s["r_squared"] > 0.9
    assert s["f_pvalue"] < 1e-10
    assert abs(s["nmbe"]) < 1e-6  # OLS with an intercept is unbiased in sample
    assert list(model.coefficients_.columns) == ["estimate", "std_error", "t_value", "p_value"]
    fsu_month = model.savings_uncertainty(savings_fraction=0.1, reporting_points=730)
    fsu_year = model.savings_uncertainty(savings_fraction=0.1, reporting_points=8760)
    assert 0 < fsu_year < fsu_month < 50


def test_daily_data_uses_day_of_week_and_still_fits(
    plant_by_type: dict[str, SyntheticMachine], to_hourly: Aggregate
) -> None:
    hourly = to_hourly(plant_by_type["furnace"].readings)
    daily = hourly.resample("1D").agg(
        {"energy_kwh": "sum", "outdoor_temp_c": "mean", "production_units": "sum",
         "operating_hours": "sum"}
    )  # fmt: skip
    model = BaselineModel().fit(daily)
    assert model.summary_["n_params"] == 7 + len(model.drivers_) + 1  # 7 weekdays + heating
    assert model.summary_["r_squared"] > 0.95
    assert model.ashrae14_["hourly"] is None
    assert model.ashrae14_["monthly"] is True


def test_nan_rows_are_dropped_in_fit_and_nan_in_predict(
    plant_by_type: dict[str, SyntheticMachine], to_hourly: Aggregate
) -> None:
    frame = to_hourly(plant_by_type["cnc_line"].readings).loc[:"2025-03-31"].copy()
    frame.loc[frame.index[100:110], "production_units"] = np.nan
    frame.loc[frame.index[200:205], "energy_kwh"] = np.nan
    model = BaselineModel().fit(frame)
    labelled = int(frame["is_anomaly"].sum())
    assert model.summary_["n"] == len(frame) - 15 - labelled
    predicted = model.predict(frame)
    assert predicted.iloc[100:110].isna().all()
    assert predicted.drop(predicted.index[100:110]).notna().all()


def test_insufficient_data_says_why(plant_by_type: dict[str, SyntheticMachine]) -> None:
    readings = plant_by_type["furnace"].readings
    with pytest.raises(InsufficientData, match="complete readings"):
        BaselineModel().fit(readings.iloc[:20])
    with pytest.raises(InsufficientData, match=r"span 3\.0 days"):
        BaselineModel().fit(readings.iloc[: 3 * 96])
    flat = readings.iloc[: 30 * 96].assign(production_units=5.0)
    with pytest.raises(InsufficientData, match="'production_units' is constant"):
        BaselineModel(drivers=("production_units",)).fit(flat)
    auto = BaselineModel().fit(flat)  # auto-detected drivers: the constant one is dropped
    assert auto.summary_["dropped_drivers"] == ["production_units"]
