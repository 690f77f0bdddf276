"""The Alerts page and its JSON on the real app and database: active vs past lists and their
filters, one alert's readable details and history, 404s and 4xx naming a bad filter; and the
details renderer on the shapes the drift and degradation checks write."""

from __future__ import annotations

import json
import re
from typing import Any

from fastapi.testclient import TestClient
from tests.factories import make_machine

from enms.alerts import conditions
from enms.alerts.notify import deliveries
from enms.core.clock import FrozenClock
from enms.core.db import SessionFactory, session_scope
from enms.web.alerts_details import render_details

DRIFT_DETAILS: dict[str, Any] = {
    "check_id": 5321,
    "drift_score": 0.5384615384615384,
    "change_point": "2025-06-11T00:00:00+00:00",
    "window": {"start": "2025-03-03T00:00:00+00:00", "end": "2025-06-27T00:00:00+00:00"},
    "verdict": {"drift_detected": True, "drifted": ["concept_drift"], "reason": None},
    "concept_drift": {"drift_detected": True, "score": 0.538, "change_point": "2025-06-11"},
    "data_drift": {"drift_detected": False, "score": 0.000118},
}
CHECK: dict[str, Any] = {
    "reference": {"start": "2024-12-31T23:00:00+00:00", "end": "2025-03-03T00:00:00+00:00"},
    "concept_drift": {
        "tests": [
            {
                "name": "residual_mean_shift",
                "statistic": 7.0,
                "threshold": 6.0,
                "verdict": True,
                "direction": "increase",
                "change_point": "2025-06-11T00:00:00+00:00",
                "detected_at": "2025-06-13T22:00:00+00:00",
                "n": 65,
            }
        ]
    },
    "data_drift": {
        "columns": [
            {
                "column": "outdoor_temp_c",
                "drift_detected": True,
                "tests": [
                    {
                        "method": "ks",
                        "statistic": 0.6403,
                        "threshold": 0.01,
                        "p_value": 0.000301,
                        "drift_detected": True,
                    }
                ],
                "range": {"share_outside": 0.5057},
            }
        ]
    },
}


def _page_data(html: str) -> dict[str, Any]:
    found = re.search(r'<script type="application/json" id="page-data">(.*?)</script>', html, re.S)
    assert found is not None, "the page carries its data"
    data: dict[str, Any] = json.loads(found.group(1))
    return data


def _alerts(session_factory: SessionFactory, clock: FrozenClock) -> dict[str, int]:
    """A critical degradation, a warning drift and a resolved training failure."""
    with session_scope(session_factory, write=True) as session:
        machine_id = make_machine(session, clock).id
        ids = {}
        for alert_type, severity, details in (
            ("degradation", "critical", {"change_point": "2025-06-01T00:00:00+00:00"}),
            ("drift", "warning", DRIFT_DETAILS),
            ("training_failed", "warning", {"job_id": 7, "error": "fit diverged"}),
        ):
            raised = conditions.raise_condition(
                session,
                machine_id=machine_id,
                model_type="baseline",
                alert_type=alert_type,
                severity=severity,
                message=f"{alert_type} on Compressor 1",
                details=details,
                now=clock.now(),
            )
            ids[alert_type] = raised.alert_id
    ids["machine"] = machine_id
    return ids


def _log_delivery(
    session_factory: SessionFactory, clock: FrozenClock, alert_ids: list[int], status: str
) -> None:
    result = deliveries.Result(
        channel="webhook",
        target="https://hooks.example.com/***",
        group_key="Compressor 1",
        alert_ids=alert_ids,
        severity="warning",
        status=status,
        attempts=3 if status == "failed" else 1,
        response_code=503 if status == "failed" else 200,
        last_error="HTTP 503 after 3 attempts" if status == "failed" else None,
        payload={"text": "alerts"},
        sent_at=None if status == "failed" else clock.now(),
    )
    with session_scope(session_factory, write=True) as session:
        deliveries.record(session, results=[result], notified=[], now=clock.now())


def test_an_empty_page_renders_with_its_data(client: TestClient) -> None:
    page = client.get("/ui/alerts")
    assert page.status_code == 200
    assert 'src="/static/page-alerts.js"' in page.text
    data = _page_data(page.text)
    assert data["active"] == []
    assert data["past"] == []
    assert data["silences"] == []
    assert data["filters"]["days"] == 90
    assert client.get("/static/page-alerts.js").status_code == 200
    assert client.get("/static/page-alerts.css").status_code == 200


def test_active_and_past_alerts_with_filters(
    client: TestClient, session_factory: SessionFactory, clock: FrozenClock
) -> None:
    ids = _alerts(session_factory, clock)
    resolved = client.post(
        f"/api/v1/alerts/{ids['training_failed']}/resolve",
        json={"by": "tester", "note": "refit with more data"},
    )
    assert resolved.status_code == 200, resolved.text
    data = _page_data(client.get("/ui/alerts").text)
    assert [a["id"] for a in data["active"]] == [ids["degradation"], ids["drift"]]
    assert [a["id"] for a in data["past"]] == [ids["training_failed"]]
    assert data["past"][0]["resolution_note"] == "refit with more data"

    def listed(**params: Any) -> tuple[list[int], list[int]]:
        reply = client.get("/ui/api/alerts", params=params)
        assert reply.status_code == 200, reply.text
        body = reply.json()
        return [a["id"] for a in body["active"]], [a["id"] for a in body["past"]]

    assert listed(severity="critical") == ([ids["degradation"]], [])
    assert listed(state="resolved") == ([], [ids["training_failed"]])
    assert listed(state="open") == ([ids["degradation"], ids["drift"]], [])
    assert listed(machine_id=ids["machine"], model_type="anomaly") == ([], [])


