"""A compressor with hourly readings, injected spikes and dips, and a trained anomaly champion."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import pytest

from enms.core.clock import FrozenClock
from enms.core.config import AlertSettings, Settings
from enms.core.db import SessionFactory, session_scope
from enms.demo.generator import generate_plant
from enms.readings import parsing
from enms.readings import service as readings
from enms.readings.schemas import MachineCreate
from tests.factories import train_version

TRAIN_UNTIL = "2025-02-05"
#: The readings imported first end just after the cluster; quiet days follow in a second import.
FIRST_END = pd.Timestamp("2025-02-16 09:00", tz="UTC")
LAST_END = pd.Timestamp("2025-02-23", tz="UTC")
SPIKE_KWH = 60.0  # ~15 noise standard deviations of the hourly compressor
#: Isolated anomalies, days apart: three spikes and one dip.
ISOLATED_UP = ("2025-02-07 10:00", "2025-02-09 03:00", "2025-02-11 15:00")
ISOLATED_DOWN = ("2025-02-13 21:00",)
#: A cluster: five anomalous hours in a row.
CLUSTER = tuple(f"2025-02-16 {h:02d}:00" for h in range(3, 8))


@dataclass(frozen=True)
class Plant:
    """The machine and what was injected into its readings."""

    machine_id: int
    name: str
    up: pd.DatetimeIndex
    down: pd.DatetimeIndex
    frame: pd.DataFrame


def injected(which: tuple[str, ...]) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(list(which), tz="UTC")


def import_frame(factory: SessionFactory, machine_id: int, frame: pd.DataFrame) -> None:
    csv = frame.rename_axis("timestamp").to_csv(date_format="%Y-%m-%dT%H:%M:%SZ")
    with session_scope(factory, write=True) as session:
        machine = readings.get_machine(session=session, machine_id=machine_id)
        readings.import_readings(session=session, machine=machine, parsed=parsing.parse_csv(csv))


def cluster_settings(settings: Settings) -> Settings:
    """Four anomalous readings within six hours open an alert (eight: critical)."""
    alerts = AlertSettings(anomaly_cluster_count=4, anomaly_cluster_hours=6)
    return settings.model_copy(update={"alerts": alerts})


@pytest.fixture
def plant(session_factory: SessionFactory, clock: FrozenClock) -> Plant:
    source = generate_plant(seed=5, days=53, freq="h")[0]  # Compressor C1: no spikes, no leak
    frame = source.readings.drop(columns="is_anomaly")
    up = injected(ISOLATED_UP + CLUSTER)
    down = injected(ISOLATED_DOWN)
    frame.loc[up, "energy_kwh"] += SPIKE_KWH
    frame.loc[down, "energy_kwh"] -= SPIKE_KWH
    with session_scope(session_factory, write=True) as session:
        machine = readings.create_machine(
            session=session,
            data=MachineCreate(
                name=source.name, machine_type=source.machine_type, timezone=source.timezone
            ),
            clock=clock,
        )
    import_frame(session_factory, machine.id, frame[frame.index < FIRST_END])
    train_version(session_factory, clock, machine.id, "anomaly", TRAIN_UNTIL)
    return Plant(machine.id, source.name, up, down, frame[frame.index < LAST_END])
