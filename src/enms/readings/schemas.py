"""Pydantic shapes for machines, readings and import summaries (API and CLI JSON)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator

Resolution = Literal["raw", "hourly", "daily"]


class MachineCreate(BaseModel):
    """A new machine."""

    name: str = Field(min_length=1, max_length=200, description="Unique machine name.")
    machine_type: str = Field(
        "generic", min_length=1, max_length=100, description="compressor, chiller…"
    )
    timezone: str = Field("UTC", description="IANA zone of the site, e.g. Europe/Berlin.")
    metadata: dict[str, Any] = Field(default_factory=dict, description="Free-form facts.")

    @field_validator("name")
    @classmethod
    def _strip_name(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("machine name must not be blank")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r} (use an IANA name)") from exc
        return value


class MachineRead(BaseModel):
    """A machine as stored, with a summary of its readings."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    machine_type: str
    timezone: str
    metadata: dict[str, Any] = Field(validation_alias="metadata_")
    created_at: datetime
    readings_count: int = 0
    first_reading: datetime | None = None
    last_reading: datetime | None = None


class ImportSummary(BaseModel):
    """What an import did."""

    machine: str
    rows_read: int = Field(description="Data rows in the file or batch.")
    rows_written: int = Field(description="Distinct timestamps written (inserted or updated).")
    inserted: int
    updated: int
    duplicates_in_file: int = Field(description="Rows whose timestamp appeared again later.")
    duplicate_examples: list[str]
    gaps: int = Field(description="Holes longer than 1.5 sampling intervals.")
    gap_examples: list[dict[str, Any]]
    interval_seconds: float | None
    first: datetime
    last: datetime
    drivers: list[str]
    has_label: bool


class ReadingPoint(BaseModel):
    """One reading (raw) or one aggregate bucket (hourly/daily)."""

    timestamp: datetime
    energy_kwh: float
    outdoor_temp_c: float | None = None
    production_units: float | None = None
    operating_hours: float | None = None
    drivers: dict[str, float] | None = None
    is_anomaly: bool | None = None
    n: int = 1


class ReadingsPage(BaseModel):
    """Readings of one machine in a half-open window ``[from, to)``."""

    machine_id: int
    resolution: Resolution
    start: datetime | None
    end: datetime | None
    count: int
    truncated: bool = Field(description="True when more readings exist than `limit`.")
    next_cursor: datetime | None = Field(
        None, description="When truncated: pass it as `cursor` to get the next page."
    )
    readings: list[ReadingPoint]


class ReadingsDeleted(BaseModel):
    """What deleting a window of readings did."""

    machine_id: int
    machine: str
    start: datetime | None
    end: datetime | None
    deleted: int = Field(description="Readings deleted.")


class MachineDeleted(BaseModel):
    """What deleting a machine removed (or would remove), rows by table."""

    machine_id: int
    machine: str
    deleted: dict[str, int]


class ReadingIn(BaseModel):
    """One reading in a JSON batch (extra numeric fields are drivers)."""

    model_config = ConfigDict(extra="allow")

    timestamp: str
    energy_kwh: float | str


class ReadingsBatch(BaseModel):
    """A JSON batch of readings."""

    readings: list[dict[str, Any]] = Field(description="Objects with timestamp, energy_kwh, …")
