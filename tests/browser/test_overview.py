"""The overview in headless Chromium on the story: sparklines drawn with data, cells that
link to their details, and the live refresh (a new job appears without a reload)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from tests.browser.conftest import Plant

pytestmark = pytest.mark.browser


def test_every_champion_has_a_sparkline_drawn_with_data(
    plant: Plant, page: Any, shoot: Callable[[Any, str], Path]
) -> None:
    page.goto(plant.url + "/")
    page.locator(".sparkline .main-svg").first.wait_for()
    points = page.evaluate(
        "[...document.querySelectorAll('.sparkline')].map(e => (e.data || [])[0].y.length)"
    )
    assert len(points) == 4  # C1 baseline, anomaly, ARIMA; CH1 baseline
    assert all(n >= 20 for n in points)  # a month of daily evaluations
    assert page.locator(".sparkline .scatterlayer path").count() >= 4
    c1, ch1 = plant.story.compressor_id, plant.story.chiller_id
    cell = page.locator(f'tr[data-machine-id="{c1}"] td[data-model-type="baseline"]')
    assert cell.locator("a.ver").inner_text() == "v2"  # promoted after the A/B test
    assert cell.locator("a.ver").get_attribute("href") == f"/ui/machines/{c1}/models/baseline#v2"
    ashrae = cell.locator("[data-kind=ashrae]")
    assert ashrae.inner_text() == "ASHRAE 14"  # the word; ✓/✗ come from the badge class
    # judged now: v2's newest weekly evaluation (week to 30 June: CV(RMSE) 4.0 %, NMBE +0.1 %)
    assert "pass" in (ashrae.get_attribute("class") or "")
    assert ashrae.get_attribute("data-when") == "now"
    assert "week to 2025-06-30" in (ashrae.get_attribute("title") or "")
    assert "CV(RMSE)" in cell.inner_text()
    arima = page.locator(f'tr[data-machine-id="{c1}"] td[data-model-type="forecast_arima"]')
    assert arima.locator("[data-kind=alerts-critical]").count() == 1
    prophet = page.locator(f'tr[data-machine-id="{ch1}"] td[data-model-type="forecast_prophet"]')
    assert "not trained" in prophet.inner_text()
    assert int(page.locator("#total-alerts .big").inner_text()) >= 1
    shoot(page, "overview-fleet")

    cell.locator("a.value").click()
    page.wait_for_url(f"**/ui/model-performance?machine_id={c1}&model_type=baseline&days=30")
    page.locator("#chart-main .main-svg").first.wait_for()


def test_the_overview_refreshes_in_place(plant: Plant, page: Any) -> None:
    page.goto(plant.url + "/")
    page.locator("#jobs").wait_for()
    page.evaluate("window.__same_page = 1")
    job = plant.api(
        "POST",
        "/api/v1/model-performance/retrain/trigger",
        json={"machine_id": plant.story.chiller_id, "model_type": "baseline"},
    ).json()["training_job_id"]
    page.locator(f'#jobs tr[data-job-id="{job}"]').wait_for(timeout=25_000)  # refresh: 10 s
    assert page.evaluate("window.__same_page") == 1
