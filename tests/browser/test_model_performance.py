"""The Model performance page in headless Chromium on the story: charts with data, the
selectors, the empty selection, and a retrain triggered from the UI watched to completion."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from tests.browser.conftest import Plant

pytestmark = pytest.mark.browser

TRAINING_MS = 120_000  # the in-process worker trains for real (a baseline takes seconds)


def traces(page: Any, element_id: str) -> list[dict[str, Any]]:
    """What plotly drew into ``element_id``: each trace's name, point count and y axis."""
    result: list[dict[str, Any]] = page.evaluate(
        """id => (document.getElementById(id).data || []).map(t => ({
            name: t.name || '', n: (t.y || []).length, yaxis: t.yaxis || 'y'}))""",
        element_id,
    )
    return result


def test_the_charts_draw_the_compressors_leak_story(
    plant: Plant, page: Any, shoot: Callable[[Any, str], Path]
) -> None:
    c1 = plant.story.compressor_id
    page.goto(f"{plant.url}/ui/model-performance?machine_id={c1}&model_type=baseline&days=90")
    page.locator("#chart-main .main-svg").first.wait_for()
    drawn = traces(page, "chart-main")
    main = next(t for t in drawn if t["name"].startswith("CV(RMSE)"))
    assert main["n"] > 30  # ~daily rows over 90 days
    drift = [t for t in drawn if t["name"] == "drift found"]
    assert drift, "the leak's drift findings are drawn"
    assert drift[0]["n"] > 0
    assert drift[0]["yaxis"] == "y2"
    assert page.locator("#chart-main path.scatterpts, #chart-main .scatterlayer path").count() > 0
    shapes = page.evaluate("document.getElementById('chart-main').layout.shapes.length")
    assert shapes >= 1  # the promotion of v2 (and the threshold)
    assert "v2" in page.locator("#chart-main").inner_text()
    others = page.locator("#chart-others .chart.small")
    assert others.count() == 5  # R², RMSE, MAE, MAPE, NMBE
    assert page.locator("#chart-others .main-svg").count() >= 5
    assert page.locator("#evaluation-metrics dt").count() == 6
    assert page.locator("#jobs-table tbody tr").count() >= 2
    assert "metric rows" in page.locator("#trend-meta").inner_text()
    shoot(page, "model-performance-baseline")

    page.evaluate("window.__same_page = 1")
    page.select_option("#sel-type", "forecast_arima")
    page.wait_for_url(re.compile(r"model_type=forecast_arima"))
    page.wait_for_function(
        "() => (document.getElementById('chart-main').data || [])"
        ".some(t => (t.name || '').startsWith('skill'))"
    )
    assert page.evaluate("window.__same_page") == 1  # updated in place, not reloaded
    # the panel shows exactly the type's unresolved critical alerts the API reports
    active = page.request.get(
        plant.url + "/api/v1/model-performance/alerts/active"
        f"?machine_id={plant.story.compressor_id}&model_type=forecast_arima&severity=critical"
    ).json()
    assert page.locator("#alerts li .badge.critical").count() == len(active)
    shoot(page, "model-performance-arima")


def test_an_empty_selection_says_what_to_do_next(
    plant: Plant, page: Any, shoot: Callable[[Any, str], Path]
) -> None:
    ch1 = plant.story.chiller_id
    page.goto(f"{plant.url}/ui/model-performance?machine_id={ch1}&model_type=anomaly")
    notice = page.locator("#no-model")
    notice.wait_for()
    assert "No anomaly detector for Chiller CH1 yet" in notice.inner_text()
    assert page.locator("#trigger").inner_text() == "Train a first model"
    assert page.locator("#trend-panel").is_hidden()  # nothing to draw: the notice says why
    assert page.locator("#jobs").inner_text().startswith("No training jobs")
    shoot(page, "model-performance-empty")


def test_a_retrain_triggered_from_the_ui_runs_to_completion_without_reload(
    plant: Plant, page: Any, shoot: Callable[[Any, str], Path]
) -> None:
    c1 = plant.story.compressor_id
    page.goto(f"{plant.url}/ui/model-performance?machine_id={c1}&model_type=baseline")
    page.locator("#jobs-table").wait_for()
    page.evaluate("window.__same_page = 1")
    page.locator("#trigger").click()
    dialog = page.locator("#confirm-dialog")
    assert dialog.is_visible()
    assert "Train a new baseline for Compressor C1?" in dialog.inner_text()
    page.locator("#confirm-note").fill("UI test")
    page.locator("#confirm-ok").click()
    feedback = page.locator("#trigger-feedback")
    feedback.locator("a").wait_for()
    assert feedback.inner_text().startswith("✓ Queued as job #")
    job_id = int(feedback.inner_text().split("#")[1].split()[0].rstrip("."))
    assert feedback.locator("a").get_attribute("href") == f"/ui/training#job-{job_id}"
    assert f"Training job #{job_id} queued" in page.locator(".toast-ok").first.inner_text()
    row = page.locator(f"#job-{job_id}")
    row.wait_for()
    assert not page.locator("#trigger").is_disabled()  # the spinner only while in flight
    page.wait_for_function(
        "id => (document.querySelector(`#job-${id} .status`) || {}).textContent === 'completed'",
        arg=job_id,
        timeout=TRAINING_MS,
    )
    assert row.locator("td.result").inner_text().startswith("v3")
    assert page.evaluate("window.__same_page") == 1
    job = plant.api("GET", f"/api/v1/training-jobs/{job_id}").json()
    assert job["training_status"] == "completed"
    assert job["model_version"] == 3
    assert job["trigger_reason"] == "UI test"
    shoot(page, "model-performance-retrained")


def test_a_second_trigger_is_refused_naming_the_job_in_progress(plant: Plant, page: Any) -> None:
    c1 = plant.story.compressor_id
    page.goto(f"{plant.url}/ui/model-performance?machine_id={c1}&model_type=forecast_arima")
    page.locator("#jobs-table").wait_for()
    first = plant.api(
        "POST",
        "/api/v1/model-performance/retrain/trigger",
        json={"machine_id": c1, "model_type": "forecast_arima"},
    )
    assert first.status_code == 202
    running = first.json()["training_job_id"]
    page.locator("#trigger").click()
    page.locator("#confirm-ok").click()
    feedback = page.locator("#trigger-feedback")
    feedback.locator("a").wait_for()
    assert feedback.inner_text().startswith("✗ Refused:")
    assert feedback.locator("a").get_attribute("href") == f"/ui/training#job-{running}"
    assert page.locator(".toast-error").count() >= 1
    page.locator(f"#job-{running}").wait_for()  # the job list refreshed with it