def test_one_alert_carries_readable_details_and_history(
    client: TestClient, session_factory: SessionFactory, clock: FrozenClock
) -> None:
    ids = _alerts(session_factory, clock)
    client.post(f"/api/v1/alerts/{ids['drift']}/acknowledge", json={"by": "ana", "note": "on it"})
    _log_delivery(session_factory, clock, [ids["drift"], ids["degradation"]], "failed")
    _log_delivery(session_factory, clock, [ids["training_failed"]], "sent")
    reply = client.get(f"/ui/api/alerts/{ids['drift']}")
    assert reply.status_code == 200
    body = reply.json()
    assert body["alert"]["state"] == "acknowledged"
    assert [e["rule"] for e in body["alert"]["history"]] == ["alert_opened", "acknowledged"]
    facts = dict((label, cell["text"]) for label, cell in body["view"]["facts"])
    assert facts["Change point"] == "2025-06-11 00:00 UTC"
    assert facts["Drift score"] == "0.5385"
    # The check the alert names is not stored here: the headline table still renders.
    assert [t["title"] for t in body["view"]["tables"]] == ["Drift parts"]
    assert [(d["status"], d["last_error"]) for d in body["deliveries"]] == [
        ("failed", "HTTP 503 after 3 attempts")
    ]
    assert "payload" not in body["deliveries"][0]
    failed = client.get(f"/ui/api/alerts/{ids['training_failed']}").json()
    assert ["Training job", {"text": "job 7", "href": "/ui/training#job-7"}] in failed["view"][
        "facts"
    ]
    assert client.get("/ui/api/alerts/999").status_code == 404


def test_unknown_machine_and_bad_filters(client: TestClient) -> None:
    page = client.get("/ui/alerts", params={"machine_id": 99})
    assert page.status_code == 404
    assert "Machine 99 does not exist." in page.text
    for params, word in (
        ({"state": "snoozed"}, "state"),
        ({"severity": "meh"}, "severity"),
        ({"model_type": "neural"}, "model_type"),
        ({"days": 0}, "days"),
    ):
        reply = client.get("/ui/api/alerts", params=params)
        assert 400 <= reply.status_code < 500, (params, reply.status_code)
        assert word in reply.text, (params, reply.text)


def test_drift_details_render_every_test_of_the_check() -> None:
    view = render_details("drift", DRIFT_DETAILS, CHECK)
    titles = [t["title"] for t in view["tables"]]
    assert titles == [
        "Drift parts",
        "Concept drift: residual detectors",
        "Data drift: two-sample tests per driver",
    ]
    concept = view["tables"][1]["rows"][0]
    assert [c["text"] for c in concept[:4]] == ["residual_mean_shift", "7", "6", "drift"]
    driver = view["tables"][2]
    assert driver["columns"][:5] == ["Driver", "Test", "Statistic", "Threshold", "p-value"]
    row = [c["text"] for c in driver["rows"][0]]
    assert row == ["outdoor_temp_c", "ks", "0.6403", "0.01", "0.000301", "drift", "50.6 %"]
    assert driver["rows"][0][5]["badge"] == "fail"


def test_degradation_details_list_each_metric_against_its_threshold() -> None:
    details = {
        "change_point": "2025-05-23T22:00:00+00:00",
        "ratio_to_margin": 26.12,
        "degradation": {
            "energy": {"applicable": True, "degraded": True, "nmbe": 26.5, "nmbe_abs_max": 10.0,
                       "actual_kwh": 9759.2, "expected_kwh": 7171.6, "since": "2025-06-29",
                       "since_kwh": 2587.6, "since_pct": 36.08, "statement": "uses 36.1 % more"},
            "performance": {"points": "all", "n": 3000, "metrics": [
                {"metric": "cv_rmse", "current": 39.53, "held_out": 5.25, "threshold": 6.562,
                 "rule": "more than 25 % above the held-out value", "degraded": True},
                {"metric": "skill", "current": 0.3, "held_out": 0.23, "threshold": -0.02,
                 "rule": "more than 0.25 below", "degraded": False},
            ]},
        },
    }  # fmt: skip
    view = render_details("degradation", details)
    facts = dict((label, cell["text"]) for label, cell in view["facts"])
    assert facts["NMBE"] == "26.5 % (bound ±10 %)"
    assert facts["Actual / expected"] == "9,759 kWh / 7,172 kWh"
    rows = view["tables"][0]["rows"]
    assert [[c["text"] for c in r] for r in rows] == [
        [
            "cv_rmse",
            "39.53",
            "5.25",
            "6.562",
            "more than 25 % above the held-out value",
            "degraded",
        ],
        ["skill", "0.3", "0.23", "-0.02", "more than 0.25 below", "ok"],
    ]


def test_the_silences_script_ships_and_is_loaded_after_the_page_script(client: TestClient) -> None:
    page = client.get("/ui/alerts").text
    assert page.index("/static/page-alerts.js") < page.index("/static/page-alert-silences.js")
    assert client.get("/static/page-alert-silences.js").status_code == 200
