"""Pydantic shapes of ``/model-performance/metrics``: recorded rows, trends and projections.

Field names follow the seed's ``metrics/record`` calls. Numbers must be finite; the ranges
are the metrics' own (r² ≤ 1, errors ≥ 0, precision/recall/F1 in [0, 1], skill ≤ 1).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class MetricRecord(BaseModel):
    """One metrics row measured outside enms (or by an external model)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, protected_namespaces=())

    machine_id: int = Field(ge=1)
    model_type: str
    model_version: int | None = Field(
        None, ge=1, description="Default: the champion in force at evaluation_end."
    )
    evaluation_start: datetime = Field(description="ISO 8601, inclusive; naive means UTC.")
    evaluation_end: datetime = Field(description="ISO 8601, exclusive; after the start.")
    r_squared: float | None = Field(None, le=1)
    rmse: float | None = Field(None, ge=0)
    mae: float | None = Field(None, ge=0)
    mape: float | None = Field(None, ge=0, description="Percent.")
    cv_rmse: float | None = Field(None, ge=0, description="Percent.")
    nmbe: float | None = Field(None, description="Percent.")
    precision: float | None = Field(None, ge=0, le=1)
    recall: float | None = Field(None, ge=0, le=1)
    f1: float | None = Field(None, ge=0, le=1)
    skill: float | None = Field(None, le=1)
    n_samples: int | None = Field(None, ge=0)
    drift_detected: bool | None = None
    drift_score: float | None = Field(None, ge=0, le=1)
    drift_details: dict[str, Any] | None = None
    details: dict[str, Any] = Field(default_factory=dict)


class RecordResult(BaseModel):
    """The ids of the rows written, in the order they were sent."""

    ids: list[int]
    count: int


class TrendPoint(BaseModel):
    """One point of a series: a row, or the aggregate of the rows of one time bucket."""

    time: datetime = Field(description="evaluation_end (earliest of the bucket's rows).")
    value: float = Field(description="The value (the bucket's mean when downsampled).")
    min: float
    max: float
    n: int = Field(description="Rows aggregated into this point.")
    version: int = Field(description="The version in force (most rows of the bucket).")
    versions: list[int]
    sources: list[str]


class Projection(BaseModel):
    """A metric's robust trend over its recent points and where it is heading."""

    method: str
    window_start: datetime
    window_end: datetime
    n_points: int
    slope_per_day: float
    slope_ci: tuple[float, float]
    confidence: float
    horizon_days: float
    projected_at: datetime
    projected_value: float
    projected_low: float
    projected_high: float
    threshold: dict[str, Any] | None
    significant_towards_degradation: bool | None
    already_degraded: bool | None
    crossing_at: datetime | None
    crossing_earliest: datetime | None
    crossing_latest: datetime | None
    note: str


class MetricSeries(BaseModel):
    """One metric over time, with its projection (None with ``projection_reason``)."""

    metric: str
    unit: str
    points: list[TrendPoint]
    n_rows: int
    projection: Projection | None
    projection_reason: str | None


class VersionChange(BaseModel):
    """A move of the champion alias."""

    time: datetime
    from_version: int | None
    to_version: int | None
    action: str
    actor: str
    reason: str | None


class DriftMarker(BaseModel):
    """A row whose drift check found drift."""

    time: datetime
    version: int
    score: float | None
    source: str
    summary: str


class TrendRead(BaseModel):
    """Metrics over ``[window_start, window_end)`` of one machine's model type."""

    model_config = ConfigDict(protected_namespaces=())

    machine_id: int
    model_type: str
    window_start: datetime
    window_end: datetime
    version: int | None = Field(description="Only this version's rows; None: the version in force.")
    rows: str = Field(description="Which rows the series use.")
    downsampled: bool
    bucket_seconds: float | None = Field(description="Bucket width when downsampled.")
    max_points: int
    series: dict[str, MetricSeries]
    version_changes: list[VersionChange]
    drift_markers: list[DriftMarker]
    message: str | None
