"""The Alerts page in a real Chromium on the story: active and past alerts, drift details
rendered as tables, acknowledge and resolve with a note from the UI (the row updates in
place; the API then shows the state, who and the note), and a silence made from a row."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect
from tests.browser.conftest import Plant

pytestmark = pytest.mark.browser


def mark_document(page: Any) -> None:
    """Tag the loaded document: a reload or navigation would lose the tag."""
    page.evaluate("window.__sameDocument = true")


def still_same_document(page: Any) -> bool:
    return bool(page.evaluate("window.__sameDocument === true"))


def test_the_page_lists_active_and_past_alerts(
    plant: Plant, page: Any, shoot: Callable[[Any, str], Path]
) -> None:
    active = plant.api("GET", "/api/v1/model-performance/alerts/active").json()
    past = plant.api("GET", "/api/v1/alerts", state="resolved").json()
    assert active, "the story has open alerts"
    assert past, "the story has resolved alerts"
    page.goto(plant.url + "/ui/alerts")
    expect(page.locator("#active-alerts tbody tr.alert-row")).to_have_count(len(active))
    expect(page.locator("#past-alerts tbody tr.alert-row")).to_have_count(len(past))
    first = page.locator(f"#alert-{active[0]['id']}")
    expect(first.locator(".badge").first).to_have_text(active[0]["severity"])
    expect(first.locator("td.state")).to_contain_text(active[0]["state"])
    acted = next((a for a in active + past if a["action_job_id"]), None)
    assert acted is not None, "the story's alerts triggered retrains"
    job_link = page.locator(f"#alert-{acted['id']} td.action a")
    expect(job_link).to_have_attribute("href", f"/ui/training#job-{acted['action_job_id']}")
    shoot(page, "alerts")


def test_drift_details_are_tables_not_json(
    plant: Plant, page: Any, shoot: Callable[[Any, str], Path]
) -> None:
    alerts = plant.api("GET", "/api/v1/alerts", alert_type="drift").json()
    drift = next(a for a in alerts if a["details"].get("check_id"))
    page.goto(plant.url + f"/ui/alerts#alert-{drift['id']}")
    detail = page.locator(f"#alert-{drift['id']}-detail")
    expect(detail.locator("h3", has_text="Concept drift: residual detectors")).to_be_visible()
    drivers = detail.locator("table.details-table").filter(has_text="p-value")
    expect(drivers).to_have_count(1)
    expect(drivers.locator("tbody tr").first).to_contain_text("ks")
    expect(detail.locator("dl.kv").nth(1)).to_contain_text("Change point")
    expect(detail.locator("table.history tbody tr").first).to_contain_text("alert opened")
    expect(detail.locator("pre.raw")).to_be_hidden()  # raw JSON only on request
    detail.get_by_text("Raw details (JSON)").click()
    expect(detail.locator("pre.raw")).to_contain_text('"check_id"')
    shoot(page, "alerts-drift-details")


def test_acknowledge_and_resolve_an_alert_from_the_ui(
    plant: Plant, page: Any, shoot: Callable[[Any, str], Path]
) -> None:
    active = plant.api("GET", "/api/v1/model-performance/alerts/active").json()
    alert = next(a for a in active if a["state"] == "open")
    page.goto(plant.url + "/ui/alerts")
    page.fill("#actor", "Ana (shift lead)")
    page.locator("#actor").dispatch_event("change")
    mark_document(page)
    row = page.locator(f"#alert-{alert['id']}")
    dialog = page.locator("#confirm-dialog")

    row.get_by_role("button", name="Acknowledge").click()
    expect(dialog).to_be_visible()
    page.fill("#confirm-note", "checking the compressor's valves")
    dialog.get_by_role("button", name="Acknowledge").click()
    expect(row.locator("td.state")).to_contain_text("acknowledged")
    expect(row.get_by_role("button", name="Acknowledge")).to_have_count(0)
    acked = plant.api("GET", f"/api/v1/alerts/{alert['id']}").json()
    assert acked["state"] == "acknowledged"
    assert acked["acknowledged_by"] == "Ana (shift lead)"
    assert acked["acknowledged_note"] == "checking the compressor's valves"

    row.get_by_role("button", name="Resolve").click()
    expect(dialog).to_be_visible()
    page.fill("#confirm-note", "valve replaced; readings back to normal")
    dialog.get_by_role("button", name="Resolve").click()
    expect(row.locator("td.state")).to_contain_text("resolved")
    expect(row.get_by_role("button", name="Resolve")).to_have_count(0)
    resolved = plant.api("GET", f"/api/v1/alerts/{alert['id']}").json()
    assert resolved["state"] == "resolved"
    assert resolved["resolved_by"] == "Ana (shift lead)"
    assert resolved["resolution_note"] == "valve replaced; readings back to normal"
    assert [e["rule"] for e in resolved["history"]][-2:] == ["acknowledged", "resolved_by_user"]

    row.get_by_role("button", name="Details").click()
    detail = page.locator(f"#alert-{alert['id']}-detail")
    expect(detail).to_contain_text("valve replaced; readings back to normal")
    expect(detail).to_contain_text("by Ana (shift lead)")
    assert still_same_document(page)
    shoot(page, "alerts-resolved")
    page.reload()
    expect(page.locator("#actor")).to_have_value("Ana (shift lead)")


def test_a_silence_made_from_an_alert_row(plant: Plant, page: Any) -> None:
    active = plant.api("GET", "/api/v1/model-performance/alerts/active").json()
    alert = active[0]
    page.goto(plant.url + "/ui/alerts")
    mark_document(page)
    page.locator(f"#alert-{alert['id']}").get_by_role("button", name="Silence…").click()
    expect(page.locator("#s-reason")).to_be_focused()
    expect(page.locator("#s-alert-type")).to_have_value(alert["alert_type"])
    page.fill("#s-reason", "planned maintenance")
    page.get_by_role("button", name="Silence", exact=True).click()
    silence_rows = page.locator("#silences tbody tr")
    expect(silence_rows).to_have_count(1)
    expect(silence_rows.first).to_contain_text("planned maintenance")
    expect(page.locator(f"#alert-{alert['id']} td.state")).to_contain_text("silenced")
    silences = plant.api("GET", "/api/v1/alert-silences").json()
    assert [s["reason"] for s in silences] == ["planned maintenance"]
    assert silences[0]["author"] == "dashboard"
    silence_rows.first.get_by_role("button", name="End now").click()
    expect(page.locator("#silences-empty")).to_be_visible()
    assert plant.api("GET", "/api/v1/alert-silences").json() == []
    assert still_same_document(page)


def test_filters_apply_without_a_reload(plant: Plant, page: Any) -> None:
    resolved = plant.api("GET", "/api/v1/alerts", state="resolved").json()
    page.goto(plant.url + "/ui/alerts")
    mark_document(page)
    page.select_option("#f-state", "resolved")
    page.get_by_role("button", name="Apply").click()
    expect(page.locator("#active-panel")).to_be_hidden()
    expect(page.locator("#past-alerts tbody tr.alert-row")).to_have_count(len(resolved))
    assert "state=resolved" in page.url
    page.select_option("#f-severity", "critical")
    page.get_by_role("button", name="Apply").click()
    critical = [a for a in resolved if a["severity"] == "critical"]
    expect(page.locator("#past-alerts tbody tr.alert-row")).to_have_count(len(critical))
    assert still_same_document(page)


def test_a_link_to_an_alert_outside_the_filters_still_shows_it(plant: Plant, page: Any) -> None:
    resolved = plant.api("GET", "/api/v1/alerts", state="resolved").json()
    oldest = resolved[-1]
    recent = plant.api("GET", "/api/v1/alerts", state="resolved", **{"from": "2025-06-29"}).json()
    assert oldest["id"] not in [a["id"] for a in recent], "the story's oldest alert is older"
    page.goto(plant.url + f"/ui/alerts?days=7#alert-{oldest['id']}")
    detail = page.locator(f"#alert-{oldest['id']}-detail")
    expect(detail.locator("table.history")).to_be_visible()
    expect(page.locator(f"#alert-{oldest['id']}")).to_have_class("alert-row target")
    expect(page.locator("#past-alerts tbody tr.alert-row")).to_have_count(len(recent) + 1)
