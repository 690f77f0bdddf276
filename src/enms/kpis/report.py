"""Reading stored daily KPIs back, aggregated per local day, ISO week or month.

Ratios are recomputed from sums, never averaged: SEC = Σ energy / Σ production (over the days
with production), EnPI = Σ actual / Σ expected (over the readings the baseline predicted),
savings = Σ expected − Σ actual. Cumulative savings run from the window's first day, each with
its ASHRAE Guideline 14 uncertainty (:mod:`enms.kpis.uncertainty`) against the baseline of
record's fit statistics; ``m`` is the number of readings of the days with an expectation.

Windows are local calendar days: a date names that local day; an instant names the first
local day starting at or after it. ``to`` is exclusive; the default is the last 30 complete
days.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd
from sqlalchemy.orm import Session

from enms.core.clock import Clock
from enms.core.errors import InvalidInput
from enms.core.timewindow import parse_instant
from enms.kpis import repository, uncertainty
from enms.kpis.daily import day_bounds
from enms.kpis.models import EnergyKpi
from enms.kpis.schemas import KpiBaselineRead, KpiPeriodRead, KpiReport, Resolution
from enms.readings import service as readings
from enms.registry.models import ModelVersion

DEFAULT_DAYS = 30
MAX_DAYS = 3660
CHOSEN = (
    "the energy baseline of record: the earliest baseline version that was ever champion "
    "(ISO 50006 keeps the EnB fixed; a version retrained after a change would absorb it)"
)


def kpi_report(
    *,
    session: Session,
    clock: Clock,
    machine_id: int,
    start: str | None,
    end: str | None,
    resolution: Resolution,
) -> KpiReport:
    """The machine's KPIs in the window at ``resolution``; NotFound / InvalidInput."""
    machine = readings.get_machine(session=session, machine_id=machine_id)
    tz = machine.timezone
    first, last = window_days(start, end, timezone=tz, today=_today(clock, tz))
    rows = repository.rows_between(session, machine.id, first, last - timedelta(days=1))
    baseline = repository.baseline_of_record(session, machine.id)
    stats = uncertainty.BaselineStats.of(baseline.metrics_in_sample) if baseline else None
    notes = []
    if baseline is None:
        notes.append("no baseline has been champion yet: energy and SEC only")
    else:
        other = sum(1 for r in rows if r.baseline_model_id != baseline.id)
        if other:
            notes.append(
                f"{other} day(s) were computed without or against another baseline than the "
                "baseline of record; kpi_calculate recomputes them on its next run"
            )
    unpredicted = sum(1 for r in rows if r.baseline_model_id is not None and r.expected_kwh is None)
    if unpredicted:
        notes.append(f"{unpredicted} day(s) have no expectation: their readings lack a driver")
    periods = aggregate(rows, resolution=resolution, first=first, last=last, stats=stats)
    total = aggregate(rows, resolution=None, first=first, last=last, stats=stats)
    return KpiReport(
        machine_id=machine.id,
        machine=machine.name,
        timezone=tz,
        resolution=resolution,
        from_day=first,
        to_day=last,
        baseline=_baseline(baseline),
        uncertainty_method=uncertainty.METHOD,
        confidence=uncertainty.CONFIDENCE,
        periods=periods,
        total=total[0] if total else None,
        notes=notes,
    )


def window_days(
    start: str | None, end: str | None, *, timezone: str, today: date
) -> tuple[date, date]:
    """``[first, last)`` local days of a ``from``/``to`` pair (default: the last 30 days)."""
    last = _day(end, "to", timezone) if end else today
    first = _day(start, "from", timezone) if start else last - timedelta(days=DEFAULT_DAYS)
    if first >= last:
        raise InvalidInput(f"from ({first}) must be before to ({last}): windows are [from, to)")
    if (last - first).days > MAX_DAYS:
        raise InvalidInput(f"from/to: at most {MAX_DAYS} days per request")
    return first, last


def _day(text: str, name: str, timezone: str) -> date:
    value = text.strip()
    if len(value) == 10:
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise InvalidInput(f"{name}: {text!r} is not an ISO 8601 date or instant") from None
    instant = parse_instant(value, field=name)
    day: date = pd.Timestamp(instant).tz_convert(timezone).date()
    return day if day_bounds(day, timezone)[0] >= instant else day + timedelta(days=1)


