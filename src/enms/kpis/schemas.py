"""Pydantic I/O of the KPI stage: the report of ``GET /machines/{id}/kpis`` and ``enms kpis``."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

Resolution = Literal["day", "week", "month"]


class KpiBaselineRead(BaseModel):
    """The energy baseline of record the expectation comes from (ISO 50006 EnB)."""

    model_id: int
    version: int
    training_start: datetime | None
    training_end: datetime | None
    cv_rmse: float | None = Field(description="In-sample CV(RMSE), percent (n − p dof)")
    n: int | None = Field(description="Training readings (n in the FSU formula)")
    n_params: int | None
    residual_autocorrelation: float | None = Field(
        description="Lag-1 autocorrelation of the training residuals (rho in n')"
    )
    chosen: str = Field(description="Why this version")


class KpiPeriodRead(BaseModel):
    """KPIs of one local day, ISO week or month (only the days inside the window)."""

    period: str = Field(description="2025-06-01, 2025-W23 or 2025-06")
    start: date = Field(description="First local day of the period inside the window")
    end: date = Field(description="Day after the last local day inside the window")
    days_with_data: int
    n_readings: int
    energy_kwh: float
    production_units: float | None
    sec_kwh_per_unit: float | None = Field(description="Σ energy / Σ production")
    expected_kwh: float | None = Field(description="Baseline-expected energy")
    compared_energy_kwh: float | None = Field(
        description="Actual energy of the readings the baseline predicted"
    )
    enpi: float | None = Field(description="Σ actual / Σ expected (1.12: 12 % more energy)")
    savings_kwh: float | None = Field(description="Σ expected − Σ actual (positive: saved)")
    cumulative_savings_kwh: float | None = Field(description="From the window's start")
    cumulative_uncertainty_kwh: float | None = Field(
        description="Absolute uncertainty of the cumulative savings (68 %)"
    )
    cumulative_fsu_percent: float | None = Field(
        description="Fractional savings uncertainty of the cumulative savings, percent (68 %)"
    )


class KpiReport(BaseModel):
    """A machine's energy KPIs over ``[from_day, to_day)`` (local days) at a resolution."""

    machine_id: int
    machine: str
    timezone: str
    resolution: Resolution
    from_day: date
    to_day: date = Field(description="Exclusive")
    baseline: KpiBaselineRead | None
    uncertainty_method: str
    confidence: float
    periods: list[KpiPeriodRead]
    total: KpiPeriodRead | None = Field(description="The whole window")
    notes: list[str] = Field(default_factory=list)
