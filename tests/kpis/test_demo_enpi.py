"""Acceptance: the demo compressor's leak (+12 % energy from 2025-06-01 local, seed 42) shows
as EnPI ≈ 1.12 in June–July against a baseline trained on January–April, and EnPI ≈ 1.00 in
March–May (two months in the training window, May out of sample).

Hourly readings (the demo's 15-minute ones give the same figures at four times the cost);
tolerance ±0.03 on both. Measured (both dialects alike): June–July 1.1212 (June 1.1223,
July 1.1202), savings −21,875 ± 194 kWh (FSU 0.9 %); March–May 1.0007 (0.9998, 1.0010,
1.0013), savings −184 ± 230 kWh (FSU 125 %: no saving claimed). Baseline: CV(RMSE) 3.25 %,
n = 2,881, rho = 0.01. The run also reads the report through
the API (day rows aggregated per month) and the CLI's table.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from enms.core.cli_context import AppContext
from enms.core.clock import FrozenClock
from enms.core.config import Settings
from enms.core.db import SessionFactory
from enms.demo.generator import generate_plant
from enms.kpis.commands import kpis
from enms.kpis.schemas import KpiReport
from enms.kpis.tasks import kpi_calculate
from tests.factories import train_version
from tests.kpis.data import import_frame

TOLERANCE = 0.03
RUN_AT = datetime(2025, 8, 1, 0, 30, tzinfo=UTC)  # 02:30 local: complete days end 31 July


def _report(client: TestClient, machine_id: int, start: str, end: str) -> KpiReport:
    url = f"/api/v1/machines/{machine_id}/kpis"
    response = client.get(url, params={"from": start, "to": end, "resolution": "month"})
    assert response.status_code == 200, response.text
    return KpiReport.model_validate(response.json())


def test_leak_raises_the_compressor_enpi_by_12_percent(
    session_factory: SessionFactory, clock: FrozenClock, settings: Settings, client: TestClient
) -> None:
    source = generate_plant(seed=42, days=212, freq="h")[0]
    assert source.name == "Compressor C1"
    leak = next(e for e in source.truth.events if e.kind == "efficiency_loss")
    # 151 × 24 h after New Year's midnight: 01:00 local in summer time (1 h of June 1 before it)
    assert str(leak.start.tz_convert("Europe/Berlin")) == "2025-06-01 01:00:00+02:00"
    machine_id = import_frame(session_factory, clock, source.readings)
    train_version(session_factory, clock, machine_id, "baseline", until="2025-05-01")
    result = kpi_calculate(factory=session_factory, settings=settings, clock=FrozenClock(RUN_AT))
    assert result["rows"] == 212

    after = _report(client, machine_id, "2025-06-01", "2025-08-01")
    before = _report(client, machine_id, "2025-03-01", "2025-06-01")
    assert after.total is not None
    assert before.total is not None
    assert after.total.enpi == pytest.approx(1.12, abs=TOLERANCE)
    assert before.total.enpi == pytest.approx(1.00, abs=TOLERANCE)
    assert [p.period for p in after.periods] == ["2025-06", "2025-07"]
    assert all(p.enpi == pytest.approx(1.12, abs=TOLERANCE) for p in after.periods)
    # Excess consumption: negative savings, well beyond their uncertainty (FSU < 50 %).
    assert after.total.savings_kwh is not None
    assert after.total.savings_kwh < 0
    assert after.total.cumulative_fsu_percent is not None
    assert after.total.cumulative_fsu_percent < 50
    assert after.baseline is not None
    assert after.baseline.version == 1
    assert after.baseline.training_end == datetime(2025, 5, 1, tzinfo=UTC)

    app = AppContext(
        overrides={"database_url": settings.database_url, "data_dir": str(settings.data_dir)}
    )
    args = ["--machine", "Compressor C1", "--from", "2025-06-01", "--to", "2025-08-01"]
    human = CliRunner().invoke(kpis, [*args, "--resolution", "month"], obj=app)
    assert human.exit_code == 0, human.output
    lines = human.stdout.splitlines()
    assert lines[0].startswith("Compressor C1: 2025-06-01 .. 2025-08-01")
    assert "baseline of record v1" in lines[0]
    assert lines[2].startswith("2025-06 ")
    assert lines[4].startswith("total ")
    as_json = CliRunner().invoke(kpis, [*args, "--json"], obj=app)
    assert as_json.exit_code == 0, as_json.output
    daily = KpiReport.model_validate(json.loads(as_json.stdout))
    assert len(daily.periods) == 61
    assert daily.total is not None
    assert daily.total.enpi == pytest.approx(after.total.enpi, rel=1e-12)


def test_unknown_machine_and_bad_parameters(
    session_factory: SessionFactory, clock: FrozenClock, client: TestClient
) -> None:
    assert client.get("/api/v1/machines/999/kpis").status_code == 404
    machine_id = import_frame(session_factory, clock, generate_plant(days=3, freq="h")[0].readings)
    url = f"/api/v1/machines/{machine_id}/kpis"
    empty = client.get(url)  # default: the 30 days before today (FROZEN_AT), no rows there
    assert empty.status_code == 200
    assert empty.json()["periods"] == []
    assert empty.json()["from_day"] == "2025-12-16"
    for params, named in [
        ({"from": "June"}, "from"),
        ({"to": "2025-13-01"}, "to"),
        ({"from": "2025-06-01", "to": "2025-05-01"}, "from"),
        ({"resolution": "year"}, "resolution"),
    ]:
        response = client.get(url, params=params)
        assert response.status_code == 422, params
        assert named in response.text, response.text
    shifted = client.get(url, params={"from": "2025-01-01T12:00:00Z", "to": "2025-01-03"})
    assert shifted.json()["from_day"] == "2025-01-02"  # the first local day starting after it
