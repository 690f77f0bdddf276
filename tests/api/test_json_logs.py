"""``ENMS_LOG_FORMAT=json``: what the real app logs while handling a request is one JSON object
per line carrying the request id the response names; no credential reaches the log."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from tests.console import configured_console, json_lines

from enms.api.app import create_app
from enms.core.clock import FrozenClock
from enms.core.config import Settings

log = logging.getLogger("enms.test.handler")
TOKEN = "s3cr3t-t0ken.value"


@pytest.fixture
def app_client(settings: Settings, engine: Engine, clock: FrozenClock) -> Iterator[TestClient]:
    """The real app plus two test-only routes: one logs (on a handler thread), one fails."""
    app = create_app(settings, engine=engine, clock=clock)

    @app.get("/test-only/log")
    def logs_something() -> dict[str, str]:
        log.info("handled %s", "the thing", extra={"machine": "F1", "engine": engine})
        return {"ok": "yes"}

    @app.get("/test-only/boom")
    def boom() -> None:
        raise RuntimeError(f"upstream refused Bearer {TOKEN}")

    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def _by(entries: list[dict[str, Any]], logger: str) -> list[dict[str, Any]]:
    return [e for e in entries if e["logger"] == logger]


def test_json_lines_carry_the_request_id_of_the_response(app_client: TestClient) -> None:
    with configured_console(Settings(log_format="json")) as stream:
        fresh = app_client.get("/test-only/log", headers={"Authorization": f"Bearer {TOKEN}"})
        given = app_client.get("/test-only/log", headers={"X-Request-ID": "lb-42.a:b"})
        log.info("between requests")
    assert fresh.status_code == given.status_code == 200
    first, second, outside = _by(json_lines(stream), "enms.test.handler")
    assert first["request_id"] == fresh.headers["x-request-id"]
    assert len(first["request_id"]) == 32
    assert second["request_id"] == given.headers["x-request-id"] == "lb-42.a:b"
    assert "request_id" not in outside
    assert first["message"] == "handled the thing"
    assert (first["level"], first["machine"]) == ("INFO", "F1")
    assert "engine" not in first  # not JSON: left out
    assert TOKEN not in stream.getvalue()


def test_an_unexpected_failure_logs_its_traceback_by_request_id_redacted(
    app_client: TestClient,
) -> None:
    with configured_console(Settings(log_format="json")) as stream:
        response = app_client.get("/test-only/boom")
    assert response.status_code == 500
    request_id = response.headers["x-request-id"]
    assert response.json()["error"]["details"] == {"request_id": request_id}
    (failure,) = [e for e in _by(json_lines(stream), "enms.api") if "exc_info" in e]
    assert failure["request_id"] == request_id
    assert failure["level"] == "ERROR"
    assert "RuntimeError: upstream refused Bearer ***" in failure["exc_info"]
    assert TOKEN not in stream.getvalue()
