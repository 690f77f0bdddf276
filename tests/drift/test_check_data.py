"""Data drift of the drift check on the demo plant's year: no false alarms on the machines
without injected changes, measured against the raw-size test rule on the same windows."""

from __future__ import annotations

from functools import lru_cache

import pandas as pd

from enms.core.config import DriftSettings
from enms.demo.generator import SyntheticMachine, generate_plant
from enms.drift.data_check import data_drift, driver_columns
from enms.drift.dataset import dataset_drift
from enms.drift.effective import effective_size
from enms.drift.reference import matched_reference

UNCHANGED = (
    "Furnace F1",
    "Chiller CH1",
    "CNC Line A",
    "Boiler B1",
    "HVAC AHU-1",
    "Lighting Hall 1",
)
TRAINED_UNTIL = pd.Timestamp("2025-03-01", tz="UTC")  # the demo trains on two months


@lru_cache(maxsize=1)
def _plant() -> tuple[SyntheticMachine, ...]:
    return tuple(generate_plant(seed=42, days=365, freq="15min"))


def _windows() -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    """The periodic check's windows, every four weeks: [max(trained, now − 90 d), now)."""
    ends = pd.date_range("2025-03-15", "2025-12-31", freq="28D", tz="UTC")
    return [(max(TRAINED_UNTIL, now - pd.Timedelta(days=90)), now) for now in ends]


def test_a_year_of_periodic_checks_raises_no_data_drift_on_unchanged_machines() -> None:
    settings = DriftSettings()
    ours = raw_rule = checks = 0
    for machine in _plant():
        if machine.name not in UNCHANGED:
            continue
        readings = machine.readings
        reference = readings[readings.index < TRAINED_UNTIL]
        for start, end in _windows():
            current = readings[(readings.index >= start) & (readings.index < end)]
            result = data_drift(
                reference,
                current,
                settings=settings,
                timezone=machine.timezone,
                reference_label="training window",
            )
            checks += 1
            ours += bool(result.drift_detected)
            # The same matched reference with the test picked by the raw row count.
            columns = [
                c
                for c in driver_columns(current)
                if c not in result.details["outside_reference_range"]
            ]
            matched = matched_reference(
                reference[columns], current[columns], timezone=machine.timezone
            )
            raw = dataset_drift(matched.frame, current, columns=columns, ks_alpha=settings.alpha)
            raw_rule += bool(raw.drift_detected)
    assert checks == 6 * len(_windows())
    assert ours == 0
    assert raw_rule >= checks // 4  # the raw-size rule flags schedule noise as drift


def test_the_effective_size_of_a_persistent_driver_is_small() -> None:
    temperature = _plant()[0].readings["outdoor_temp_c"].iloc[: 90 * 96]
    assert len(temperature) == 8640
    assert effective_size(temperature) < 200  # a quarter of weather: a small sample
