"""Registry: version numbering, aliases, promote/rollback with an audited alias history."""

from __future__ import annotations

import itertools
import threading
from typing import Any

import pytest
from sqlalchemy.orm import Session
from tests.factories import make_machine
from tests.registry.versions import register_baseline

from enms.core.clock import FrozenClock
from enms.core.db import SessionFactory, session_scope
from enms.core.errors import Conflict, NotFound
from enms.ml.base import ArtifactError
from enms.registry import artifacts, service
from enms.registry.models import ModelVersion


def _register(session: Session, clock: FrozenClock, machine_id: int) -> ModelVersion:
    return register_baseline(session, clock, machine_id)


def test_first_version_is_champion_later_ones_challenger(
    session: Session, clock: FrozenClock
) -> None:
    machine = make_machine(session, clock)
    for _ in range(3):
        _register(session, clock, machine.id)
    listed = service.list_versions(session=session, machine_id=machine.id, model_type="baseline")
    assert [(v.version, v.aliases) for v in listed] == [
        (3, ["challenger"]),
        (2, []),
        (1, ["champion"]),
    ]


def test_promote_and_rollback_follow_the_history(session: Session, clock: FrozenClock) -> None:
    machine = make_machine(session, clock)
    for _ in range(3):
        _register(session, clock, machine.id)

    def promote(version: int, actor: str, reason: str | None) -> int:
        return service.promote(
            session=session,
            machine_id=machine.id,
            model_type="baseline",
            clock=clock,
            version=version,
            actor=actor,
            reason=reason,
        ).version

    def rollback(actor: str, reason: str | None) -> int:
        return service.rollback(
            session=session,
            machine_id=machine.id,
            model_type="baseline",
            clock=clock,
            actor=actor,
            reason=reason,
        ).version

    promote(version=2, actor="ann", reason="better CV(RMSE)")
    promote(version=3, actor="bob", reason="newer")
    assert rollback(actor="ann", reason="v3 degraded") == 2
    assert rollback(actor="ann", reason="v2 too") == 1
    with pytest.raises(Conflict, match="no earlier baseline champion"):
        rollback(actor="ann", reason=None)
    with pytest.raises(Conflict, match="already the baseline champion"):
        promote(version=1, actor="ann", reason=None)
    history = service.alias_history(session=session, machine_id=machine.id, model_type="baseline")
    champion_moves = [
        (e.action, e.from_version, e.to_version, e.actor) for e in history if e.alias == "champion"
    ]
    assert champion_moves == [
        ("register", None, 1, "test"),
        ("promote", 1, 2, "ann"),
        ("promote", 2, 3, "bob"),
        ("rollback", 3, 2, "ann"),
        ("rollback", 2, 1, "ann"),
    ]
    assert history[-1].reason == "v2 too"


def test_artifacts_load_only_with_the_recorded_hash(session: Session, clock: FrozenClock) -> None:
    machine = make_machine(session, clock)
    row = _register(session, clock, machine.id)
    model = artifacts.load_model(row)
    assert model.model_type == "baseline"
    row.artifact_sha256 = "0" * 64
    with pytest.raises(ArtifactError, match="recorded in the registry"):
        artifacts.load_model(row)


def test_unknown_version_and_type(session: Session, clock: FrozenClock) -> None:
    machine = make_machine(session, clock)
    with pytest.raises(NotFound, match="no baseline champion yet"):
        service.get_version(session=session, machine_id=machine.id, model_type="baseline")
    from enms.core.errors import InvalidInput

    with pytest.raises(InvalidInput, match="unknown model type 'lstm'"):
        service.list_versions(session=session, machine_id=machine.id, model_type="lstm")


def test_concurrent_promotions_keep_the_history_a_chain(
    session_factory: SessionFactory, clock: FrozenClock
) -> None:
    factory = session_factory
    with session_scope(factory, write=True) as s:
        machine_id = make_machine(s, clock).id
        for _ in range(3):
            _register(s, clock, machine_id)
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def promote(version: int) -> None:
        try:
            barrier.wait()
            with session_scope(factory, write=True) as s:
                service.promote(
                    session=s,
                    machine_id=machine_id,
                    model_type="baseline",
                    version=version,
                    actor=f"user{version}",
                    reason=None,
                    clock=clock,
                )
        except BaseException as exc:  # collected below
            errors.append(exc)

    threads = [threading.Thread(target=promote, args=(v,)) for v in (2, 3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with session_scope(factory) as s:
        moves = [
            (e.from_version, e.to_version)
            for e in service.alias_history(session=s, machine_id=machine_id, model_type="baseline")
            if e.alias == "champion"
        ]
    assert moves[0] == (None, 1)
    for (_, before), (after_from, _) in itertools.pairwise(moves):
        assert after_from == before  # each move records the champion it really replaced
    assert {to for _, to in moves[1:]} == {2, 3}


def test_other_aliases_move_audited_and_the_champion_only_by_promotion(
    session: Session, clock: FrozenClock
) -> None:
    machine = make_machine(session, clock)
    first = _register(session, clock, machine.id)
    with pytest.raises(Conflict, match="only by promotion or rollback"):
        service.set_alias(
            session=session, row=first, alias="champion", action="watch", actor="x",
            reason=None, clock=clock,
        )  # fmt: skip
    service.set_alias(
        session=session, row=first, alias="previous", action="watch", actor="x",
        reason="kept scored", clock=clock,
    )  # fmt: skip
    common: dict[str, Any] = {
        "session": session,
        "machine_id": machine.id,
        "model_type": "baseline",
    }
    assert service.clear_alias(**common, alias="previous", actor="x", reason="done", clock=clock)
    assert not service.clear_alias(**common, alias="previous", actor="x", reason=None, clock=clock)
    with pytest.raises(Conflict, match="cannot be removed"):
        service.clear_alias(**common, alias="champion", actor="x", reason=None, clock=clock)
    history = service.alias_history(session=session, machine_id=machine.id, model_type="baseline")
    assert [(e.alias, e.from_version, e.to_version, e.reason) for e in history] == [
        ("champion", None, 1, "version 1 registered"),
        ("previous", None, 1, "kept scored"),
        ("previous", 1, None, "done"),
    ]
    assert service.read(session, first).failed_rules == []  # never gated
