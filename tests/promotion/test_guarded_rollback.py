"""Guarded rollback, end to end on a real database with a frozen clock: promote over HTTP, new
readings arrive, shadow scoring scores the new and the previous champion on them, the
promotion_watch job judges the pair.

The worse champion is a real baseline fitted on the same readings with the energy scaled by
1.4 (it over-predicts by ~40 %); the equal one is fitted on a window shifted by a day."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient

from enms.alerts.models import ModelAlert
from enms.core.clock import FrozenClock
from enms.core.config import Settings
from enms.core.db import SessionFactory, session_scope
from enms.predictions.tasks import score_predictions
from enms.promotion.tasks import promotion_watch
from tests.promotion.helpers import import_days, make_plant_machine, register_fitted

API = "/api/v1"


def _setup(factory: SessionFactory, clock: FrozenClock, *, scale: float, start: int) -> int:
    """v1 (champion) and v2 (challenger) fitted on the first three weeks."""
    with session_scope(factory, write=True) as s:
        machine_id = make_plant_machine(s, clock)
        import_days(s, machine_id, 0, 21)
        register_fitted(s, clock, machine_id, start=0, end=21)
        register_fitted(s, clock, machine_id, start=start, end=21, scale=scale)
    return machine_id


def _new_readings(
    factory: SessionFactory, settings: Settings, clock: FrozenClock, machine_id: int, end: int
) -> None:
    with session_scope(factory, write=True) as s:
        import_days(s, machine_id, 21, end)
    scored = score_predictions(factory=factory, settings=settings, clock=clock)
    assert scored["errors"] == []


def _aliases(client: TestClient, base: str) -> dict[int, list[str]]:
    return {v["version"]: v["aliases"] for v in client.get(f"{base}/versions").json()}


def _moves(client: TestClient, base: str, alias: str) -> list[tuple[Any, ...]]:
    history = client.get(f"{base}/aliases/history").json()
    return [
        (h["action"], h["from_version"], h["to_version"], h["actor"], h["reason"])
        for h in history
        if h["alias"] == alias
    ]


def test_a_worse_champion_is_rolled_back_within_the_watch(
    client: TestClient, session_factory: SessionFactory, clock: FrozenClock, settings: Settings
) -> None:
    machine_id = _setup(session_factory, clock, scale=1.4, start=0)
    base = f"{API}/machines/{machine_id}/models/baseline"
    promoted = client.post(
        f"{base}/promote", json={"version": 2, "actor": "ann", "reason": "try the new one"}
    )
    assert promoted.status_code == 200, promoted.text
    watch = promoted.json()["watch"]
    assert watch["state"] == "watching"
    assert _aliases(client, base) == {2: ["champion"], 1: ["previous"]}

    _new_readings(session_factory, settings, clock, machine_id, end=31)  # 10 days arrive
    clock.advance(timedelta(days=2))  # well inside the 7-day watch
    result = promotion_watch(factory=session_factory, settings=settings, clock=clock)
    assert [r["watch_id"] for r in result["rolled_back"]] == [watch["id"]]
    figures = result["rolled_back"][0]
    # Ten new days arrived; the watch judges the first seven, hourly, scored by both versions.
    assert (figures["n"], figures["n_days"]) == (168, 7)
    assert figures["relative"] > 0.3  # v2 over-predicts by ~40 %: its MAE is far worse
    assert figures["p_value"] < figures["alpha"]

    assert _aliases(client, base) == {2: [], 1: ["champion"]}
    champion = _moves(client, base, "champion")
    assert champion[:2] == [
        ("register", None, 1, "test", "version 1 registered"),
        ("promote", 1, 2, "ann", "try the new one"),
    ]
    action, before, after, actor, reason = champion[2]
    assert (action, before, after, actor) == ("rollback", 2, 1, "enms-auto")
    assert reason.startswith("guarded rollback: v2's MAE")
    assert "% worse than v1's" in reason
    assert [m[:3] for m in _moves(client, base, "previous")] == [
        ("watch", None, 1),
        ("watch", 1, None),
    ]
    with session_scope(session_factory) as s:
        alert = s.query(ModelAlert).filter_by(machine_id=machine_id).one()
        assert (alert.alert_type, alert.model_type) == ("degradation", "baseline")
        assert alert.message.startswith(
            "Compressor W baseline v2 rolled back to v1 after its promotion: v2's MAE "
        )
        assert "on the same 168 readings" in alert.message
        assert alert.details["rule"] == "guarded_rollback"
    watches = client.get(f"{base}/promotion-watches").json()
    assert [(w["state"], w["result"]["reason"][:17]) for w in watches] == [
        ("rolled_back", "guarded rollback:")
    ]
    again = promotion_watch(factory=session_factory, settings=settings, clock=clock)
    assert again == {"watched": [], "passed": [], "rolled_back": [], "ended": []}


def test_an_equal_champion_passes_the_watch_and_previous_is_released(
    client: TestClient, session_factory: SessionFactory, clock: FrozenClock, settings: Settings
) -> None:
    machine_id = _setup(session_factory, clock, scale=1.0, start=1)
    base = f"{API}/machines/{machine_id}/models/baseline"
    promoted = client.post(f"{base}/promote", json={"version": 2})
    assert promoted.status_code == 200, promoted.text  # passes the gate: no reason needed
    _new_readings(session_factory, settings, clock, machine_id, end=31)
    clock.advance(timedelta(days=2))
    looked = promotion_watch(factory=session_factory, settings=settings, clock=clock)
    assert looked["rolled_back"] == []
    assert looked["watched"][0]["status"] == "not_worse"
    assert abs(looked["watched"][0]["relative"]) < 0.1
    clock.advance(timedelta(days=6))  # past the watch's end
    ended = promotion_watch(factory=session_factory, settings=settings, clock=clock)
    assert [r["state"] for r in ended["passed"]] == ["passed"]
    assert _aliases(client, base) == {2: ["champion"], 1: []}
    assert _moves(client, base, "previous")[-1][4].startswith("watch of v2 passed: ")


def test_a_manual_rollback_ends_the_watch(
    client: TestClient, session_factory: SessionFactory, clock: FrozenClock, settings: Settings
) -> None:
    machine_id = _setup(session_factory, clock, scale=1.0, start=1)
    base = f"{API}/machines/{machine_id}/models/baseline"
    assert client.post(f"{base}/promote", json={"version": 2}).status_code == 200
    rolled = client.post(f"{base}/rollback", json={"actor": "bob", "reason": "not yet"})
    assert rolled.status_code == 200
    assert rolled.json()["version"] == 1
    watches = client.get(f"{base}/promotion-watches").json()
    assert [(w["state"], w["result"]["reason"]) for w in watches] == [
        ("ended", "rolled back to v1 by bob: not yet")
    ]
    assert _aliases(client, base) == {2: [], 1: ["champion"]}
    assert promotion_watch(factory=session_factory, settings=settings, clock=clock)["ended"] == []
    unknown = client.get(f"{API}/machines/{machine_id}/models/lstm/promotion-watches")
    assert unknown.status_code == 422
    assert "unknown model type 'lstm'" in unknown.json()["error"]["message"]
    assert client.get(f"{API}/machines/999/models/baseline/promotion-watches").status_code == 404
