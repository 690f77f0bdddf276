"""The Machines list and the machine page in a real Chromium on the story's plant: every
chart drawn with data, the range selector, the links to the model pages, the 404 page."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from tests.browser.conftest import PageLog, Plant

pytestmark = pytest.mark.browser

CHARTS = ("chart-energy", "chart-forecast", "chart-cusum", "chart-heatmap", "chart-kpis")
POINTS_JS = """id => {
  const el = document.getElementById(id);
  return (el.data || []).map(t => {
    const values = t.type === "heatmap" ? t.z.flat() : (t.y || []);
    return values.filter(v => v !== null && v !== undefined).length;
  });
}"""


def _open(page: Any, url: str) -> None:
    page.goto(url)
    page.wait_for_selector("body[data-loaded=true]")


def test_machine_page_draws_every_chart_with_data(
    plant: Plant, page: Any, shoot: Callable[[Any, str], Path]
) -> None:
    machine = plant.story.compressor_id
    _open(page, f"{plant.url}/ui/machines/{machine}")
    assert page.locator("#machine-name").inner_text() == "Compressor C1"
    for chart in CHARTS:
        counts = page.evaluate(POINTS_JS, chart)
        assert counts, f"{chart} has no traces"
        assert max(counts) > 0, f"{chart} has traces without points: {counts}"
    names = page.evaluate("() => document.getElementById('chart-energy').data.map(t => t.name)")
    assert names == ["actual", "baseline expected", "anomaly"]
    assert page.locator("#anomaly-table tbody tr").count() > 0
    assert page.locator("#kpi-table tbody tr").count() > 1
    assert page.locator("#range button[data-days='30']").get_attribute("aria-pressed") == "true"
    assert "2025-07-06" in page.locator("#range-to").input_value()
    baseline = page.locator("#models li[data-model-type=baseline]")
    assert baseline.locator("a").nth(0).get_attribute("href") == (
        f"/ui/machines/{machine}/models/baseline"
    )
    assert baseline.locator("a").nth(1).get_attribute("href") == (
        f"/ui/model-performance?machine_id={machine}&model_type=baseline"
    )
    shoot(page, "machine-compressor-30d")


def test_range_selector_refetches_without_reloading(
    plant: Plant, page: Any, shoot: Callable[[Any, str], Path]
) -> None:
    _open(page, f"{plant.url}/ui/machines/{plant.story.compressor_id}")
    page.evaluate("() => { window.notReloaded = true; }")
    with page.expect_response(lambda r: "/series?days=365" in r.url):
        page.locator("#range button[data-days='365']").click()
    page.wait_for_function(
        "() => document.getElementById('range-info').textContent.includes('12 h')"
    )
    assert page.evaluate("() => window.notReloaded") is True
    assert page.url.endswith("?days=365")
    points = page.evaluate("() => document.getElementById('chart-energy').data[0].x.length")
    assert 0 < points <= 1000
    page.fill("#range-from", "2025-06-01")
    page.fill("#range-to", "2025-06-15")
    with page.expect_response(lambda r: "from=2025-06-01" in r.url):
        page.locator("#range-apply").click()
    page.wait_for_function(
        "() => document.getElementById('range-info').textContent.startsWith('2025-06-01')"
    )
    assert page.locator("#range button[aria-pressed=true]").count() == 0
    shoot(page, "machine-compressor-june")


def test_list_links_each_machine_to_its_page(plant: Plant, page: Any) -> None:
    page.goto(plant.url + "/ui/machines")
    rows = page.locator("#machine-list tbody tr")
    assert rows.count() == 2
    page.get_by_role("link", name="Chiller CH1").click()
    page.wait_for_url(f"**/ui/machines/{plant.story.chiller_id}")
    page.wait_for_selector("body[data-loaded=true]")
    assert page.locator("#machine-name").inner_text() == "Chiller CH1"


def test_short_address_and_unknown_machine(plant: Plant, page: Any, page_log: PageLog) -> None:
    page.goto(f"{plant.url}/machines/{plant.story.compressor_id}")
    assert page.url.endswith(f"/ui/machines/{plant.story.compressor_id}")
    page.wait_for_selector("body[data-loaded=true]")
    page_log.allow("404")  # the page we ask for below: its status and the console's note
    reply = page.goto(plant.url + "/ui/machines/99")
    assert reply.status == 404
    assert "Machine 99 does not exist." in page.locator("#not-found").inner_text()
