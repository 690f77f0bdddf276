"""The A/B tests page in a real Chromium on the story: finished tests with verdict, CI chart
and promotion; starting a test from the form, seeing it running with its per-arm results,
and stopping it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from tests.browser.conftest import Plant

pytestmark = pytest.mark.browser


def test_finished_tests_show_verdict_interval_and_promotion(
    plant: Plant, page: Any, shoot: Callable[[Any, str], Path]
) -> None:
    page.goto(plant.url + "/ui/ab-tests")
    won = page.locator("#test-3")
    won.locator("table.arms").wait_for()
    assert "winner B" in won.locator("header").inner_text()
    assert "promoted v2" in won.locator(".promotion").inner_text()
    assert won.locator("table.arms tbody tr").count() == 2
    assert won.locator("tr[data-arm='a'] .n").inner_text() == "80"
    won.locator(".ci .main-svg").first.wait_for()
    assert page.locator("#finished article.test").count() == 3
    assert "No test is running." in page.locator("#running").inner_text()
    shoot(page, "abtests")


def test_start_a_test_from_the_form_see_it_running_and_stop_it(
    plant: Plant, page: Any, shoot: Callable[[Any, str], Path]
) -> None:
    machine = plant.story.compressor_id
    page.goto(f"{plant.url}/ui/ab-tests?machine_id={machine}&model_type=forecast_arima")
    assert page.locator("#start-a").input_value() == "1"  # the champion
    assert page.locator("#start-b").input_value() == "2"  # the challenger
    page.locator("#start-days").fill("10")
    page.locator("#start-name").fill("browser test arima")
    page.locator("#start-submit").click()
    running = page.locator("#running article.test")
    running.first.wait_for()
    assert running.count() == 1
    card = running.first
    assert "browser test arima" in card.inner_text()
    assert "running" in card.locator("header").inner_text()
    card.locator("table.arms tbody tr").first.wait_for()
    assert card.locator("table.arms tbody tr").count() == 2
    shoot(page, "abtests-running")

    listed = plant.api("GET", "/api/v1/model-performance/ab-tests", status="running").json()
    assert [(t["test_name"], t["duration_days"]) for t in listed] == [("browser test arima", 10.0)]

    card.locator("button.stop").click()
    page.locator("#confirm-note").fill("browser test: done looking")
    page.locator("#confirm-ok").click()
    page.locator("#running .empty").wait_for()
    stopped = page.locator(f"#test-{listed[0]['id']}")
    assert "stopped" in stopped.locator("header").inner_text()
    assert "browser test: done looking" in stopped.inner_text()
    after = plant.api("GET", "/api/v1/model-performance/ab-tests", status="running").json()
    assert after == []


def test_unknown_machine_filter_is_a_404_page(plant: Plant, page: Any, page_log: Any) -> None:
    page_log.allow("404")
    response = page.goto(plant.url + "/ui/ab-tests?machine_id=99")
    assert response.status == 404
    assert "Machine 99 does not exist." in page.locator("main").inner_text()
