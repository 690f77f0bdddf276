"""Response schemas of the prediction-log route."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class PredictionPointRead(BaseModel):
    """One logged prediction: target ``ts``, when it was issued (``origin``) and its values."""

    ts: datetime
    origin: datetime
    lead_seconds: float = Field(description="ts − origin (0 for baselines and detectors).")
    predicted: float | None
    lower: float | None = Field(description="90 % interval, when the model gives one.")
    upper: float | None
    actual: float | None = Field(description="The reading's energy; None until it arrives.")
    residual: float | None = Field(description="actual − predicted.")
    score: float | None
    flagged: bool | None
    arm: str | None
    batch_id: int


class PredictionBatchRead(BaseModel):
    """The scoring run a point came from, with the drivers it used."""

    id: int
    source: str
    drivers_used: list[str]
    window_start: datetime
    window_end: datetime
    n_points: int
    created_at: datetime


class PredictionPage(BaseModel):
    """Logged points of one version in ``[from, to)``, oldest target first."""

    machine_id: int
    model_type: str
    version: int
    start: datetime | None = Field(serialization_alias="from")
    end: datetime | None = Field(serialization_alias="to")
    limit: int
    n: int
    truncated: bool = Field(description="More points exist in the window than `limit`.")
    points: list[PredictionPointRead]
    batches: list[PredictionBatchRead]
