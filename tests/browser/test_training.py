"""The Training history page in a real Chromium on the story: it lists every job, filters
without a reload, follows pending jobs live and cancels one from the UI."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect
from tests.browser.conftest import Plant

from enms.core.config import Settings
from enms.core.db import create_db_engine, create_session_factory, session_scope
from enms.core.secrets import instance_secret_for
from enms.core.timewindow import Window
from enms.training import service

pytestmark = pytest.mark.browser


def recorded_pending_job(plant: Plant, model_type: str = "baseline") -> int:
    """A job recorded while the queue is unreachable: it stays pending (nothing enqueues it,
    and under the frozen clock the watchdog never finds it old enough to re-enqueue)."""
    settings = Settings(
        database_url=f"sqlite:///{plant.story.database}", data_dir=plant.story.data_dir
    )
    engine = create_db_engine(settings.database_url)
    try:
        factory = create_session_factory(engine, secret=instance_secret_for(settings))
        with session_scope(factory, write=True) as session:
            result = service.trigger(
                session=session,
                machine_id=plant.story.chiller_id,
                model_type=model_type,
                trigger_type="manual",
                reason="browser test: queue unreachable",
                requested_by="test",
                window=Window(None, None),
                hyperparameters={},
                clock=plant.clock,
                enqueue=lambda _job_id: None,
                queue_ready=lambda: False,
            )
    finally:
        engine.dispose()
    assert result.triggered
    assert result.training_job_id is not None
    return result.training_job_id


def mark_document(page: Any) -> None:
    """Tag the loaded document: a reload or navigation would lose the tag."""
    page.evaluate("window.__sameDocument = true")


def still_same_document(page: Any) -> bool:
    return bool(page.evaluate("window.__sameDocument === true"))


def test_the_history_lists_every_job_with_links(
    plant: Plant, page: Any, shoot: Callable[[Any, str], Path]
) -> None:
    jobs = plant.api("GET", "/api/v1/training-jobs").json()
    page.goto(plant.url + "/ui/training")
    rows = page.locator("#jobs tbody tr")
    expect(rows).to_have_count(len(jobs))
    newest = jobs[0]
    row = page.locator(f"#job-{newest['id']}")
    expect(row.locator(".status")).to_have_text(newest["training_status"])
    if newest["model_version"] is not None:
        models = f"/ui/machines/{newest['machine_id']}/models/{newest['model_type']}"
        href = f"{models}#v{newest['model_version']}"
        expect(row.locator(f'a[href="{href}"]')).to_have_count(1)
    expect(row.locator(f'a[href="/ui/machines/{newest["machine_id"]}"]')).to_have_count(1)
    assert page.title() == "Training history · enms"
    expect(page.locator("#live-state")).to_be_hidden()
    shoot(page, "training")


def test_filters_apply_without_a_reload(plant: Plant, page: Any) -> None:
    arima = plant.api("GET", "/api/v1/training-jobs", model_type="forecast_arima").json()
    assert arima, "the story trained forecast_arima"
    page.goto(plant.url + "/ui/training")
    mark_document(page)
    page.select_option("#f-model-type", "forecast_arima")
    page.get_by_role("button", name="Apply").click()
    expect(page.locator("#jobs tbody tr")).to_have_count(len(arima))
    for model in page.locator("#jobs tbody tr td:nth-child(3)").all_inner_texts():
        assert model == "forecast_arima"
    assert "model_type=forecast_arima" in page.url
    page.fill("#f-from", "2030-01-01")
    page.get_by_role("button", name="Apply").click()
    expect(page.locator("#jobs-empty")).to_be_visible()
    assert still_same_document(page)


def test_cancel_a_pending_job_from_the_ui(
    plant: Plant, page: Any, shoot: Callable[[Any, str], Path]
) -> None:
    job_id = recorded_pending_job(plant)
    page.goto(plant.url + "/ui/training")
    mark_document(page)
    row = page.locator(f"#job-{job_id}")
    expect(row.locator(".status")).to_have_text("pending")
    expect(page.locator("#live-state")).to_be_visible()
    shoot(page, "training-pending")
    row.get_by_role("button", name="Cancel").click()
    dialog = page.locator("#confirm-dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Cancel job").click()
    expect(row.locator(".status")).to_have_text("cancelled")
    expect(row.get_by_role("button", name="Cancel")).to_have_count(0)
    expect(row.locator("td.result")).to_contain_text("cancelled before it started")
    expect(page.locator("#live-state")).to_be_hidden()
    assert plant.api("GET", f"/api/v1/training-jobs/{job_id}").json()["training_status"] == (
        "cancelled"
    )
    assert still_same_document(page)


def test_a_shown_pending_job_follows_changes_made_elsewhere(plant: Plant, page: Any) -> None:
    job_id = recorded_pending_job(plant, model_type="anomaly")
    page.goto(plant.url + f"/ui/training?machine_id={plant.story.chiller_id}")
    mark_document(page)
    row = page.locator(f"#job-{job_id}")
    expect(row.locator(".status")).to_have_text("pending")
    cancelled = plant.api("POST", f"/api/v1/training-jobs/{job_id}/cancel")
    assert cancelled.status_code == 200, cancelled.text
    expect(row.locator(".status")).to_have_text("cancelled", timeout=10_000)
    assert still_same_document(page)


def test_an_unknown_machine_is_a_404_page(plant: Plant, page: Any, page_log: Any) -> None:
    page_log.allow("404")
    reply = page.goto(plant.url + "/ui/training?machine_id=999")
    assert reply is not None
    assert reply.status == 404
    expect(page.locator("main")).to_contain_text("Machine 999 does not exist.")


def test_a_shown_job_is_followed_live_until_it_completes(plant: Plant, page: Any) -> None:
    job_id = recorded_pending_job(plant, model_type="anomaly")
    page.goto(plant.url + "/ui/training")
    mark_document(page)
    row = page.locator(f"#job-{job_id}")
    expect(row.locator(".status")).to_have_text("pending")
    # The queue "comes back": past the lost-enqueue delay the server's watchdog enqueues the
    # job, and the in-process worker trains it for real.
    plant.clock.advance(timedelta(minutes=5))
    expect(row.locator(".status")).to_have_text("completed", timeout=120_000)
    job = plant.api("GET", f"/api/v1/training-jobs/{job_id}").json()
    assert job["training_status"] == "completed"
    href = f"/ui/machines/{plant.story.chiller_id}/models/anomaly#v{job['model_version']}"
    expect(row.locator(f'a[href="{href}"]')).to_have_count(1)
    expect(row.locator("td.progress")).to_contain_text("100 %")
    expect(page.locator("#live-state")).to_be_hidden()
    assert still_same_document(page)


def test_a_failed_job_shows_its_error(
    plant: Plant, page: Any, shoot: Callable[[Any, str], Path]
) -> None:
    job_id = recorded_pending_job(plant, model_type="baseline")
    # Meanwhile most of the chiller's readings are deleted: the fit has too little to learn.
    gone = plant.api(
        "DELETE", f"/api/v1/machines/{plant.story.chiller_id}/readings", **{"from": "2025-01-02"}
    )
    assert gone.status_code == 200, gone.text
    page.goto(plant.url + f"/ui/training?machine_id={plant.story.chiller_id}")
    row = page.locator(f"#job-{job_id}")
    expect(row.locator(".status")).to_have_text("pending")
    plant.clock.advance(timedelta(minutes=5))  # the watchdog enqueues it; the worker runs it
    expect(row.locator(".status")).to_have_text("failed", timeout=120_000)
    error = plant.api("GET", f"/api/v1/training-jobs/{job_id}").json()["error_message"]
    assert error
    expect(row.locator("td.result .error")).to_contain_text(error[:40])
    expect(row.get_by_role("button", name="Cancel")).to_have_count(0)
    page.select_option("#f-status", "failed")
    page.get_by_role("button", name="Apply").click()
    expect(page.locator("#jobs tbody tr")).to_have_count(1)
    shoot(page, "training-failed")


def test_a_link_to_a_job_highlights_its_row(plant: Plant, page: Any) -> None:
    jobs = plant.api("GET", "/api/v1/training-jobs").json()
    oldest = jobs[-1]["id"]
    page.goto(plant.url + f"/ui/training#job-{oldest}")
    expect(page.locator(f"#job-{oldest}")).to_have_class(re.compile(r"\bhighlight\b"))
    expect(page.locator("#jobs tr.highlight")).to_have_count(1)
