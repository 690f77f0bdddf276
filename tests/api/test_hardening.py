"""Security headers on every response, and the liveness/readiness probes.

The policy's effect in a real browser — every dashboard page and ``/docs`` running with no
violation — is what the browser tests check: a refused script or style is a console error,
which fails them.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from enms.api.app import create_app
from enms.api.body_limit import MIB
from enms.api.security_headers import CSP
from enms.core.config import Settings


def test_every_response_carries_the_security_headers(client: TestClient) -> None:
    for path, status in (
        ("/", 200),
        ("/api/v1/machines", 200),
        ("/nope", 404),
        ("/static/style.css", 200),
    ):
        answer = client.get(path)
        assert answer.status_code == status, path
        assert answer.headers["content-security-policy"] == CSP, path
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["x-frame-options"] == "DENY"
        assert answer.headers["referrer-policy"] == "same-origin"
    assert "script-src 'self';" in CSP  # no inline scripts, no CDN, no eval
    assert "frame-ancestors 'none'" in CSP


def test_the_api_docs_allow_exactly_their_inline_script(client: TestClient) -> None:
    answer = client.get("/docs")
    assert answer.status_code == 200
    policy = answer.headers["content-security-policy"]
    (inline,) = re.findall(r"<script>(.*?)</script>", answer.text, re.DOTALL)
    digest = base64.b64encode(hashlib.sha256(inline.encode()).digest()).decode()
    assert f"script-src 'self' 'sha256-{digest}'" in policy
    assert policy.count("sha256-") == 1


def test_liveness_and_readiness(client: TestClient) -> None:
    live = client.get("/health/live")
    assert (live.status_code, live.json()["status"]) == (200, "ok")
    ready = client.get("/health/ready")
    assert ready.status_code == 200, ready.text
    body = ready.json()
    assert (body["status"], body["queue"]) == ("ok", "embedded")
    assert body["schema_revision"] == body["schema_head"]


def test_readiness_fails_naming_an_unreachable_queue(
    engine: Engine, migrated_url: str, tmp_path: Path
) -> None:
    settings = Settings(
        database_url=migrated_url, data_dir=tmp_path / "d", queue_url="redis://127.0.0.1:1/0"
    )
    plain = TestClient(create_app(settings, engine=engine))  # no lifespan: no consumers
    ready = plain.get("/health/ready")
    assert ready.status_code == 503
    assert ready.json()["problem"] == "job queue (redis) unreachable"
    assert plain.get("/health/live").status_code == 200  # alive, just not ready
    assert plain.get("/health").status_code == 200  # the database itself is fine


def test_bodies_beyond_their_route_limit_are_413_naming_the_setting(
    engine: Engine, migrated_url: str, tmp_path: Path
) -> None:
    settings = Settings(
        database_url=migrated_url,
        data_dir=tmp_path / "d",
        server={"max_body_mb": 1},
        imports={"max_upload_mb": 2},
    )
    client = TestClient(create_app(settings, engine=engine))
    created = client.post("/api/v1/machines", json={"name": "C1", "machine_type": "compressor"})
    assert created.status_code == 201, created.text
    machine_id = created.json()["id"]
    record = "/api/v1/model-performance/metrics/record"
    big = b'{"metrics": [' + b" " * (MIB + 10) + b"]}"
    answer = client.post(record, content=big, headers={"content-type": "application/json"})
    assert answer.status_code == 413
    error = answer.json()["error"]
    assert error["code"] == "payload_too_large"
    assert "at most 1 MiB (ENMS_SERVER__MAX_BODY_MB)" in error["message"]
    assert answer.headers["content-security-policy"] == CSP  # still a normal response

    # streamed without a length: cut off while it arrives, the same answer
    def chunks() -> Iterator[bytes]:
        yield b'{"metrics": ['
        for _ in range(40):
            yield b" " * 65536
        yield b"]}"

    streamed = client.post(record, content=chunks(), headers={"content-type": "application/json"})
    assert streamed.status_code == 413
    assert "more than 1,048,576 bytes" in streamed.json()["error"]["message"]

    # a readings import may be larger (its own limit), up to that limit
    csv = "timestamp,energy_kwh\n" + "".join(
        f"2025-01-01T{h:02d}:00:00Z,{5 + h % 3}\n" for h in range(24)
    )
    readings = f"/api/v1/machines/{machine_id}/readings"
    small = client.post(readings, content=csv, headers={"content-type": "text/csv"})
    assert small.status_code == 200, small.text
    start = datetime(2015, 1, 1, tzinfo=UTC)  # 5 years, before the rows above
    rows = [
        f"{start + timedelta(hours=h):%Y-%m-%dT%H:%M:%SZ},{5 + h % 3}.25\n" for h in range(45_000)
    ]
    longer = "timestamp,energy_kwh\n" + "".join(rows)
    assert MIB < len(longer) < 2 * MIB  # over the general limit, inside the import's
    imported = client.post(readings, content=longer, headers={"content-type": "text/csv"})
    assert imported.status_code == 200, imported.text[:300]
    assert imported.json()["inserted"] == 45_000
    huge = csv + " " * (3 * MIB)
    refused = client.post(readings, content=huge, headers={"content-type": "text/csv"})
    assert refused.status_code == 413
    assert "ENMS_IMPORTS__MAX_UPLOAD_MB" in refused.json()["error"]["message"]
