"""The dashboard behind a login, in headless Chromium: a page asked for without a login goes
to the login and back, a wrong password is refused, a state-changing fetch without the
session's CSRF token is refused, the buttons a viewer may not use are not shown, and logout
ends the session on the server (its cookie no longer works)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.browser.conftest import PageLog, Plant

from enms.auth import service
from enms.auth.roles import Role
from enms.core.db import create_db_engine, create_session_factory, session_scope

pytestmark = pytest.mark.browser
PASSWORDS = {"olga": "olga-operator-pw", "vera": "vera-viewer-pw"}


@pytest.fixture
def secured(plant: Plant) -> Plant:
    """The story's plant with two users: olga (operator) and vera (viewer)."""
    engine = create_db_engine(f"sqlite:///{plant.story.database}")
    try:
        with session_scope(create_session_factory(engine), write=True) as session:
            for name, role in (("olga", Role.operator), ("vera", Role.viewer)):
                service.add_user(
                    session,
                    username=name,
                    password=PASSWORDS[name],
                    role=role,
                    created_by="test",
                    now=plant.clock.now(),
                )
    finally:
        engine.dispose()
    return plant


def _log_in(page: Any, name: str, password: str) -> None:
    page.fill("#username", name)
    page.fill("#password", password)
    page.click("#login-submit")


def test_login_csrf_and_logout(
    page: Any, page_log: PageLog, secured: Plant, shoot: Callable[[Any, str], Path]
) -> None:
    page.goto(f"{secured.url}/ui/training?state=failed")
    assert "/login?next=/ui/training%3Fstate%3Dfailed" in page.url
    shoot(page, "login")

    page_log.allow("HTTP 401: POST")
    page_log.allow("status of 401")
    _log_in(page, "olga", "not her password")
    assert "Wrong username or password" in page.inner_text("#login-error")

    _log_in(page, "olga", PASSWORDS["olga"])
    page.wait_for_url(f"{secured.url}/ui/training?state=failed")
    assert "olga" in page.inner_text(".who")
    assert "operator" in page.inner_text(".who")
    shoot(page, "logged-in-training")
    cookie = next(c for c in page.context.cookies() if c["name"] == "enms_session")
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Lax"

    # A fetch that does not carry the page's CSRF token is refused …
    page_log.allow("HTTP 403: POST")
    page_log.allow("status of 403")
    forged = page.evaluate(
        """() => fetch('/api/v1/machines', {method: 'POST',
              headers: {'content-type': 'application/json'},
              body: JSON.stringify({name: 'Forged press'})})
            .then(r => r.json().then(b => [r.status, b.error.message]))"""
    )
    assert forged[0] == 403
    assert "CSRF" in forged[1]
    # … the dashboard's own one (enms.api sends it) passes.
    created = page.evaluate("() => enms.api('POST', '/api/v1/machines', {name: 'Press 9'})")
    assert created["name"] == "Press 9"

    page.click(".who button")
    page.wait_for_url(f"{secured.url}/login")
    old = httpx.get(
        f"{secured.url}/api/v1/machines", cookies={"enms_session": cookie["value"]}, timeout=30
    )
    assert old.status_code == 401
    page.goto(f"{secured.url}/")
    assert "/login" in page.url


def test_a_viewer_is_not_shown_actions_and_is_refused_them(
    page: Any, page_log: PageLog, secured: Plant, shoot: Callable[[Any, str], Path]
) -> None:
    page.goto(f"{secured.url}/login")
    _log_in(page, "vera", PASSWORDS["vera"])
    page.wait_for_url(f"{secured.url}/")
    machine = secured.story.compressor_id
    page.goto(f"{secured.url}/ui/model-performance?machine_id={machine}&model_type=baseline")
    page.wait_for_selector("#jobs-panel")
    assert not page.is_visible("#trigger")
    page.goto(f"{secured.url}/ui/machines/{machine}/models/baseline")
    page.wait_for_selector("#rollback", state="attached")
    assert not page.is_visible("#rollback")
    assert page.locator("button.promote:visible").count() == 0
    shoot(page, "viewer-versions")
    page_log.allow("HTTP 403: POST")
    page_log.allow("status of 403")
    refused = page.evaluate(
        f"() => enms.api('POST', '/api/v1/machines/{machine}/models/baseline/rollback', {{}})"
        ".then(() => 'done', e => e.status + ' ' + e.message)"
    )
    assert refused.startswith("403 user:vera has the role viewer")


def test_desk_mode_says_so_in_the_header(page: Any, plant: Plant) -> None:
    page.goto(f"{plant.url}/")
    assert "desk mode" in page.inner_text(".who")
