"""The overview's data (``/`` and ``/ui/api/overview``): champions, key metric, sparkline."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from tests.evaluation.perf_setup import two_versions
from tests.web.perf_rows import hourly_rows, record

from enms.core.clock import FrozenClock
from enms.core.db import SessionFactory

OVERVIEW = "/ui/api/overview"


def test_an_empty_plant_has_no_rows_and_zero_totals(client: TestClient) -> None:
    data = client.get(OVERVIEW).json()
    assert data["machines"] == []
    assert data["totals"]["machines"] == 0
    assert data["totals"]["alerts"] == {"critical": 0, "warning": 0}
    assert data["jobs"] == []


def test_the_champion_shows_its_held_out_metric_until_monitoring_rows_exist(
    client: TestClient, session_factory: SessionFactory, clock: FrozenClock
) -> None:
    pair = two_versions(session_factory, clock)
    data = client.get(OVERVIEW).json()
    (row,) = data["machines"]
    assert row["id"] == pair.machine_id
    cell = row["cells"]["baseline"]
    assert cell["champion"] == 2
    assert cell["key"]["source"] == "held-out"
    assert cell["key"]["value"] == 5.0  # the registered version's held-out CV(RMSE)
    assert cell["key"]["spark"] is None
    assert row["cells"]["anomaly"]["champion"] is None
    assert cell["alerts"] == {}
    assert cell["jobs"] == 0
    assert cell["tests"] == 0

    now = clock.now()
    rows = hourly_rows(
        pair.machine_id, now - timedelta(hours=1), 24 * 45, promoted_at=pair.promoted_at
    )
    record(client, rows)
    cell = client.get(OVERVIEW).json()["machines"][0]["cells"]["baseline"]
    key = cell["key"]
    assert key["source"] == "monitoring"
    assert key["metric"] == "cv_rmse"
    assert key["label"] == "CV(RMSE)"
    spark = key["spark"]
    assert 20 <= len(spark["t"]) <= 90  # 30 days of hourly rows, downsampled for a sparkline
    assert spark["t"][0] >= (now - timedelta(days=30)).isoformat()[:10]  # server clock, not 45 d
    last_bucket = [r["cv_rmse"] for r in rows if r["evaluation_end"] >= spark["t"][-1]]
    assert abs(key["value"] - sum(last_bucket) / len(last_bucket)) < 1e-9

    page = client.get("/")
    assert page.status_code == 200
    assert 'id="page-data"' in page.text
    assert f'href="/ui/machines/{pair.machine_id}"' in page.text


def test_ashrae_14_is_judged_on_the_newest_weekly_evaluation(
    client: TestClient, session_factory: SessionFactory, clock: FrozenClock
) -> None:
    from enms.core.db import session_scope
    from enms.evaluation.models import PerformanceMetric
    from enms.registry import service as registry

    pair = two_versions(session_factory, clock)
    cell = client.get(OVERVIEW).json()["machines"][0]["cells"]["baseline"]
    assert cell["ashrae14_now"] is None  # no weekly evaluation yet: only the registration's
    now = clock.now()
    with session_scope(session_factory, write=True) as session:
        champion = registry.champion(
            session=session, machine_id=pair.machine_id, model_type="baseline"
        )
        assert champion is not None
        for weeks_ago, cv, nmbe in ((2, 12.0, 1.0), (1, 41.5, 3.0), (5, 8.0, 0.5)):
            end = now - timedelta(days=7 * weeks_ago)
            session.add(
                PerformanceMetric(
                    model_id=champion.id,
                    machine_id=pair.machine_id,
                    model_type="baseline",
                    model_version=champion.version,
                    evaluation_date=end,
                    evaluation_start=end - timedelta(days=7),
                    evaluation_end=end,
                    cv_rmse=cv,
                    nmbe=nmbe,
                    source="periodic_weekly",
                    details={},
                )
            )
    found = client.get(OVERVIEW).json()["machines"][0]["cells"]["baseline"]["ashrae14_now"]
    # the newest week (CV(RMSE) 41.5 % > 30 %) fails although the week before passed
    assert found["passed"] is False
    assert found["cv_rmse"] == 41.5
    assert "CV(RMSE) 41.5 %" in found["detail"]
