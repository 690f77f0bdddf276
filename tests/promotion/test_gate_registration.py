"""The gate at registration and on manual promotion, with real training jobs: a baseline
fitted on 14.4 days (validated on 3.6 more) is registered and champion (there is none) but
flagged, its failed rules listed in the versions API; promoting a flagged version needs a
reason, and is audited."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from enms.cli import cli
from enms.core.clock import FrozenClock
from enms.core.config import Settings
from enms.core.db import SessionFactory, session_scope
from enms.core.errors import InvalidInput
from tests.factories import import_demo_machine, train_version

API = "/api/v1"
SECOND = "2025-01-20T00:00:00Z"


def _two_short_baselines(factory: SessionFactory, clock: FrozenClock) -> int:
    with session_scope(factory, write=True) as s:
        machine_id = import_demo_machine(s, clock, days=45, name="Press 14").id
    # The shortest window enms trains a baseline on: the fit sees 14.4 days, the last 20 % of
    # the 18 days are held out to validate it (then the served model is refitted on all).
    train_version(factory, clock, machine_id, "baseline", start="2025-01-02", until=SECOND)
    train_version(factory, clock, machine_id, "baseline", start=SECOND, until="2025-02-07")
    return machine_id


def test_a_14_day_baseline_is_champion_but_flagged_and_promotion_needs_a_reason(
    client: TestClient, session_factory: SessionFactory, clock: FrozenClock
) -> None:
    machine_id = _two_short_baselines(session_factory, clock)
    base = f"{API}/machines/{machine_id}/models/baseline"
    versions = {v["version"]: v for v in client.get(f"{base}/versions").json()}
    first, second = versions[1], versions[2]
    assert (first["aliases"], second["aliases"]) == (["champion"], ["challenger"])
    for v in (first, second):
        assert v["gate_passed"] is False
        assert "sufficiency" in v["failed_rules"]
        rules = {g["rule"]: g for g in v["gate"]}
        assert list(rules) == [
            "test_concluded",
            "min_samples",
            "better_with_significance",
            "guardrails",
            "ashrae14",
            "sufficiency",
            "forecast_skill",
            "alarm_rate",
        ]
        assert rules["sufficiency"]["detail"].startswith(
            "caltrack_2.0: the window spans 18.0 days; CalTRACK needs 365"
        )
        assert rules["test_concluded"]["passed"] is None  # no A/B test at registration
        assert rules["forecast_skill"]["passed"] is None  # not a forecaster
    history = client.get(f"{base}/aliases/history").json()
    assert history[0]["reason"].startswith(
        "version 1 registered; champion because there was none, although it failed the gate "
        "(sufficiency"
    )

    refused = client.post(f"{base}/promote", json={"version": 2, "actor": "ann"})
    assert refused.status_code == 422
    error = refused.json()["error"]
    assert error["message"].startswith("v2 fails the promotion gate: rule 'sufficiency' failed")
    assert "Give a reason to promote it anyway" in error["message"]
    assert "sufficiency" in error["details"]["failed_rules"]
    never = client.post(
        f"{base}/promote", json={"version": 2, "reason": "urgent", "override": False}
    )
    assert never.status_code == 422
    assert "override is false" in never.json()["error"]["message"]
    empty = client.post(f"{base}/promote", json={"version": 2, "override": True, "reason": " "})
    assert empty.status_code == 422
    assert empty.json()["error"]["message"].startswith("reason: an override")
    assert _champion(client, base) == 1

    done = client.post(
        f"{base}/promote",
        json={"version": 2, "actor": "ann", "reason": "newer data; a year is not available"},
    )
    assert done.status_code == 200, done.text
    body = done.json()
    assert (body["override"], body["aliases"]) == (True, ["champion"])
    assert "sufficiency" in [g["rule"] for g in body["promotion_gate"] if g["passed"] is False]
    promotion = client.get(f"{base}/aliases/history").json()
    event = next(h for h in promotion if h["action"] == "promote")
    assert (event["actor"], event["reason"]) == ("ann", "newer data; a year is not available")
    assert event["details"]["override"] is True
    assert event["details"]["gate_passed"] is False
    assert [g["rule"] for g in event["details"]["gate"]][-4:] == [
        "ashrae14",
        "sufficiency",
        "forecast_skill",
        "alarm_rate",
    ]
    gate = client.get(f"{base}/versions/1/gate").json()
    assert gate["passed"] is False
    assert "sufficiency" in gate["failed_rules"]


def _champion(client: TestClient, base: str) -> int:
    return int(
        next(
            v["version"]
            for v in client.get(f"{base}/versions").json()
            if "champion" in v["aliases"]
        )
    )


def test_models_promote_and_rollback_on_the_cli(
    settings: Settings,
    session_factory: SessionFactory,
    clock: FrozenClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    machine_id = _two_short_baselines(session_factory, clock)
    assert machine_id
    monkeypatch.setenv("ENMS_DATA_DIR", str(settings.data_dir))
    runner = CliRunner()
    common = ["--database-url", settings.database_url, "models"]
    target = ["baseline", "--machine", "Press 14"]
    shown = runner.invoke(cli, [*common, "show", *target, "--version", "1"])
    assert shown.exit_code == 0, shown.output
    assert "(flagged: failed the promotion gate)" in shown.output.splitlines()[0]
    assert "  promotion gate at registration: FAILED (sufficiency" in shown.output
    assert "    sufficiency: caltrack_2.0: the window spans 18.0 days" in shown.output
    refused = runner.invoke(cli, [*common, "promote", *target, "--version", "2"])
    assert isinstance(refused.exception, InvalidInput)
    assert "rule 'sufficiency' failed" in refused.exception.message
    done = runner.invoke(
        cli, [*common, "promote", *target, "--version", "2", "--reason", "needed now"]
    )
    assert done.exit_code == 0, done.output
    assert done.output.splitlines()[:2] == [
        "baseline v2 is now the champion of Press 14",
        "  override of the promotion gate (failed: "
        + done.output.splitlines()[1].split("failed: ", 1)[1],
    ]
    assert "watched against v1 until" in done.output
    listed = runner.invoke(cli, [*common, "watches", *target])
    assert listed.exit_code == 0, listed.output
    assert " watching " in listed.output
    back = runner.invoke(cli, [*common, "rollback", *target, "--reason", "oops"])
    assert back.exit_code == 0, back.output
    assert back.output.strip() == "baseline champion of Press 14 rolled back to v1"
    listed = runner.invoke(cli, [*common, "watches", *target])
    assert "ended" in listed.output
    assert "rolled back to v1 by cli: oops" in listed.output
