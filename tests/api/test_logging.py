"""The console of `enms serve`: timestamps, no access log by default, no Alembic chatter;
with ``ENMS_LOG_FORMAT=json`` nothing but JSON lines, uvicorn's included."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.net import free_port

from enms.core import schema
from enms.core.config import Settings
from enms.core.db import create_db_engine
from enms.core.logs import uvicorn_options

TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2},\d{3} ")


def _serve(tmp_path: Path, requests: int, **env_vars: str) -> tuple[list[str], list[str]]:
    """Run `enms serve` on a fresh database, GET /health ``requests`` times, stop it: the
    request ids the responses named, and the lines it wrote on stderr."""
    env = os.environ | {
        "ENMS_DATABASE_URL": f"sqlite:///{tmp_path / 'serve.db'}",
        "ENMS_DATA_DIR": str(tmp_path / "data"),
        **env_vars,
    }
    engine = create_db_engine(env["ENMS_DATABASE_URL"])
    schema.upgrade(engine)  # as `enms db upgrade` does, without starting another interpreter
    engine.dispose()
    enms = [sys.executable, "-m", "enms.cli"]
    port = free_port()
    server = subprocess.Popen(
        [*enms, "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    ids = []
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5) as r:
                    assert r.status == 200
                    break
            except OSError:
                assert server.poll() is None, "enms serve exited"
                assert time.monotonic() < deadline, "enms serve did not answer within 60 s"
                time.sleep(0.3)
        for _ in range(requests):
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5) as r:
                assert r.headers["X-Request-ID"]
                ids.append(r.headers["X-Request-ID"])
    finally:
        server.terminate()
        _, stderr = server.communicate(timeout=30)
    return ids, stderr.splitlines()


def test_serve_logs_with_timestamps_and_without_per_request_lines(tmp_path: Path) -> None:
    _, lines = _serve(tmp_path, 3)
    stderr = "\n".join(lines)
    assert not [line for line in lines if "GET /health" in line], stderr  # no access log
    assert not [line for line in lines if "alembic" in line.lower()], stderr
    logged = [line for line in lines if " INFO " in line]
    assert any("Application startup complete" in line for line in logged), stderr
    assert all(TIMESTAMP.match(line) for line in logged), logged


def test_serve_with_json_logs_writes_only_json_lines(tmp_path: Path) -> None:
    ids, lines = _serve(tmp_path, 2, ENMS_LOG_FORMAT="json", ENMS_SERVER__ACCESS_LOG="true")
    entries = [json.loads(line) for line in lines]  # every stderr line is one JSON object
    assert all({"time", "level", "logger", "message"} <= set(e) for e in entries)
    messages = {(e["logger"], e["message"]) for e in entries}
    assert ("uvicorn.error", "Application startup complete.") in messages
    assert any(e["message"].startswith("enms serving sqlite:///") for e in entries)
    access = [e for e in entries if e["logger"] == "uvicorn.access"]
    assert [e["request_id"] for e in access][-2:] == ids  # uvicorn's lines carry the id too
    assert not [e for e in entries if "color_message" in e]


def test_the_access_log_is_a_setting() -> None:
    assert uvicorn_options(Settings())["access_log"] is False
    on = Settings.model_validate({"server": {"access_log": True}})
    assert uvicorn_options(on) == {"log_config": None, "log_level": "info", "access_log": True}
