"""The Versions page in a real Chromium on the story: versions side by side with their
reports, and a promotion then a rollback from the UI (confirmation dialog, the new champion
shown without a reload, both moves in the API's alias history)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from tests.browser.conftest import Plant

pytestmark = pytest.mark.browser


def test_baseline_versions_show_coefficients_and_verdicts(
    plant: Plant, page: Any, shoot: Callable[[Any, str], Path]
) -> None:
    page.goto(f"{plant.url}/ui/machines/{plant.story.compressor_id}/models/baseline")
    columns = page.locator("article.version")
    assert columns.count() == 2
    champion = page.locator("article.version.is-champion")
    assert champion.get_attribute("id") == "v2"
    assert "champion" in champion.locator("header").inner_text()
    assert champion.locator("table.coefficients tbody tr").count() >= 2
    assert "ASHRAE Guideline 14" in champion.inner_text()
    assert "Data sufficiency" in champion.inner_text()
    assert page.locator("#metrics-table tbody tr").count() >= 5
    assert page.locator("#history-table tr[data-action='promote']").count() == 1
    shoot(page, "versions-baseline")


def test_forecaster_versions_show_the_chosen_candidate(
    plant: Plant, page: Any, shoot: Callable[[Any, str], Path]
) -> None:
    page.goto(f"{plant.url}/ui/machines/{plant.story.compressor_id}/models/forecast_arima")
    v1 = page.locator("#v1")
    assert v1.locator("table.candidates tbody tr").count() >= 2
    assert v1.locator("tr.chosen").count() == 1
    assert v1.locator(".winner").inner_text() in v1.locator("tr.chosen").inner_text()
    shoot(page, "versions-forecast")


def test_promote_then_roll_back_from_the_page(
    plant: Plant, page: Any, shoot: Callable[[Any, str], Path]
) -> None:
    machine = plant.story.compressor_id
    path = f"/api/v1/machines/{machine}/models/forecast_arima"
    page.goto(f"{plant.url}/ui/machines/{machine}/models/forecast_arima")
    assert page.locator("#champion-version").inner_text() == "v1"
    assert page.locator("#rollback").is_hidden()  # v1 is the first champion

    page.locator("#v2 button.promote").click()
    dialog = page.locator("#confirm-dialog")
    assert "Promote v2" in dialog.locator("#confirm-title").inner_text()
    dialog.locator("#confirm-note").fill("browser test: v2 by hand")
    dialog.locator("#confirm-ok").click()
    page.locator("#champion-version", has_text="v2").wait_for()
    assert page.locator("article.version.is-champion").get_attribute("id") == "v2"
    shoot(page, "versions-promoted")

    assert page.locator("#rollback").inner_text() == "Roll back to v1"
    page.locator("#rollback").click()
    assert "Roll back" in dialog.locator("#confirm-title").inner_text()
    dialog.locator("#confirm-ok").click()
    page.locator("#champion-version", has_text="v1").wait_for()
    assert page.locator("article.version.is-champion").get_attribute("id") == "v1"

    history = plant.api("GET", path + "/aliases/history").json()
    moves = [(e["action"], e["alias"], e["from_version"], e["to_version"]) for e in history]
    assert ("promote", "champion", 1, 2) in moves
    assert ("rollback", "champion", 2, 1) in moves
    promote = next(e for e in history if e["action"] == "promote")
    assert promote["reason"] == "browser test: v2 by hand"
    assert promote["actor"] == "dashboard"


def test_a_promotion_the_gate_refuses_is_explained_and_can_be_overridden(
    plant: Plant, page: Any, page_log: Any
) -> None:
    page_log.allow("422")
    machine = plant.story.compressor_id
    page.goto(f"{plant.url}/ui/machines/{machine}/models/baseline")
    page.locator("#v1 button.promote").click()
    dialog = page.locator("#confirm-dialog")
    dialog.locator("#confirm-ok").click()
    page.locator(".toast-error", has_text="sufficiency").first.wait_for()
    page.locator("#confirm-title", has_text="Override the promotion gate").wait_for()
    assert dialog.locator("#confirm-note").get_attribute("required") is not None
    dialog.locator("#confirm-note").fill("browser test: accept the short window")
    dialog.locator("#confirm-ok").click()
    page.locator("#champion-version", has_text="v1").wait_for()
    history = plant.api("GET", f"/api/v1/machines/{machine}/models/baseline/aliases/history")
    last = [e for e in history.json() if e["action"] == "promote"][-1]
    assert last["to_version"] == 1
    assert last["details"]["override"] is True


def test_unknown_machine_and_model_type_are_404_pages(
    plant: Plant, page: Any, page_log: Any
) -> None:
    page_log.allow("404")
    response = page.goto(f"{plant.url}/ui/machines/99/models/baseline")
    assert response.status == 404
    assert "Machine 99 does not exist." in page.locator("main").inner_text()
