"""The dashboard in a real headless Chromium, against a real server and database.

Skips when Chromium is not installed, unless ``ENMS_TEST_REQUIRE_BROWSER=1`` (set by CI).
Screenshots land in ``ENMS_TEST_SCREENSHOTS`` (default: the test's tmp dir) for a human look.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from sqlalchemy import Engine

from enms.api.app import create_app
from enms.core.clock import FrozenClock
from enms.core.config import Settings

CHROMIUM_CANDIDATES = ("chromium", "chromium-browser", "google-chrome")
pytestmark = pytest.mark.browser


def _chromium() -> str:
    for name in CHROMIUM_CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    if os.environ.get("ENMS_TEST_REQUIRE_BROWSER") == "1":
        pytest.fail("Chromium is required (ENMS_TEST_REQUIRE_BROWSER=1) but none is installed")
    pytest.skip("no Chromium installed (apt-get install chromium)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(settings: Settings, engine: Engine, clock: FrozenClock) -> Iterator[str]:
    """A real uvicorn server on a free port, in a thread."""
    port = _free_port()
    config = uvicorn.Config(
        create_app(settings, engine=engine, clock=clock),
        host="127.0.0.1",
        port=port,
        log_level="warning",
    )
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while not srv.started:
        if time.monotonic() > deadline:
            pytest.fail("server did not start within 20 s")
        time.sleep(0.05)  # polling for readiness, not standing in for work
    yield base
    srv.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def screenshots(tmp_path: Path) -> Path:
    """Where screenshots go."""
    target = Path(os.environ.get("ENMS_TEST_SCREENSHOTS", tmp_path))
    target.mkdir(parents=True, exist_ok=True)
    return target


def test_overview_lists_the_machines(server: str, screenshots: Path) -> None:
    executable = _chromium()
    from playwright.sync_api import sync_playwright

    for name, kind in (("Compressor C1", "compressor"), ("Chiller CH1", "chiller")):
        created = httpx.post(f"{server}/api/v1/machines", json={"name": name, "machine_type": kind})
        assert created.status_code == 201
    csv = "timestamp,energy_kwh\n2025-01-01T00:00:00Z,5\n2025-01-01T01:00:00Z,6\n"
    httpx.post(
        f"{server}/api/v1/machines/1/readings", content=csv, headers={"content-type": "text/csv"}
    )

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=executable,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        page = browser.new_page(viewport={"width": 1280, "height": 720})
        page.goto(server + "/")
        rows = page.locator("#machines tbody tr")
        assert rows.count() == 2
        assert rows.nth(0).locator("td.name").inner_text() == "Chiller CH1"
        assert "2" in rows.nth(1).locator("td.num").inner_text()
        assert page.title() == "Machines · enms"
        page.screenshot(path=str(screenshots / "overview.png"), full_page=True)
        browser.close()
