"""Hourly and daily aggregates of readings, bucketed in the machine's local time.

Energy, production and operating hours are summed; temperature and other drivers are
averaged; a bucket is anomalous when any reading in it is labelled so.
"""

from __future__ import annotations

from typing import Any, cast

import pandas as pd

from enms.readings.schemas import ReadingPoint

_SUMMED = ("energy_kwh", "production_units", "operating_hours")
_FREQ = {"hourly": "h", "daily": "D"}


def aggregate(frame: pd.DataFrame, resolution: str, timezone: str) -> pd.DataFrame:
    """Bucket ``frame`` (UTC-indexed readings) into hours or local days.

    >>> idx = pd.date_range("2025-01-01", periods=8, freq="15min", tz="UTC", name="ts")
    >>> f = pd.DataFrame({"energy_kwh": [1.0] * 8, "outdoor_temp_c": range(8),
    ...                   "drivers": [None] * 8, "is_anomaly": [None] * 8}, index=idx)
    >>> out = aggregate(f, "hourly", "UTC")
    >>> out["energy_kwh"].tolist(), out["outdoor_temp_c"].tolist(), out["n"].tolist()
    ([4.0, 4.0], [1.5, 5.5], [4, 4])
    """
    if frame.empty:
        return frame.assign(n=pd.Series(dtype=int))
    local = frame.tz_convert(timezone)
    grouped = local.resample(_FREQ[resolution])
    out = pd.DataFrame(index=grouped.size().index)
    out["n"] = grouped.size()
    for col in ("energy_kwh", "outdoor_temp_c", "production_units", "operating_hours"):
        if col in local:
            series = grouped[col]
            out[col] = series.sum(min_count=1) if col in _SUMMED else series.mean()
    labels = local["is_anomaly"].astype("boolean")
    if labels.notna().any():
        out["is_anomaly"] = labels.fillna(False).resample(_FREQ[resolution]).max()
    out = out[out["n"] > 0]
    out.index = cast(pd.DatetimeIndex, out.index).tz_convert("UTC")
    return out


def to_points(frame: pd.DataFrame) -> list[ReadingPoint]:
    """Convert a readings or aggregate frame into API points (NaN → None)."""
    records: list[dict[str, Any]] = []
    columns = [c for c in frame.columns if c in ReadingPoint.model_fields]
    for ts, row in zip(frame.index, frame[columns].itertuples(index=False), strict=True):
        item: dict[str, Any] = {"timestamp": ts.to_pydatetime()}
        for col, value in zip(columns, row, strict=True):
            item[col] = (
                None if value is None or (not isinstance(value, dict) and pd.isna(value)) else value
            )
        records.append(item)
    return [ReadingPoint.model_validate(r) for r in records]
