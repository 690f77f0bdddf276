"""Only finite, plausible readings get in; aggregates of what got in stay finite."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from enms.core.config import ImportSettings
from enms.core.errors import InvalidFile
from enms.readings.aggregate import aggregate
from enms.readings.parsing import Plausibility, parse_csv, parse_records


def test_1e308_is_rejected_naming_the_line_column_and_value() -> None:
    text = "timestamp,energy_kwh\n2025-01-01T00:00,1.5\n2025-01-01T01:00,1e308\n"
    with pytest.raises(InvalidFile) as caught:
        parse_csv(text)
    message = caught.value.message
    assert "line 3, column energy_kwh: '1e+308' is implausible" in message
    assert "ENMS_IMPORTS__MAX_KWH_PER_INTERVAL" in message
    problem = caught.value.details["problems"][0]
    assert (problem["location"], problem["column"]) == ("line 3", "energy_kwh")


def test_the_bounds_are_settings_and_apply_to_drivers() -> None:
    limits = Plausibility.from_settings(
        ImportSettings(max_kwh_per_interval=100, max_abs_driver=1000)
    )
    text = "timestamp,energy_kwh,production_units\n2025-01-01,100,-1000\n"
    assert len(parse_csv(text, limits=limits).frame) == 1  # at the bound is fine
    with pytest.raises(InvalidFile, match=r"line 2, column energy_kwh: '100.5' is implausible"):
        parse_csv("timestamp,energy_kwh\n2025-01-01,100.5\n", limits=limits)
    with pytest.raises(InvalidFile, match=r"line 2, column production_units: '-1001'"):
        parse_csv("timestamp,energy_kwh,production_units\n2025-01-01,1,-1001\n", limits=limits)
    with pytest.raises(ValueError, match="less than or equal"):
        ImportSettings(max_kwh_per_interval=1e300)


@pytest.mark.parametrize("value", ["inf", "-inf", "1e400", "nan"])
def test_non_finite_values_are_rejected(value: str) -> None:
    with pytest.raises(InvalidFile, match="line 3, column outdoor_temp_c"):
        parse_csv(f"timestamp,energy_kwh,outdoor_temp_c\n2025-01-01,1,2\n2025-01-02,1,{value}\n")


def test_json_batch_with_1e308_over_http_is_a_422_naming_the_item(client: TestClient) -> None:
    machine = client.post("/api/v1/machines", json={"name": "Big"}).json()
    url = f"/api/v1/machines/{machine['id']}/readings"
    response = client.post(
        url,
        json={
            "readings": [
                {"timestamp": "2025-01-01T00:00:00Z", "energy_kwh": 1.0},
                {"timestamp": "2025-01-01T01:00:00Z", "energy_kwh": 1e308},
            ]
        },
    )
    assert response.status_code == 422
    assert "readings[1], column energy_kwh" in response.json()["error"]["message"]
    nan = client.post(
        url,
        content='{"readings": [{"timestamp": "2025-01-01", "energy_kwh": NaN}]}',
        headers={"content-type": "application/json"},
    )
    assert nan.status_code == 422
    assert "NaN is not a JSON number" in nan.json()["error"]["message"]
    daily = client.get(url, params={"resolution": "daily"}).json()
    assert daily["count"] == 0  # nothing of the rejected batches was stored


def test_json_records_use_the_same_rules() -> None:
    with pytest.raises(InvalidFile, match=r"readings\[0\], column energy_kwh"):
        parse_records([{"timestamp": "2025-01-01", "energy_kwh": 5e9}])


def test_aggregates_of_the_largest_plausible_values_are_finite(client: TestClient) -> None:
    top = ImportSettings.model_fields["max_kwh_per_interval"].metadata  # the hard cap
    cap = next(m.le for m in top if hasattr(m, "le"))
    ts = pd.date_range("2025-01-01", periods=4 * 24 * 3, freq="15min", tz="UTC", name="ts")
    frame = pd.DataFrame(
        {
            "energy_kwh": np.full(len(ts), float(cap)),
            "outdoor_temp_c": np.full(len(ts), float(cap)),
            "production_units": np.full(len(ts), float(cap)),
            "operating_hours": np.full(len(ts), 0.25),
            "drivers": [None] * len(ts),
            "is_anomaly": [None] * len(ts),
        },
        index=ts,
    )
    for resolution, per_bucket in (("hourly", 4), ("daily", 96)):
        out = aggregate(frame, resolution, "Europe/Berlin")
        assert np.isfinite(out[["energy_kwh", "outdoor_temp_c", "production_units"]]).all().all()
        full = out[out["n"] == per_bucket]
        assert (full["energy_kwh"] == cap * per_bucket).all()
    # and through the API, with readings at the default bound
    machine = client.post("/api/v1/machines", json={"name": "Smelter"}).json()
    url = f"/api/v1/machines/{machine['id']}/readings"
    rows = "".join(f"{t:%Y-%m-%dT%H:%M:%SZ},1e9,1e12\n" for t in ts)
    imported = client.post(
        url,
        content="timestamp,energy_kwh,production_units\n" + rows,
        headers={"content-type": "text/csv"},
    )
    assert imported.status_code == 200, imported.text
    for resolution in ("hourly", "daily"):
        points = client.get(url, params={"resolution": resolution}).json()["readings"]
        assert points
        assert all(
            isinstance(p["energy_kwh"], float) and math.isfinite(p["energy_kwh"]) for p in points
        )
        assert all(p["production_units"] is not None for p in points)
