"""Which version answers each requested row: the champion, or an A/B test's arm.

While a test runs for (machine, model type) (``model_ab_tests.status = 'running'``; at most
one, by a partial unique index), a row's arm is
``enms.experiments.arms.assign(test.id, unit, test.traffic_split)`` with ``unit`` the caller's
``unit_key`` or the row's timestamp slot (``unit_of(ts, test.slot_minutes)``): deterministic,
so a repeated request gets the same arm, and the same assignment H2's analysis computes for
untagged points. Arm ``a`` is served by ``model_a_id``, ``b`` by ``model_b_id``. Without a
test every row goes to the champion (no arm). Reads only; the caller's session is short.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from enms.core.errors import Conflict
from enms.experiments import arms
from enms.experiments.models import RUNNING, ABTest
from enms.readings.models import Machine
from enms.registry.models import ModelAlias, ModelVersion

CHAMPION = "champion"


@dataclass(frozen=True)
class VersionRef:
    """What serving needs to know about a version before (maybe) loading it."""

    id: int
    version: int
    sha256: str | None
    origin: str


@dataclass(frozen=True)
class Routing:
    """Per requested row (in request order): the answering version's id and the arm."""

    test_id: int | None
    version_ids: list[int]
    arms: list[str | None]
    versions: dict[int, VersionRef]

    @property
    def kind(self) -> str:
        """``ab_test`` while a test routes the rows, else ``champion``."""
        return "champion" if self.test_id is None else "ab_test"


def running_test(session: Session, machine_id: int, model_type: str) -> ABTest | None:
    """The running A/B test of (machine, model type), if any."""
    return session.scalar(
        select(ABTest).where(
            ABTest.machine_id == machine_id,
            ABTest.model_type == model_type,
            ABTest.status == RUNNING,
        )
    )


def _ref(session: Session, version_id: int) -> VersionRef:
    row = session.execute(
        select(
            ModelVersion.id, ModelVersion.version, ModelVersion.artifact_sha256, ModelVersion.origin
        ).where(ModelVersion.id == version_id)
    ).one()
    return VersionRef(id=int(row[0]), version=int(row[1]), sha256=row[2], origin=str(row[3]))


def route(
    session: Session,
    *,
    machine: Machine,
    model_type: str,
    timestamps: pd.DatetimeIndex,
    unit_key: str | None,
) -> Routing:
    """The routing of ``timestamps`` (UTC) for ``machine``'s ``model_type``.

    :class:`Conflict` when nothing can answer: no running test and no champion.
    """
    test = running_test(session, machine.id, model_type)
    if test is not None:
        chosen: list[str | None] = []
        cache: dict[str, str] = {}
        for ts in timestamps:
            unit = unit_key if unit_key is not None else arms.unit_of(ts, test.slot_minutes)
            arm = cache.get(unit)
            if arm is None:
                arm = cache[unit] = arms.assign(test.id, unit, test.traffic_split)
            chosen.append(arm)
        by_arm = {arms.A: test.model_a_id, arms.B: test.model_b_id}
        ids = [by_arm[str(a)] for a in chosen]
        refs = {v: _ref(session, v) for v in set(ids)}
        return Routing(test_id=test.id, version_ids=ids, arms=chosen, versions=refs)
    alias = session.scalar(
        select(ModelAlias.model_version_id).where(
            ModelAlias.machine_id == machine.id,
            ModelAlias.model_type == model_type,
            ModelAlias.alias == CHAMPION,
        )
    )
    if alias is None:
        raise Conflict(
            f"machine {machine.name!r} has no {model_type} champion yet, so there is nothing to "
            f"predict with: train one (`enms train {model_type} --machine {machine.name!r} "
            "--wait`, or POST /api/v1/model-performance/retrain/trigger with "
            f'{{"machine_id": {machine.id}, "model_type": "{model_type}"}}) and ask again',
            details={"machine_id": machine.id, "model_type": model_type, "reason": "no_champion"},
        )
    champion = int(alias)
    return Routing(
        test_id=None,
        version_ids=[champion] * len(timestamps),
        arms=[None] * len(timestamps),
        versions={champion: _ref(session, champion)},
    )
