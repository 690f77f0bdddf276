"""Deterministic assignment of an A/B test's units to arms (pure: no database).

The unit is a caller-supplied key or, without one, the reading's timestamp slot (``slot_minutes``
wide, counted from the Unix epoch in UTC). The arm is a hash of the test id and the unit: the
same request always gets the same arm, every process agrees without coordination, and the
share of units routed to B converges to the configured split.

>>> assign(7, "slot:123", 0.5) == assign(7, "slot:123", 0.5)
True
>>> import pandas as pd
>>> idx = pd.date_range("2025-01-01", periods=4, freq="15min", tz="UTC")
>>> len(set(arms_for(7, idx, 0.5, slot_minutes=60)))  # one hour slot: one arm
1
"""

from __future__ import annotations

import hashlib
from datetime import datetime

import numpy as np
import pandas as pd

A = "a"
B = "b"


def unit_of(ts: datetime | pd.Timestamp, slot_minutes: int) -> str:
    """The assignment unit of a timestamp without a caller key: its slot number."""
    stamp = pd.Timestamp(ts)
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    minutes = int(stamp.value // 60_000_000_000)
    return f"slot:{minutes // slot_minutes}"


def share(test_id: int, unit: str) -> float:
    """A uniform number in [0, 1) fixed by the test and the unit."""
    digest = hashlib.sha256(f"{test_id}:{unit}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2.0**64


def assign(test_id: int, unit: str, split: float) -> str:
    """The arm of ``unit`` in test ``test_id``: ``b`` with probability ``split``."""
    return B if share(test_id, unit) < split else A


def arms_for(
    test_id: int, index: pd.DatetimeIndex, split: float, *, slot_minutes: int
) -> np.ndarray:
    """The arm (``a``/``b``) of every timestamp of ``index`` (no caller keys)."""
    cache: dict[str, str] = {}
    out = np.empty(len(index), dtype=object)
    for i, ts in enumerate(index):
        unit = unit_of(ts, slot_minutes)
        arm = cache.get(unit)
        if arm is None:
            arm = cache[unit] = assign(test_id, unit, split)
        out[i] = arm
    return out
