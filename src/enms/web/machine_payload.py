"""The JSON the machine page's charts draw: one response assembled from
:class:`enms.web.machine_data.MachineInputs`.

Sign conventions, stated once: **savings = expected − actual** (positive: less energy than the
baseline), as in the KPIs; the CUSUM chart shows the classic **Σ (actual − expected)**, which
rises while the machine uses more than its baseline (a leak) and falls while it saves. Its band
is the ASHRAE Guideline 14 uncertainty of the cumulative savings the KPI report gives (68 %).
All energies are kWh; time labels are the machine's local wall-clock time.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from enms.kpis.schemas import KpiPeriodRead, KpiReport
from enms.web import machine_series as series
from enms.web.machine_data import MachineInputs
from enms.web.machine_window import SeriesWindow


def payload(
    inputs: MachineInputs,
    *,
    machine_id: int,
    name: str,
    timezone: str,
    window: SeriesWindow,
    now: datetime,
) -> dict[str, Any]:
    """Everything the page draws for ``window``."""
    grid = series.bucket_grid(window, timezone)
    energy = series.energy_series(inputs.readings, inputs.expected.points, grid)
    energy["baseline_versions"] = inputs.expected.versions
    forecast = series.forecast_series(inputs.readings, inputs.forecast.points, grid)
    forecast["model_type"] = inputs.forecast.model_type
    forecast["versions"] = inputs.forecast.versions
    forecast["interval"] = 0.9
    return {
        "machine": {"id": machine_id, "name": name, "timezone": timezone},
        "from": window.start.isoformat(),
        "to": window.end.isoformat(),
        "now": now.isoformat(),
        "bucket": {"label": window.bucket.label, "hours": window.bucket.hours},
        "n_readings": len(inputs.readings),
        "energy": energy,
        "forecast": forecast,
        "heatmap": series.heatmap(inputs.readings, timezone),
        "anomalies": series.anomaly_marks(inputs.anomalies, grid, energy["actual"]),
        "anomalies_truncated": inputs.anomalies_truncated,
        "cusum": cusum(inputs.kpis),
        "kpis": daily_kpis(inputs.kpis),
    }


def cusum(report: KpiReport) -> dict[str, Any]:
    """Σ (actual − expected) by local day, with the uncertainty band of the savings."""
    days: list[str] = []
    value: list[float | None] = []
    low: list[float | None] = []
    high: list[float | None] = []
    for period in report.periods:
        if period.cumulative_savings_kwh is None:
            continue
        excess = -period.cumulative_savings_kwh
        days.append(period.start.isoformat())
        value.append(round(excess, 3))
        u = period.cumulative_uncertainty_kwh
        low.append(None if u is None else round(excess - u, 3))
        high.append(None if u is None else round(excess + u, 3))
    last = report.periods[-1] if report.periods else None
    return {
        "x": days,
        "value": value,
        "low": low,
        "high": high,
        "confidence": report.confidence,
        "method": report.uncertainty_method,
        "baseline_version": report.baseline.version if report.baseline else None,
        "fsu_percent": last.cumulative_fsu_percent if last else None,
        "notes": report.notes,
    }


def _kpi_row(p: KpiPeriodRead) -> dict[str, Any]:
    return {
        "day": p.period,
        "n_readings": p.n_readings,
        "energy_kwh": p.energy_kwh,
        "expected_kwh": p.expected_kwh,
        "savings_kwh": p.savings_kwh,
        "enpi": p.enpi,
        "sec_kwh_per_unit": p.sec_kwh_per_unit,
        "production_units": p.production_units,
        "cumulative_savings_kwh": p.cumulative_savings_kwh,
    }


def daily_kpis(report: KpiReport) -> dict[str, Any]:
    """The stored daily KPIs of the window and their total."""
    return {
        "days": [_kpi_row(p) for p in report.periods],
        "total": _kpi_row(report.total) if report.total else None,
        "from_day": report.from_day.isoformat(),
        "to_day": report.to_day.isoformat(),
    }
