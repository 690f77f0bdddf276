"""The dashboard's layout in a real headless Chromium: navigation, the first page, 404s."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from tests.browser.conftest import Plant

pytestmark = pytest.mark.browser


def test_overview_lists_the_machines(
    plant: Plant, page: Any, shoot: Callable[[Any, str], Path]
) -> None:
    page.goto(plant.url + "/")
    rows = page.locator("#machines tbody tr")
    assert rows.count() == 2
    assert rows.nth(0).locator("td.name a").inner_text() == "Chiller CH1"
    assert page.title() == "Overview · enms"
    shoot(page, "overview")


def test_the_visualizations_menu_leads_to_model_performance(plant: Plant, page: Any) -> None:
    page.goto(plant.url + "/")
    page.get_by_text("Visualizations").click()
    page.get_by_role("link", name="Model Performance").click()
    page.wait_for_url("**/ui/model-performance")
    assert page.locator("summary.active").inner_text().startswith("Visualizations")


def test_the_api_docs_run_under_the_content_security_policy(plant: Plant, page: Any) -> None:
    """Swagger UI starts from one inline script, allowed by its hash (any refused script or
    style would be a console error, which fails the test)."""
    answer = page.goto(plant.url + "/docs")
    assert "sha256-" in answer.headers["content-security-policy"]
    page.locator(".swagger-ui .info .title").wait_for()
    assert "enms" in page.locator(".swagger-ui .info .title").inner_text()
    page.locator(".opblock-tag", has_text="ab-tests").first.wait_for()
