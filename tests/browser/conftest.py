"""Browser-test fixtures: Debian's Chromium driven by Playwright against a real server.

- ``story``: the plant of :mod:`tests.browser.story`, built once per session (~30 s).
- ``plant``: a private copy of it served by a real uvicorn server (in-process worker, frozen
  clock at the story's end) — ``plant.url``, ``plant.story``, ``plant.api(method, path, json)``.
- ``page``: a fresh page whose console errors, uncaught exceptions, failed requests and HTTP
  error responses are collected; the test fails at teardown if there were any, except those
  the test declared with ``page_log.allow(substring)`` (e.g. a 409 the test provokes).
- ``shoot(page, name)``: a full-page screenshot into ``ENMS_TEST_SCREENSHOTS`` (CI keeps them).

Skips when Chromium is not installed, unless ``ENMS_TEST_REQUIRE_BROWSER=1`` (set by CI).
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from tests.browser.story import Story, build_story, copy_story
from tests.net import free_port

from enms.api.app import create_app
from enms.core.clock import FrozenClock
from enms.core.config import Settings
from enms.core.db import create_db_engine

CHROMIUM_CANDIDATES = ("chromium", "chromium-browser", "google-chrome")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def chromium_path() -> str:
    """Chromium's executable, or skip (fail under ENMS_TEST_REQUIRE_BROWSER=1)."""
    for name in CHROMIUM_CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    if os.environ.get("ENMS_TEST_REQUIRE_BROWSER") == "1":
        pytest.fail("Chromium is required (ENMS_TEST_REQUIRE_BROWSER=1) but none is installed")
    pytest.skip("no Chromium installed (apt-get install chromium)")


@contextmanager
def serve(app: Any) -> Iterator[str]:
    """Run ``app`` on a free port in a thread; yields its base URL."""
    port = free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started:
        if time.monotonic() > deadline:
            pytest.fail("server did not start within 20 s")
        time.sleep(0.05)  # polling for readiness, not standing in for work
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        srv.should_exit = True
        thread.join(timeout=15)


@pytest.fixture(scope="session")
def story(tmp_path_factory: pytest.TempPathFactory) -> Story:
    """The compressor's leak story, built once per test session."""
    chromium_path()  # skip before building when there is no browser
    return build_story(tmp_path_factory.mktemp("story") / "plant")


@dataclass
class Plant:
    """A served private copy of the story."""

    url: str
    story: Story
    clock: FrozenClock

    def api(self, method: str, path: str, json: Any = None, **params: Any) -> httpx.Response:
        return httpx.request(method, self.url + path, json=json, params=params or None, timeout=30)


@pytest.fixture
def plant(story: Story, tmp_path: Path) -> Iterator[Plant]:
    """The story served by a real server on its own copy of the database."""
    mine = copy_story(story, tmp_path / "plant")
    settings = Settings(  # no wall-clock periodic jobs changing the story mid-test
        database_url=f"sqlite:///{mine.database}", data_dir=mine.data_dir, queue={"periodic": False}
    )
    engine = create_db_engine(settings.database_url)
    clock = FrozenClock(mine.now)
    try:
        with serve(create_app(settings, engine=engine, clock=clock)) as url:
            yield Plant(url=url, story=mine, clock=clock)
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless Chromium for the session."""
    executable = chromium_path()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@dataclass
class PageLog:
    """What went wrong on a page: console errors, exceptions, failed or 4xx/5xx requests."""

    problems: list[str] = field(default_factory=list)
    allowed: list[str] = field(default_factory=list)

    def allow(self, fragment: str) -> None:
        """Tolerate problems containing ``fragment`` (a response the test provokes)."""
        self.allowed.append(fragment)

    def failed(self, method: str, url: str, failure: str | None) -> None:
        """A request that got no answer. ``net::ERR_ABORTED`` is the browser cancelling a load
        because the page navigated away (every ``goto`` can cut a favicon or a panel's fetch
        short): not a fault of the page. Server errors arrive as responses (checked apart);
        refused connections, resets and timeouts are other ``net::`` errors and count."""
        if failure != "net::ERR_ABORTED":
            self.problems.append(f"request failed: {method} {url} {failure}")

    def unexpected(self) -> list[str]:
        return [p for p in self.problems if not any(a in p for a in self.allowed)]


@pytest.fixture
def page_log() -> PageLog:
    return PageLog()


@pytest.fixture
def page(browser: Any, page_log: PageLog) -> Iterator[Any]:
    """A fresh 1280×800 page; fails the test at teardown on any unexpected problem."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    pg = context.new_page()
    pg.set_default_timeout(15_000)
    pg.on(
        "console",
        lambda m: (
            page_log.problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None
        ),
    )
    pg.on("pageerror", lambda e: page_log.problems.append(f"page error: {e}"))
    pg.on("requestfailed", lambda r: page_log.failed(r.method, r.url, r.failure))
    pg.on(
        "response",
        lambda r: (
            page_log.problems.append(f"HTTP {r.status}: {r.request.method} {r.url}")
            if r.status >= 400
            else None
        ),
    )
    yield pg
    context.close()
    problems = page_log.unexpected()
    assert not problems, "problems on the page:\n" + "\n".join(problems)


@pytest.fixture
def shoot(tmp_path: Path) -> Callable[[Any, str], Path]:
    """``shoot(page, name)``: a full-page screenshot named ``name.png``."""
    target = Path(os.environ.get("ENMS_TEST_SCREENSHOTS", tmp_path / "screenshots"))
    target.mkdir(parents=True, exist_ok=True)

    def take(pg: Any, name: str) -> Path:
        path = target / f"{name}.png"
        pg.screenshot(path=str(path), full_page=True)
        return path

    return take
