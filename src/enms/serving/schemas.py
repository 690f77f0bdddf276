"""Request and response bodies of ``POST /machines/{id}/models/{type}/predict``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

MAX_ROWS = 10_000
"""Most rows one request may ask predictions for."""


class PredictRequest(BaseModel):
    """Timestamps with the driver values to predict them from."""

    rows: list[dict[str, Any]] = Field(
        min_length=1,
        max_length=MAX_ROWS,
        description=(
            "One object per timestamp: `timestamp` (ISO 8601; naive means UTC) and the driver "
            "columns the model uses (e.g. `outdoor_temp_c`, `production_units`; detectors also "
            "need `energy_kwh`, the reading they score). Forecasters need only the planned "
            "drivers they were trained with (none by default)."
        ),
    )
    unit_key: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description=(
            "While an A/B test runs: the assignment unit of every row (e.g. a client or site "
            "id). Without it each row's unit is its timestamp slot (the test's slot_minutes)."
        ),
    )
    log: bool = Field(
        default=True,
        description="Write the served predictions to the prediction log (batch source `served`).",
    )


class ServedRow(BaseModel):
    """The prediction for one requested timestamp and who made it."""

    timestamp: datetime
    version: int = Field(description="The model version that answered this row.")
    arm: str | None = Field(description="`a` or `b` while an A/B test runs, else None.")
    test_id: int | None = Field(description="The running A/B test that routed this row.")
    expected_energy_kwh: float | None = Field(
        default=None,
        description="Baselines and detectors: the expected energy of the interval (kWh).",
    )
    forecast_kwh: float | None = Field(default=None, description="Forecasters: the mean forecast.")
    lower: float | None = Field(default=None, description="Forecasters: 90 % interval, lower.")
    upper: float | None = Field(default=None, description="Forecasters: 90 % interval, upper.")
    origin: datetime | None = Field(
        default=None,
        description=(
            "Forecasters: the forecast origin, the slot after the newest reading before the "
            "first requested timestamp (no reading at or after it is used)."
        ),
    )
    lead_hours: float | None = Field(default=None, description="Forecasters: timestamp − origin.")
    anomaly_score: float | None = Field(default=None, description="Detectors: the anomaly score.")
    flagged: bool | None = Field(
        default=None, description="Detectors: the score crossed the alarm threshold."
    )


class PredictResponse(BaseModel):
    """Served predictions, in the order of the request's rows."""

    machine_id: int
    model_type: str
    routing: str = Field(description="`champion`, or `ab_test` while a test runs.")
    test_id: int | None
    interval: float | None = Field(description="Forecasters: the central interval's coverage.")
    logged: int = Field(description="Rows written to (or tagged in) the prediction log.")
    rows: list[ServedRow]