def _today(clock: Clock, timezone: str) -> date:
    day: date = pd.Timestamp(clock.now()).tz_convert(timezone).date()
    return day


def period_of(day: date, resolution: Resolution | None) -> tuple[str, date, date]:
    """(label, first day, day after the last) of the period ``day`` falls in.

    >>> period_of(date(2025, 6, 4), "week")
    ('2025-W23', datetime.date(2025, 6, 2), datetime.date(2025, 6, 9))
    >>> period_of(date(2025, 12, 4), "month")
    ('2025-12', datetime.date(2025, 12, 1), datetime.date(2026, 1, 1))
    """
    if resolution == "day":
        return day.isoformat(), day, day + timedelta(days=1)
    if resolution == "week":
        year, week, _ = day.isocalendar()
        monday = day - timedelta(days=day.weekday())
        return f"{year}-W{week:02d}", monday, monday + timedelta(days=7)
    if resolution == "month":
        first = day.replace(day=1)
        return f"{day:%Y-%m}", first, (first + timedelta(days=32)).replace(day=1)
    return "total", date.min, date.max


@dataclass
class _Sums:
    label: str
    start: date
    end: date
    days: int = 0
    n: int = 0
    m: int = 0
    energy: float = 0.0
    production: float | None = None
    energy_with_production: float = 0.0
    expected: float | None = None
    compared: float = 0.0

    def add(self, row: EnergyKpi) -> None:
        self.days += 1 if row.n_readings else 0
        self.n += row.n_readings
        self.energy += row.energy_kwh
        if row.production_units is not None:
            self.production = (self.production or 0.0) + row.production_units
            self.energy_with_production += row.energy_kwh
        if row.expected_kwh is not None and row.savings_kwh is not None:
            self.expected = (self.expected or 0.0) + row.expected_kwh
            self.compared += row.expected_kwh - row.savings_kwh
            self.m += row.n_readings


def aggregate(
    rows: list[EnergyKpi],
    *,
    resolution: Resolution | None,
    first: date,
    last: date,
    stats: uncertainty.BaselineStats | None,
) -> list[KpiPeriodRead]:
    """Periods (in order) of the day rows, with cumulative savings from ``first``."""
    groups: dict[str, _Sums] = {}
    for row in rows:
        label, start, end = period_of(row.day, resolution)
        if label not in groups:
            groups[label] = _Sums(label, max(start, first), min(end, last))
        groups[label].add(row)
    out: list[KpiPeriodRead] = []
    cum_savings = cum_expected = 0.0
    cum_m = 0
    for sums in groups.values():
        savings = None if sums.expected is None else sums.expected - sums.compared
        if savings is not None and sums.expected is not None:
            cum_savings += savings
            cum_expected += sums.expected
            cum_m += sums.m
        u = uncertainty.savings_uncertainty(
            stats=stats, savings_kwh=cum_savings, expected_kwh=cum_expected, m=cum_m
        )
        production = sums.production
        out.append(
            KpiPeriodRead(
                period=sums.label,
                start=sums.start,
                end=sums.end,
                days_with_data=sums.days,
                n_readings=sums.n,
                energy_kwh=sums.energy,
                production_units=production,
                sec_kwh_per_unit=(sums.energy_with_production / production if production else None),
                expected_kwh=sums.expected,
                compared_energy_kwh=sums.compared if sums.expected is not None else None,
                enpi=sums.compared / sums.expected if sums.expected else None,
                savings_kwh=savings,
                cumulative_savings_kwh=cum_savings if cum_m else None,
                cumulative_uncertainty_kwh=u.absolute_kwh,
                cumulative_fsu_percent=u.fsu_percent,
            )
        )
    return out


def _baseline(row: ModelVersion | None) -> KpiBaselineRead | None:
    if row is None:
        return None
    summary = (row.metrics_in_sample or {}).get("summary") or {}
    return KpiBaselineRead(
        model_id=row.id,
        version=row.version,
        training_start=row.training_start,
        training_end=row.training_end,
        cv_rmse=summary.get("cv_rmse"),
        n=summary.get("n"),
        n_params=summary.get("n_params"),
        residual_autocorrelation=summary.get("residual_autocorrelation"),
        chosen=CHOSEN,
    )
