"""The console of `enms serve`: timestamps, no access log by default, no Alembic chatter."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.net import free_port

from enms.core.config import Settings
from enms.core.logs import uvicorn_options

TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2},\d{3} ")


def test_serve_logs_with_timestamps_and_without_per_request_lines(tmp_path: Path) -> None:
    env = os.environ | {
        "ENMS_DATABASE_URL": f"sqlite:///{tmp_path / 'serve.db'}",
        "ENMS_DATA_DIR": str(tmp_path / "data"),
    }
    enms = [sys.executable, "-m", "enms.cli"]
    subprocess.run([*enms, "db", "upgrade"], env=env, check=True, capture_output=True)
    port = free_port()
    server = subprocess.Popen(
        [*enms, "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
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
        for _ in range(3):
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5) as r:
                assert r.headers["X-Request-ID"]
    finally:
        server.terminate()
        _, stderr = server.communicate(timeout=30)
    lines = stderr.splitlines()
    assert not [line for line in lines if "GET /health" in line], stderr  # no access log
    assert not [line for line in lines if "alembic" in line.lower()], stderr
    logged = [line for line in lines if " INFO " in line]
    assert any("Application startup complete" in line for line in logged), stderr
    assert all(TIMESTAMP.match(line) for line in logged), logged


def test_the_access_log_is_a_setting() -> None:
    assert uvicorn_options(Settings())["access_log"] is False
    on = Settings.model_validate({"server": {"access_log": True}})
    assert uvicorn_options(on) == {"log_config": None, "log_level": "info", "access_log": True}
