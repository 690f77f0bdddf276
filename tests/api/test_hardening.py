"""Security headers on every response, and the liveness/readiness probes.

The policy's effect in a real browser — every dashboard page and ``/docs`` running with no
violation — is what the browser tests check: a refused script or style is a console error,
which fails them.
"""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from enms.api.app import create_app
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
