"""The Model performance page and its JSON: 404s, bad input, empty states, downsampling."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from tests.evaluation.perf_setup import two_versions
from tests.web.perf_rows import hourly_rows, record

from enms.core.clock import FrozenClock
from enms.core.db import SessionFactory

PAGE = "/ui/model-performance"
TREND = "/ui/api/performance/trend"
PANEL = "/ui/api/performance/panel"


def test_without_machines_the_page_says_what_to_do(client: TestClient) -> None:
    page = client.get(PAGE)
    assert page.status_code == 200
    assert "No machines yet" in page.text
    assert "enms machines add" in page.text


def test_unknown_machine_is_an_html_404_and_bad_input_a_4xx_naming_it(client: TestClient) -> None:
    page = client.get(PAGE, params={"machine_id": 99})
    assert page.status_code == 404
    assert "Machine 99 does not exist." in page.text
    assert page.headers["content-type"].startswith("text/html")
    bad_type = client.get(PAGE, params={"model_type": "lstm"})
    assert 400 <= bad_type.status_code < 500
    assert "lstm" in bad_type.text
    bad_days = client.get(PAGE, params={"days": -3})
    assert 400 <= bad_days.status_code < 500
    assert "days" in bad_days.text
    for url in (TREND, PANEL):
        missing = client.get(url, params={"machine_id": 99, "model_type": "baseline"})
        assert missing.status_code == 404
        assert "99" in missing.json()["error"]["message"]
    client.post("/api/v1/machines", json={"name": "Boiler 2", "machine_type": "boiler"})
    windows = client.get(TREND, params={"machine_id": 1, "model_type": "baseline", "windows": "x"})
    assert 400 <= windows.status_code < 500
    assert "windows" in windows.text


def test_a_machine_without_models_gets_empty_series_and_a_message(client: TestClient) -> None:
    machine = client.post("/api/v1/machines", json={"name": "Boiler 2", "machine_type": "boiler"})
    machine_id = machine.json()["id"]
    page = client.get(PAGE)
    assert page.status_code == 200
    assert 'id="trigger"' in page.text  # the first machine is selected: it can be trained
    trend = client.get(TREND, params={"machine_id": machine_id, "model_type": "baseline"}).json()
    assert all(s["t"] == [] for s in trend["series"])
    assert "no metrics rows" in trend["message"]
    panel = client.get(PANEL, params={"machine_id": machine_id, "model_type": "anomaly"}).json()
    assert panel["champion"] is None
    assert panel["evaluation"] is None
    assert panel["jobs"] == []
    assert panel["alerts"] == []


def test_a_quarter_of_hourly_metrics_is_downsampled_and_compact(
    client: TestClient, session_factory: SessionFactory, clock: FrozenClock
) -> None:
    pair = two_versions(session_factory, clock)
    now = clock.now()
    rows = hourly_rows(
        pair.machine_id,
        now - timedelta(hours=1),
        24 * 90,
        promoted_at=pair.promoted_at,
        drift_every=50,
    )
    record(client, rows)
    params = {"machine_id": pair.machine_id, "model_type": "baseline", "days": 90}
    got = client.get(TREND, params=params)
    assert got.status_code == 200
    trend = got.json()
    assert next(s["metric"] for s in trend["series"]) == "cv_rmse"  # the key metric first
    cv = trend["series"][0]
    assert trend["downsampled"] is True
    assert 0 < len(cv["t"]) <= trend["max_points"] == 1000
    assert sum(cv["n"]) == cv["n_rows"] == len(rows)  # every row in exactly one bucket
    assert len(cv["t"]) == len(cv["v"]) == len(cv["lo"]) == len(cv["hi"]) == len(cv["ver"])
    assert all(lo <= v <= hi for lo, v, hi in zip(cv["lo"], cv["v"], cv["hi"], strict=True))
    assert set(cv["ver"]) == {1, 2}  # v1 before the promotion, v2 after it
    assert [(c["from"], c["to"]) for c in trend["version_changes"]] == [(None, 1), (1, 2)]
    assert len(trend["drift"]["t"]) == len(rows) // 50
    assert trend["drift_summaries"] == ["residual mean up 1.5 sigma"]  # stated once
    public = client.get("/api/v1/model-performance/metrics/trend", params=params)
    assert len(got.content) < len(public.content) / 2  # the compact shape of the same data
    assert trend["series"][0]["t"][0] >= trend["window_start"]

    panel = client.get(PANEL, params={"machine_id": pair.machine_id, "model_type": "baseline"})
    body = panel.json()
    assert body["champion"]["version"] == 2
    assert body["evaluation"]["source"] == "recorded"
    assert body["evaluation"]["end"].startswith((now - timedelta(hours=1)).isoformat()[:16])
    assert {m["metric"] for m in body["evaluation"]["metrics"]} >= {"cv_rmse", "rmse"}

    page = client.get(PAGE, params={"machine_id": pair.machine_id, "days": 90})
    assert page.status_code == 200
    assert "/static/plotly.min.js" in page.text
    assert '"days": 90.0' in page.text or '"days":90.0' in page.text
