"""One error shape for every failure the API gives, with request ids on 5xx."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from enms.api.app import create_app
from enms.core.clock import FrozenClock
from enms.core.config import Settings
from enms.core.db import create_db_engine
from enms.core.errors import SchemaOutOfDate


def _shape(body: object) -> dict[str, object]:
    assert isinstance(body, dict)
    assert set(body) == {"error"}
    error = body["error"]
    assert isinstance(error, dict)
    assert set(error) == {"code", "message", "details"}
    assert isinstance(error["message"], str)
    assert error["message"]
    return error


def test_unknown_route_is_a_404_in_the_error_shape(client: TestClient) -> None:
    response = client.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    error = _shape(response.json())
    assert error["code"] == "not_found"
    assert "GET /api/v1/no-such-thing" in str(error["message"])
    assert response.headers["x-request-id"]


def test_wrong_method_is_a_405_in_the_error_shape(client: TestClient) -> None:
    response = client.delete("/health")
    assert response.status_code == 405
    error = _shape(response.json())
    assert error["code"] == "method_not_allowed"
    assert error["details"] == {"allowed_methods": ["GET"]}
    assert response.headers["allow"] == "GET"


def test_invalid_input_is_a_422_in_the_error_shape(client: TestClient) -> None:
    response = client.get("/api/v1/machines/not-a-number/readings")
    assert response.status_code == 422
    error = _shape(response.json())
    assert error["code"] == "invalid_request"
    assert "path.machine_id" in str(error["message"])


def test_malformed_json_names_line_and_column(client: TestClient) -> None:
    body = '{\n  "machine_id": 1,\n  "model_type": "baseline"\n  "reason": "x"\n}'
    response = client.post(
        "/api/v1/model-performance/retrain/trigger",
        content=body,
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 422
    error = _shape(response.json())
    assert "line 4, column 3" in str(error["message"]), error["message"]
    problem = error["details"]["problems"][0]  # type: ignore[index]
    assert (problem["line"], problem["column"]) == (4, 3)


def test_malformed_json_readings_batch_names_line_and_column(client: TestClient) -> None:
    created = client.post("/api/v1/machines", json={"name": "M"}).json()
    response = client.post(
        f"/api/v1/machines/{created['id']}/readings",
        content='{"readings": [\n  {"timestamp": "2025-01-01", "energy_kwh": 1,}\n]}',
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 422
    error = _shape(response.json())
    assert error["details"] == {"line": 2, "column": 47}


def test_a_json_body_that_is_not_utf8_is_a_422_naming_the_byte(client: TestClient) -> None:
    response = client.post(
        "/api/v1/machines",
        content=b'{"name": "Pr\xe9sse"}',
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 422
    error = _shape(response.json())
    assert error["code"] == "invalid_request"
    problem = "the body is not valid JSON: not UTF-8 text (byte 0xe9 at offset 12)"
    assert error["message"] == f"invalid request: body: {problem}"
    assert error["details"] == {
        "problems": [{"location": "body", "problem": problem, "offset": 12}]
    }


def test_ids_beyond_the_integer_columns_are_a_422_naming_the_parameter(client: TestClient) -> None:
    too_big = 2**31
    for method, url, body, where in (
        ("GET", f"/api/v1/training-jobs/{too_big}", None, "path.job_id"),
        ("GET", f"/api/v1/alerts?machine_id={2**63}", None, "query.machine_id"),
        ("GET", "/api/v1/machines/0/readings", None, "path.machine_id"),
        (
            "POST",
            "/api/v1/model-performance/retrain/trigger",
            {"machine_id": 2**70, "model_type": "baseline"},
            "body.machine_id",
        ),
    ):
        response = client.request(method, url, json=body)
        assert response.status_code == 422, (url, response.text)
        assert str(_shape(response.json())["message"]).startswith(f"invalid request: {where}: ")


def test_the_openapi_document_declares_the_error_shape_for_every_api_operation(
    client: TestClient,
) -> None:
    document = client.get("/openapi.json").json()
    assert "HTTPValidationError" not in document["components"]["schemas"]
    error = {"$ref": "#/components/schemas/ErrorResponse"}
    for path, operations in document["paths"].items():
        if not path.startswith("/api/v1/"):
            continue
        for method, operation in operations.items():
            for status in ("404", "409", "422"):
                declared = operation["responses"][status]["content"]["application/json"]
                assert declared["schema"] == error, (method, path, status)


@pytest.fixture
def failing_client(settings: Settings, engine: Engine, clock: FrozenClock) -> Iterator[TestClient]:
    """The real app plus two test-only routes that fail the way bugs and outages do."""
    app = create_app(settings, engine=engine, clock=clock)

    @app.get("/test-only/boom")
    def boom() -> None:
        raise RuntimeError("a bug the handlers do not know")

    @app.get("/test-only/outage")
    def outage() -> None:
        raise SchemaOutOfDate("the schema moved under us")

    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def test_unexpected_exception_is_a_500_with_a_request_id_in_body_header_and_log(
    failing_client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="enms.api"):
        response = failing_client.get("/test-only/boom")
    assert response.status_code == 500
    error = _shape(response.json())
    assert error["code"] == "internal_error"
    request_id = response.headers["x-request-id"]
    assert len(request_id) == 32
    assert error["details"] == {"request_id": request_id}
    assert "a bug the handlers do not know" not in response.text  # nothing internal leaks
    logged = [r for r in caplog.records if request_id in r.getMessage()]
    assert len(logged) == 1
    assert logged[0].exc_info is not None  # the traceback is in the log, by the id


def test_a_sane_incoming_request_id_is_kept_and_a_bad_one_replaced(
    failing_client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="enms.api"):
        kept = failing_client.get("/test-only/outage", headers={"X-Request-ID": "lb-42.a:b"})
    assert kept.status_code == 503
    assert kept.headers["x-request-id"] == "lb-42.a:b"
    assert _shape(kept.json())["details"] == {"request_id": "lb-42.a:b"}
    assert any("lb-42.a:b" in r.getMessage() for r in caplog.records)
    replaced = failing_client.get("/health", headers={"X-Request-ID": "bad id\twith spaces"})
    assert replaced.headers["x-request-id"] != "bad id\twith spaces"
    first = failing_client.get("/health").headers["x-request-id"]
    assert first != failing_client.get("/health").headers["x-request-id"]


def test_health_503_names_its_request_id(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    settings = Settings.model_validate(
        {"database_url": url, "data_dir": tmp_path, "queue": {"in_process": False}}
    )
    engine = create_db_engine(url)
    with (
        TestClient(create_app(settings, engine=engine)) as c,
        caplog.at_level(logging.ERROR, logger="enms.api"),
    ):
        response = c.get("/health", headers={"X-Request-ID": "probe-1"})
    engine.dispose()
    assert response.status_code == 503
    assert response.json()["request_id"] == "probe-1"
    assert response.headers["x-request-id"] == "probe-1"
    assert any("probe-1" in r.getMessage() for r in caplog.records)


def test_missing_static_file_is_a_404_in_the_error_shape(client: TestClient) -> None:
    response = client.get("/static/no-such-file.js")
    assert response.status_code == 404
    assert _shape(response.json())["code"] == "not_found"
