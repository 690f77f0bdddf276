"""The synthetic plant: deterministic, physically plausible, and honest about its truth."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from enms.demo.generator import SyntheticMachine, generate_plant

COLUMNS = ["energy_kwh", "outdoor_temp_c", "production_units", "operating_hours", "is_anomaly"]


@pytest.fixture(scope="module")
def year() -> list[SyntheticMachine]:
    return generate_plant()


def test_plant_has_varied_machines_and_the_readings_contract(
    year: list[SyntheticMachine],
) -> None:
    assert len(year) >= 8
    assert len({m.machine_type for m in year}) >= 8
    assert len({m.name for m in year}) == len(year)
    for m in year:
        r = m.readings
        assert list(r.columns) == COLUMNS
        assert isinstance(r.index, pd.DatetimeIndex)
        assert str(r.index.tz) == "UTC"
        assert r.index.name == "timestamp"
        assert r.index.is_monotonic_increasing
        assert len(r) == 365 * 96
        assert r["is_anomaly"].dtype == bool
        assert (r["energy_kwh"] >= 0).all()
        assert r.notna().all().all()
        assert m.timezone == "Europe/Berlin"
        assert m.country == "DE"
        assert "country" not in m.metadata  # a machine column, not a free-form fact
        assert m.planned_drivers[-1] == "operating_hours"  # the shift schedule
        # the production plan is planned where the machine produces anything
        assert ("production_units" in m.planned_drivers) == bool(r["production_units"].any())
        assert (r["operating_hours"].between(0, 0.25)).all()


def test_same_seed_same_plant_other_seed_other_plant(year: list[SyntheticMachine]) -> None:
    again = generate_plant(seed=42)
    for a, b in zip(year, again, strict=True):
        pd.testing.assert_frame_equal(a.readings, b.readings)
        assert a.truth == b.truth
    other = generate_plant(seed=43)
    assert not np.allclose(year[0].readings["energy_kwh"], other[0].readings["energy_kwh"])


def test_shifts_weekends_and_public_holidays_in_local_time(
    year: list[SyntheticMachine],
) -> None:
    cnc = next(m for m in year if m.machine_type == "cnc_line").readings
    local = cnc.tz_convert("Europe/Berlin")
    daily_hours = local["operating_hours"].groupby(pd.DatetimeIndex(local.index).date).sum()
    # two shifts 06-22 on weekdays; Sundays and German public holidays are off
    assert daily_hours[date(2025, 3, 12)] == pytest.approx(16, abs=1.0)  # a Wednesday
    assert daily_hours[date(2025, 3, 16)] == 0  # Sunday
    for holiday in (date(2025, 4, 18), date(2025, 5, 1), date(2025, 10, 3), date(2025, 12, 25)):
        assert daily_hours[holiday] == 0, holiday
    weekday_night = local.loc["2025-03-12 02:00":"2025-03-12 04:00", "operating_hours"]
    assert (weekday_night == 0).all()  # local night, even though UTC is an hour behind
    assert (cnc["production_units"][cnc["operating_hours"] == 0] == 0).all()


def test_temperature_has_seasons_and_day_night(year: list[SyntheticMachine]) -> None:
    temp = year[0].readings["outdoor_temp_c"].tz_convert("Europe/Berlin")
    index = pd.DatetimeIndex(temp.index)
    by_month = temp.groupby(index.month).mean()
    assert by_month[7] - by_month[1] > 12
    by_hour = temp.groupby(index.hour).mean()
    assert by_hour[15] - by_hour[4] > 4
    # weather noise: day-to-day changes beyond the smooth cycles
    assert temp.resample("1D").mean().diff().abs().mean() > 0.8


def test_injected_events_follow_the_truth(year: list[SyntheticMachine]) -> None:
    events = {e.kind: (m, e) for m in year for e in m.truth.events}
    assert set(events) == {"efficiency_loss", "product_mix_change", "anomalous_spikes"}
    first = year[0].readings.index[0]
    for kind in ("efficiency_loss", "product_mix_change"):
        assert events[kind][1].start - first >= pd.Timedelta(days=60)
    spiky = [m for m in year if any(e.kind == "anomalous_spikes" for e in m.truth.events)]
    assert len(spiky) >= 3
    for m in year:
        assert m.readings["is_anomaly"].any() == (m in spiky)
    # the efficiency loss multiplies energy from its start: compare the same machine's
    # energy per operating hour and unit before and after, with the truth model
    machine, event = events["efficiency_loss"]
    r, t = machine.readings, machine.truth
    expected = t.intercept_kwh + sum(t.coefficients[c] * r[c] for c in t.coefficients)
    ratio = r["energy_kwh"] / expected
    before, after = ratio[r.index < event.start].mean(), ratio[r.index >= event.start].mean()
    assert after / before == pytest.approx(1 + event.magnitude, abs=0.01)


def test_shorter_and_coarser_plants(year: list[SyntheticMachine]) -> None:
    hourly = generate_plant(days=28, freq="h", start=date(2025, 6, 1))
    assert all(len(m.readings) == 28 * 24 for m in hourly)
    assert all(
        e.kind == "anomalous_spikes" for m in hourly for e in m.truth.events
    )  # the drift events come later than four weeks
    assert hourly[0].truth.intercept_kwh == pytest.approx(4 * year[0].truth.intercept_kwh)
