"""Pydantic shapes for machines, readings and import summaries (API and CLI JSON)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from enms.readings.countries import normalise_country

Resolution = Literal["raw", "hourly", "daily"]
#: Columns of a readings file that are never drivers (the time stamp, target and label).
NOT_DRIVERS = frozenset({"timestamp", "energy_kwh", "is_anomaly"})


def planned_driver_names(value: list[str]) -> list[str]:
    """Stripped, de-duplicated driver column names; ``ValueError`` for non-driver columns."""
    names = [v.strip() for v in value]
    bad = sorted({n for n in names if n in NOT_DRIVERS or not n})
    if bad:
        raise ValueError(f"{bad} cannot be planned drivers (not driver columns)")
    return list(dict.fromkeys(names))  # drop repeats, keep order


class MachineCreate(BaseModel):
    """A new machine."""

    name: str = Field(min_length=1, max_length=200, description="Unique machine name.")
    machine_type: str = Field(
        "generic", min_length=1, max_length=100, description="compressor, chiller…"
    )
    timezone: str = Field("UTC", description="IANA zone of the site, e.g. Europe/Berlin.")
    country: str | None = Field(
        None,
        description=(
            "ISO 3166-1 alpha-2 code of the site (e.g. DE); models use its public holidays. "
            "None: no holiday calendar."
        ),
    )
    planned_drivers: list[str] = Field(
        default_factory=list,
        description=(
            "Driver columns known a day ahead (production plan, shift schedule, weather "
            "forecast); forecasters use only these by default."
        ),
    )
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

    @field_validator("country")
    @classmethod
    def _iso_country(cls, value: str | None) -> str | None:
        return None if value is None else normalise_country(value)

    @field_validator("planned_drivers")
    @classmethod
    def _driver_names(cls, value: list[str]) -> list[str]:
        return planned_driver_names(value)

    @model_validator(mode="after")
    def _country_from_metadata(self) -> MachineCreate:
        # Before machines had a country column, scripts put it in metadata; honour them.
        legacy = self.metadata.get("country")
        if self.country is None and isinstance(legacy, str):
            self.country = normalise_country(legacy)
            self.metadata = {k: v for k, v in self.metadata.items() if k != "country"}
        return self


class MachineUpdate(BaseModel):
    """Where a machine is and what is known a day ahead; only the fields given change."""

    country: str | None = Field(
        None, description="ISO 3166-1 alpha-2 code, or null to remove the holiday calendar."
    )
    planned_drivers: list[str] | None = Field(
        None, description="The full new list of planned driver columns ([] for none)."
    )

    @field_validator("country")
    @classmethod
    def _iso_country(cls, value: str | None) -> str | None:
        return None if value is None else normalise_country(value)

    @field_validator("planned_drivers")
    @classmethod
    def _driver_names(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else planned_driver_names(value)


class MachineRead(BaseModel):
    """A machine as stored, with a summary of its readings."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    machine_type: str
    timezone: str
    country: str | None = None
    planned_drivers: list[str] = Field(default_factory=list)
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
