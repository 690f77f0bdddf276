"""``kpi_calculate`` on a real database: stored daily KPIs equal the ones computed by hand
from the readings and the baseline of record; DST days; idempotence; aggregation."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from scipy import stats as scipy_stats
from sqlalchemy import select

from enms.core.clock import FrozenClock
from enms.core.config import Settings
from enms.core.db import SessionFactory, session_scope
from enms.demo.generator import generate_plant
from enms.kpis import report
from enms.kpis.tasks import kpi_calculate
from enms.ml.base import EnergyModel
from enms.registry import artifacts
from enms.registry import service as registry
from enms.registry.models import ModelVersion
from tests.factories import train_version
from tests.kpis.data import import_frame, local_day_bounds, stored

DAYS = 45
#: 01:30 local on 15 February: the complete local days are 1 January .. 14 February.
RUN_AT = datetime(2025, 2, 15, 0, 30, tzinfo=UTC)
GAP_DAY = date(2025, 2, 10)


def _machine_with_baseline(
    factory: SessionFactory, clock: FrozenClock, settings: Settings | None = None
) -> tuple[int, pd.DataFrame]:
    """The demo compressor's first 45 days (hourly), a baseline trained on January; with
    ``settings``, KPIs are computed once before the baseline exists."""
    frame = generate_plant(seed=42, days=DAYS, freq="h")[0].readings.copy()
    start, end = local_day_bounds(GAP_DAY)
    gap = frame.index[(frame.index >= start) & (frame.index < end)][8:13]
    frame.loc[gap, ["production_units", "operating_hours"]] = np.nan  # 5 readings lack drivers
    machine_id = import_frame(factory, clock, frame)
    if settings is not None:
        early = kpi_calculate(factory=factory, settings=settings, clock=FrozenClock(RUN_AT))
        assert early["rows"] == DAYS
        assert all(r["expected_kwh"] is None for r in stored(factory, machine_id).values())
    train_version(factory, clock, machine_id, "baseline", until="2025-02-01")
    return machine_id, frame


def _version_row(factory: SessionFactory, machine_id: int, version: int) -> tuple[int, EnergyModel]:
    with session_scope(factory) as session:
        row = session.execute(
            select(ModelVersion).where(
                ModelVersion.machine_id == machine_id, ModelVersion.version == version
            )
        ).scalar_one()
        return row.id, artifacts.load_model(row)


def test_stored_kpis_equal_the_hand_computed_ones(
    session_factory: SessionFactory, clock: FrozenClock, settings: Settings
) -> None:
    machine_id, frame = _machine_with_baseline(session_factory, clock, settings)
    # The days computed before the machine had a baseline are filled in (backfill), the
    # last recompute_days recomputed anyway.
    result = kpi_calculate(factory=session_factory, settings=settings, clock=FrozenClock(RUN_AT))
    assert result["rows"] == DAYS
    assert result["backfilled"] == DAYS - settings.kpi.recompute_days
    assert result["errors"] == []
    assert result["missing_drivers"] == 5
    rows = stored(session_factory, machine_id)
    assert list(rows) == [date(2025, 1, 1) + timedelta(days=i) for i in range(DAYS)]
    version_id, model = _version_row(session_factory, machine_id, 1)
    expected = model.predict(frame)
    for day, row in rows.items():
        start, end = local_day_bounds(day)
        part = frame[(frame.index >= start) & (frame.index < end)]
        pred = expected[part.index]
        ok = pred.notna().to_numpy()
        assert ok.sum() == len(part) - (5 if day == GAP_DAY else 0)
        actual = float(part["energy_kwh"][ok].sum())
        assert row["day_start"] == start.to_pydatetime()
        assert row["day_end"] == end
        assert row["n_readings"] == len(part)
        assert row["energy_kwh"] == pytest.approx(part["energy_kwh"].sum(), rel=1e-12)
        units = float(part["production_units"].sum())
        assert row["production_units"] == pytest.approx(units, rel=1e-12)
        if units > 0:
            sec = part["energy_kwh"].sum() / units
            assert row["sec_kwh_per_unit"] == pytest.approx(sec, rel=1e-12)
        else:  # a day without production (a holiday) has no SEC
            assert row["sec_kwh_per_unit"] is None
        assert row["expected_kwh"] == pytest.approx(float(pred[ok].sum()), rel=1e-9)
        assert row["enpi"] == pytest.approx(actual / float(pred[ok].sum()), rel=1e-9)
        assert row["savings_kwh"] == pytest.approx(float(pred[ok].sum()) - actual, rel=1e-6)
        assert row["baseline_model_id"] == version_id


def test_idempotent_aggregated_and_measured_against_the_baseline_of_record(
    session_factory: SessionFactory, clock: FrozenClock, settings: Settings
) -> None:
    machine_id, _ = _machine_with_baseline(session_factory, clock)
    run = FrozenClock(RUN_AT)
    kpi_calculate(factory=session_factory, settings=settings, clock=run)
    first = stored(session_factory, machine_id)
    # A retrained version becomes champion: the KPIs stay against version 1 (the EnB).
    train_version(session_factory, clock, machine_id, "baseline", until="2025-02-14")
    with session_scope(session_factory, write=True) as session:
        registry.promote(
            session=session, machine_id=machine_id, model_type="baseline", version=2,
            actor="test", reason="retrained", clock=clock,
        )  # fmt: skip
    again = kpi_calculate(factory=session_factory, settings=settings, clock=run)
    assert again["backfilled"] == 0
    assert again["rows"] == settings.kpi.recompute_days
    assert stored(session_factory, machine_id) == first

    with session_scope(session_factory) as session:
        reports = {
            res: report.kpi_report(
                session=session, clock=run, machine_id=machine_id,
                start="2025-01-01", end="2025-02-15", resolution=res,
            )
            for res in ("day", "week", "month")
        }  # fmt: skip
    days = list(first.values())
    assert reports["day"].baseline is not None
    assert reports["day"].baseline.version == 1
    assert [p.period for p in reports["month"].periods] == ["2025-01", "2025-02"]
    assert reports["week"].periods[0].period == "2025-W01"
    assert reports["week"].periods[0].start == date(2025, 1, 1)  # clipped to the window
    assert reports["week"].periods[0].end == date(2025, 1, 6)
    assert reports["week"].periods[-1].end == date(2025, 2, 15)
    assert reports["day"].notes == []
    # The cumulative uncertainty is Guideline 14's formula on the baseline's stored fit
    # statistics, m = the readings of the days with an expectation (by hand, F cancelled).
    b, total = reports["day"].baseline, reports["day"].total
    assert b.cv_rmse is not None
    assert b.n is not None
    assert b.n_params is not None
    assert b.residual_autocorrelation is not None
    assert total is not None
    rho, m = b.residual_autocorrelation, sum(int(d["n_readings"]) for d in first.values())
    n_eff = b.n * (1 - rho) / (1 + rho)
    t = scipy_stats.t.ppf(0.84, n_eff - b.n_params)
    by_hand = 1.26 * t * b.cv_rmse / 100 * math.sqrt(b.n / n_eff * (1 + 2 / n_eff) / m)
    assert total.expected_kwh is not None
    assert total.savings_kwh is not None
    assert total.cumulative_uncertainty_kwh == pytest.approx(by_hand * total.expected_kwh, rel=1e-9)
    assert total.cumulative_fsu_percent == pytest.approx(
        100 * by_hand * total.expected_kwh / abs(total.savings_kwh), rel=1e-9
    )
    for res, rep in reports.items():
        assert len(rep.periods) == {"day": DAYS, "week": 7, "month": 2}[res]
        assert rep.total is not None
        energy = sum(float(d["energy_kwh"]) for d in days)
        expected = sum(float(d["expected_kwh"]) for d in days)
        savings = sum(float(d["savings_kwh"]) for d in days)
        units = sum(float(d["production_units"]) for d in days)
        assert sum(p.energy_kwh for p in rep.periods) == pytest.approx(energy, rel=1e-12)
        assert sum(p.expected_kwh or 0 for p in rep.periods) == pytest.approx(expected, rel=1e-12)
        assert sum(p.savings_kwh or 0 for p in rep.periods) == pytest.approx(savings, rel=1e-9)
        assert rep.total.sec_kwh_per_unit == pytest.approx(energy / units, rel=1e-12)
        assert rep.total.enpi == pytest.approx((expected - savings) / expected, rel=1e-12)
        assert rep.periods[-1].cumulative_savings_kwh == pytest.approx(savings, rel=1e-9)
        assert rep.total.cumulative_uncertainty_kwh == pytest.approx(
            rep.periods[-1].cumulative_uncertainty_kwh, rel=1e-12
        )
        assert rep.total.days_with_data == DAYS


def test_dst_days_sum_their_23_and_25_hours(
    session_factory: SessionFactory, clock: FrozenClock, settings: Settings
) -> None:
    """Hourly readings of 1 kWh each, no baseline: the energy of a day is its length in hours."""
    spring = pd.date_range(
        "2025-03-29", "2025-04-01", freq="h", tz="Europe/Berlin", inclusive="left"
    )
    autumn = pd.date_range(
        "2025-10-25", "2025-10-28", freq="h", tz="Europe/Berlin", inclusive="left"
    )
    index = pd.DatetimeIndex(spring.append(autumn)).tz_convert("UTC")
    frame = pd.DataFrame({"energy_kwh": np.ones(len(index))}, index=index)
    machine_id = import_frame(session_factory, clock, frame)
    run = FrozenClock(datetime(2025, 10, 29, 6, tzinfo=UTC))
    result = kpi_calculate(factory=session_factory, settings=settings, clock=run)
    assert result["rows"] == 6
    rows = stored(session_factory, machine_id)
    hours = {d: r["energy_kwh"] for d, r in rows.items()}
    assert hours == {
        date(2025, 3, 29): 24, date(2025, 3, 30): 23, date(2025, 3, 31): 24,
        date(2025, 10, 25): 24, date(2025, 10, 26): 25, date(2025, 10, 27): 24,
    }  # fmt: skip
    short = rows[date(2025, 3, 30)]
    assert short["day_start"] == datetime(2025, 3, 29, 23, tzinfo=UTC)
    assert short["day_end"] == datetime(2025, 3, 30, 22, tzinfo=UTC)
    assert all(r["n_readings"] == r["energy_kwh"] for r in rows.values())
    for r in rows.values():  # no production, no baseline: energy only
        assert r["production_units"] is r["sec_kwh_per_unit"] is r["expected_kwh"] is None
        assert r["enpi"] is r["savings_kwh"] is r["baseline_model_id"] is None
