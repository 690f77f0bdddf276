"""Response schemas of the anomalies route: stored anomaly events of a machine in a window."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class AnomalyRead(BaseModel):
    """One reading a champion anomaly detector flagged, with why."""

    id: int
    ts: datetime
    model_id: int
    model_version: int
    energy_kwh: float = Field(description="The reading's energy.")
    expected_kwh: float | None = Field(description="What the detector's baseline expected.")
    score: float
    threshold: float = Field(description="The version's alarm threshold (score > threshold).")
    direction: str = Field(description="above_expected, below_expected or unusual.")
    reason: str
    detected_at: datetime


class AnomalyPage(BaseModel):
    """Anomaly events of a machine with ``ts`` in ``[from, to)``, newest first."""

    machine_id: int
    machine_name: str
    start: datetime = Field(serialization_alias="from")
    end: datetime = Field(serialization_alias="to")
    limit: int
    count: int
    truncated: bool = Field(description="More events exist in the window than `limit`.")
    anomalies: list[AnomalyRead]
