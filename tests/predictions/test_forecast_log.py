"""Forecasters in the prediction log: daily origins at the local hour across a DST change,
lead = ts − origin, no forecast using a reading at or after its origin, readings imported
later scored and filling the actuals of earlier forecasts."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import delete, func, select, update
from tests.factories import import_demo_machine
from tests.factories import train_version as train

from enms.core.clock import FrozenClock
from enms.core.config import MonitoringSettings, Settings
from enms.core.db import SessionFactory, session_scope
from enms.demo.generator import generate_plant
from enms.predictions import repository
from enms.predictions.models import PredictionBatch, PredictionDaily
from enms.predictions.tasks import score_predictions
from enms.readings import parsing
from enms.readings import service as readings
from enms.readings.models import EnergyReading
from enms.registry.models import ModelVersion

ORIGIN_HOUR = 6
CUT = datetime(2025, 4, 3, 12, tzinfo=UTC)  # readings after this arrive later


def _settings(settings: Settings) -> Settings:
    # Late readings are filled in up to 90 days back from the newest (the test imports two
    # months at once, so the default 35 days would leave the first forecasts without actuals).
    monitoring = MonitoringSettings(
        forecast_origin_hour=ORIGIN_HOUR, score_batch_days=400, actual_fill_days=90
    )
    return settings.model_copy(update={"monitoring": monitoring})


def _points(factory: SessionFactory) -> tuple[int, pd.DataFrame]:
    with session_scope(factory) as session:
        version = session.scalars(select(ModelVersion)).one()
        return version.id, repository.points_frame(session, model_id=version.id)


@pytest.fixture
def machine_id(session_factory: SessionFactory, clock: FrozenClock) -> int:
    with session_scope(session_factory, write=True) as session:
        machine = import_demo_machine(session, clock, index=1, days=150)
        session.execute(delete(EnergyReading).where(EnergyReading.ts >= CUT))
    train(session_factory, clock, machine.id, "forecast_arima", "2025-03-24", start="2025-02-17")
    return machine.id


def test_forecasts_are_issued_daily_at_the_local_hour_and_get_their_actuals_later(
    session_factory: SessionFactory, clock: FrozenClock, settings: Settings, machine_id: int
) -> None:
    config = _settings(settings)
    first = score_predictions(factory=session_factory, settings=config, clock=clock)
    assert first["errors"] == []
    _, points = _points(session_factory)
    origins = pd.DatetimeIndex(points["origin"].unique())
    local = origins.tz_convert("Europe/Berlin")
    assert (local.hour == ORIGIN_HOUR).all()
    assert (local.minute == 0).all()
    # The wall clock decides: 05:00 UTC in winter time, 04:00 UTC after 2025-03-30.
    assert pd.Timestamp("2025-03-29 05:00", tz="UTC") in origins
    assert pd.Timestamp("2025-03-30 04:00", tz="UTC") in origins
    assert list(local.normalize().tz_localize(None)) == list(
        pd.date_range("2025-03-24", "2025-04-03", freq="D")
    )
    lead = pd.DatetimeIndex(points.index) - pd.DatetimeIndex(points["origin"])
    assert lead.min() == pd.Timedelta(0)
    assert lead.max() == pd.Timedelta(hours=23)  # a day-ahead horizon of hourly readings
    assert points.groupby("origin").size().eq(24).all()
    assert (points["lower"] <= points["predicted"]).all()
    assert (points["predicted"] <= points["upper"]).all()
    pending = points[points.index >= CUT]
    assert len(pending) > 0
    assert pending["actual"].isna().all()  # not read yet
    assert points.loc[points.index < CUT, "actual"].notna().all()
    with session_scope(session_factory) as session:
        sources = set(session.scalars(select(PredictionBatch.source)))
        leads = set(session.scalars(select(PredictionDaily.lead_hours)))
    assert sources == {"forecast"}
    assert leads == set(range(1, 25))  # hours ahead to the end of the target hour

    # The rest of the readings arrive: new origins are scored, old forecasts get actuals.
    source = generate_plant(seed=3, days=150, freq="h")[1].readings
    later = source[source.index >= CUT].rename_axis("timestamp")
    csv = later.to_csv(date_format="%Y-%m-%dT%H:%M:%SZ")
    with session_scope(session_factory, write=True) as session:
        machine = readings.get_machine(session=session, machine_id=machine_id)
        readings.import_readings(session=session, machine=machine, parsed=parsing.parse_csv(csv))
    second = score_predictions(factory=session_factory, settings=config, clock=clock)
    assert second["actuals_filled"] == len(pending)
    _, after = _points(session_factory)
    again = after[after["origin"].isin(origins)]
    assert again["actual"].notna().all()
    expected = source["energy_kwh"].reindex(pending.index).to_numpy()
    filled = again.loc[again.index >= CUT, "actual"].to_numpy()
    assert np.allclose(filled, expected)
    assert pd.DatetimeIndex(after["origin"]).max() > CUT  # new origins after the import


def test_a_forecast_uses_no_reading_at_or_after_its_origin(
    session_factory: SessionFactory, clock: FrozenClock, settings: Settings, machine_id: int
) -> None:
    config = _settings(settings)
    score_predictions(factory=session_factory, settings=config, clock=clock)
    version_id, before = _points(session_factory)
    origin = pd.Timestamp("2025-03-31 04:00", tz="UTC")
    following = origin + pd.Timedelta(days=1)
    # Change every reading from the origin on, forget the log, and score again.
    with session_scope(session_factory, write=True) as session:
        session.execute(
            update(EnergyReading)
            .where(EnergyReading.ts >= origin.to_pydatetime())
            .values(energy_kwh=EnergyReading.energy_kwh * 3.0)
        )
        session.execute(delete(PredictionBatch).where(PredictionBatch.model_id == version_id))
        remaining = session.scalar(select(func.count()).select_from(PredictionBatch))
    assert remaining == 0
    score_predictions(factory=session_factory, settings=config, clock=clock)
    _, after = _points(session_factory)
    at = before[before["origin"] == origin]
    assert len(at) == 24
    redone = after[after["origin"] == origin]
    assert np.allclose(redone["predicted"], at["predicted"])
    assert np.allclose(redone["upper"], at["upper"])
    assert np.allclose(redone["actual"], 3.0 * at["actual"])  # the readings did change
    # ... and the next origin, which may use them, does see the change.
    nxt = before[before["origin"] == following]["predicted"].to_numpy()
    assert not np.allclose(after[after["origin"] == following]["predicted"].to_numpy(), nxt)


def test_an_origin_waits_for_its_planned_drivers_and_is_issued_once_they_are_in(
    session_factory: SessionFactory, clock: FrozenClock, settings: Settings
) -> None:
    """With a planned driver (a production plan, known at the origin in a plant but arriving
    here with the readings), an origin whose horizon's drivers are not all in yet is issued
    by a later run — with every lead, none dropped — instead of a truncated forecast."""
    from enms.readings.models import Machine

    with session_scope(session_factory, write=True) as session:
        machine = import_demo_machine(session, clock, index=1, days=150)
        session.execute(delete(EnergyReading).where(EnergyReading.ts >= CUT))
        row = session.get(Machine, machine.id)
        assert row is not None
        row.planned_drivers = ["production_units"]
    train(session_factory, clock, machine.id, "forecast_arima", "2025-03-24", start="2025-02-17")
    config = _settings(settings)
    first = score_predictions(factory=session_factory, settings=config, clock=clock)
    assert first["errors"] == []
    _, points = _points(session_factory)
    assert points.groupby("origin").size().eq(24).all()  # whole forecasts only
    last_issued = pd.DatetimeIndex(points["origin"]).max()
    assert last_issued + pd.Timedelta(hours=23) < CUT  # its whole horizon was read
    waiting = pd.Timestamp("2025-04-03 04:00", tz="UTC")  # 06:00 Berlin, horizon past CUT
    assert waiting not in set(points["origin"])

    source = generate_plant(seed=3, days=150, freq="h")[1].readings
    later = source[(source.index >= CUT) & (source.index < CUT + pd.Timedelta(days=2))]
    csv = later.rename_axis("timestamp").to_csv(date_format="%Y-%m-%dT%H:%M:%SZ")
    with session_scope(session_factory, write=True) as session:
        machine_row = readings.get_machine(session=session, machine_id=machine.id)
        readings.import_readings(
            session=session, machine=machine_row, parsed=parsing.parse_csv(csv)
        )
    score_predictions(factory=session_factory, settings=config, clock=clock)
    _, after = _points(session_factory)
    issued = after[after["origin"] == waiting]
    assert len(issued) == 24
    assert issued["actual"].notna().all()
