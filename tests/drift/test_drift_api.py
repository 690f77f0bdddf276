"""``POST /api/v1/model-performance/drift/check`` on the real application and database."""

from __future__ import annotations

import pandas as pd
from fastapi.testclient import TestClient
from tests.drift.test_check import COMPRESSOR, expected_energy, import_machine, log_points
from tests.evaluation.test_evaluate import _train

from enms.core.clock import FrozenClock
from enms.core.db import SessionFactory
from enms.core.timewindow import Window
from enms.drift.schemas import DriftCheckRead

URL = "/api/v1/model-performance/drift/check"


def test_a_check_is_recorded_and_answered_with_its_details(
    session_factory: SessionFactory, clock: FrozenClock, client: TestClient
) -> None:
    machine_id = import_machine(session_factory, clock, index=COMPRESSOR)
    _train(session_factory, clock, machine_id, "baseline", "2025-04-01")
    frame = expected_energy(
        session_factory, machine_id, "baseline", Window.parse("2025-04-07", "2025-04-21")
    )
    log_points(
        session_factory,
        clock,
        machine_id,
        "baseline",
        pd.DataFrame({"predicted": frame["expected"], "actual": frame["energy_kwh"] * 1.12}),
    )
    body = {
        "machine_id": machine_id,
        "model_type": "baseline",
        "current_from": "2025-04-07",
        "current_to": "2025-04-21",
    }
    answer = client.post(URL, json=body)
    assert answer.status_code == 201, answer.text
    doc = answer.json()
    assert set(doc) == set(DriftCheckRead.model_json_schema(mode="serialization")["properties"])
    result = DriftCheckRead.model_validate(doc)
    assert result.id is not None
    assert result.model_version == 1
    assert result.reference_end is not None
    assert result.reference_end.isoformat() == "2025-04-01T00:00:00+00:00"  # training window
    assert result.drift_detected is not None
    assert result.statement is not None
    assert result.statement.startswith("Compressor C1 uses ")
    assert result.drift_details["degradation"]["energy"]["degraded"] is True
    assert result.metrics["n"] == 14 * 24
    again = client.post(URL, json=body | {"reference_from": "2025-02-01", "version": 1})
    assert again.status_code == 201, again.text
    assert again.json()["drift_details"]["reference"]["source"] == "requested"


def test_problems_are_named(
    session_factory: SessionFactory, clock: FrozenClock, client: TestClient
) -> None:
    machine_id = import_machine(session_factory, clock, index=COMPRESSOR)
    base = {"machine_id": machine_id, "model_type": "baseline"}
    window = {"current_from": "2025-04-07", "current_to": "2025-04-21"}
    no_champion = client.post(URL, json=base | window)
    assert no_champion.status_code == 404
    assert "train one" in no_champion.text
    _train(session_factory, clock, machine_id, "baseline", "2025-04-01")
    unknown = client.post(URL, json=base | window | {"machine_id": 9999})
    assert unknown.status_code == 404
    assert "9999" in unknown.text
    empty = client.post(URL, json=base | {"current_from": "2027-01-01", "current_to": "2027-01-08"})
    assert empty.status_code == 422
    assert "the current window has no readings" in empty.text
    inverted = client.post(
        URL, json=base | {"current_from": "2025-04-21", "current_to": "2025-04-07"}
    )
    assert inverted.status_code == 422
    assert "current_from" in inverted.text
    bad_type = client.post(URL, json=base | window | {"model_type": "lstm"})
    assert bad_type.status_code == 422
    assert "unknown model type" in bad_type.text
