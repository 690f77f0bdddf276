"""The compressor's leak, followed from the overview in three clicks, as a new user would.

1. Overview → the compressor's baseline metric: the Model performance page, where the leak
   shows as the metrics jumping in June, drift markers, the automatic retrain (job with
   trigger ``drift``: concept drift opens the first alert, two days after the leak) and the
   version change to v2;
2. that job's result ``v2`` → the Versions page: v2 is champion, promoted by enms-auto after
   winning an A/B test, watched, and v1 kept as ``previous``;
3. "A/B test N" in the promotion's reason → that test on the A/B tests page: B won, with its
   confidence interval and the promotion it led to.
Each step is screenshotted (``story-1-…`` to ``story-4-…``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from tests.browser.conftest import Plant

pytestmark = pytest.mark.browser


def test_the_leak_story_is_three_clicks_from_the_overview(
    plant: Plant, page: Any, shoot: Callable[[Any, str], Path]
) -> None:
    compressor = plant.story.compressor_id
    page.goto(plant.url + "/")
    cell = page.locator(f'tr[data-machine-id="{compressor}"] td[data-model-type="baseline"]')
    cell.locator(".sparkline .main-svg").first.wait_for()
    shoot(page, "story-1-overview")

    # click 1: the champion's key metric → its performance over time
    cell.locator("a.value").click()
    page.wait_for_url(re.compile(rf"/ui/model-performance\?.*machine_id={compressor}"))
    page.locator("#chart-main .main-svg").first.wait_for()
    page.wait_for_function(
        "() => (document.getElementById('chart-main').data || [])"
        ".some(t => t.name === 'drift found' && t.x.length > 0)"
    )
    retrain = page.locator("#jobs-table tr").filter(has=page.get_by_role("link", name="v2"))
    retrain.wait_for()
    assert "completed" in retrain.inner_text()
    assert "drift" in retrain.inner_text()
    shoot(page, "story-2-performance")

    # click 2: the retrain's result → the versions, v2 champion after an A/B test
    retrain.get_by_role("link", name="v2").click()
    page.wait_for_url(re.compile(rf"/ui/machines/{compressor}/models/baseline"))
    promote = page.locator('#history-table tr[data-action="promote"]')
    promote.wait_for()
    assert "enms-auto" in promote.inner_text()
    assert "won A/B test" in promote.inner_text()
    shoot(page, "story-3-versions")

    # click 3: the A/B test named in the promotion → its verdict and what it led to
    promote.locator('a[href^="/ui/ab-tests#test-"]').click()
    page.wait_for_url(re.compile(r"/ui/ab-tests#test-\d+"))
    test_id = page.url.rsplit("#test-", 1)[1]
    card = page.locator(f"#test-{test_id}")
    card.wait_for()
    assert "winner B" in card.inner_text()
    assert "promoted v2" in card.inner_text()
    card.locator(".main-svg").first.wait_for()  # the confidence interval of B − A
    shoot(page, "story-4-ab-test")
