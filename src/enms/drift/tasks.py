"""The periodic drift checks of every champion and challenger (``drift_check`` schedule).

Owns :func:`drift_checks`. For every champion and challenger of every model type, the
current window is ``[max(training_end, now − ENMS_DRIFT__PERIODIC_DAYS days), now)``:
everything the version has served since it was trained (bounded), so the residual
detectors run sequentially over it and a change stays flagged once it happened. Versions
with nothing logged in that window yet (the scoring task has not reached them) are skipped
and counted. Each check runs in its own short transactions (:func:`enms.drift.service.
check_drift`); one that fails is reported and the others go on. After each check of a
champion its ``drift`` / ``degradation`` alerts are raised or reported clear
(:func:`enms.drift.alerting.produce`, which may enqueue an automatic retrain).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from enms.core.clock import Clock
from enms.core.config import Settings
from enms.core.db import SessionFactory, session_scope
from enms.core.model_types import MODEL_TYPE_NAMES
from enms.core.timewindow import Window
from enms.drift import alerting, service
from enms.predictions.models import PredictionPoint
from enms.readings import service as readings
from enms.registry import repository as registry_repository
from enms.registry.models import ModelVersion
from enms.registry.service import CHALLENGER, CHAMPION

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Target:
    machine_id: int
    machine: str
    model_type: str
    alias: str
    version: int
    window: Window
    logged: bool


def _logged(session: Session, version_id: int, window: Window) -> bool:
    """Whether the version has at least one logged point in ``window`` (one indexed probe)."""
    found = session.scalar(
        select(PredictionPoint.id)
        .where(
            PredictionPoint.model_id == version_id,
            PredictionPoint.ts >= window.start,
            PredictionPoint.ts < window.end,
        )
        .limit(1)
    )
    return found is not None


def _targets(session: Session, *, now: datetime, days: int) -> list[_Target]:
    out: list[_Target] = []
    for machine in readings.list_machines(session=session):
        for model_type in MODEL_TYPE_NAMES:
            for alias in (CHAMPION, CHALLENGER):
                pointer = registry_repository.alias(session, machine.id, model_type, alias)
                row = session.get(ModelVersion, pointer.model_version_id) if pointer else None
                if row is None:
                    continue
                start = now - timedelta(days=days)
                if row.training_end is not None and row.training_end > start:
                    start = row.training_end
                if start >= now:
                    window = Window(now, now)
                    logged = False
                else:
                    window = Window(start, now)
                    logged = _logged(session, row.id, window)
                out.append(
                    _Target(
                        machine.id, machine.name, model_type, alias, row.version, window, logged
                    )
                )
    return out


def drift_checks(
    *,
    factory: SessionFactory,
    settings: Settings,
    clock: Clock,
    enqueue: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Run and record the drift check of every champion and challenger; raise or clear the
    champions' alerts after each (:mod:`enms.drift.alerting`; ``enqueue`` lets a raised alert
    enqueue its automatic retrain); return the counts."""
    now = clock.now()
    with session_scope(factory) as session:
        targets = _targets(session, now=now, days=settings.drift.periodic_days)
    checks: list[dict[str, Any]] = []
    failures: list[dict[str, Any]] = []
    skipped = 0
    for target in targets:
        label = {
            "machine": target.machine,
            "model_type": target.model_type,
            "alias": target.alias,
            "version": target.version,
        }
        if not target.logged:
            skipped += 1
            continue
        try:
            result = service.check_drift(
                factory=factory,
                settings=settings,
                clock=clock,
                machine_id=target.machine_id,
                model_type=target.model_type,
                version=target.version,
                current=target.window,
            )
        except Exception as exc:  # one failing check must not stop the others: reported
            log.exception("drift check of %s failed", label)
            failures.append({**label, "error": f"{type(exc).__name__}: {exc}"})
            continue
        entry: dict[str, Any] = {
            **label,
            "id": result.id,
            "drift_detected": result.drift_detected,
            "drift_score": result.drift_score,
            "change_point": result.change_point.isoformat() if result.change_point else None,
        }
        if target.alias == CHAMPION:
            try:
                entry.update(
                    alerting.produce(
                        factory=factory,
                        settings=settings,
                        clock=clock,
                        check=result,
                        enqueue=enqueue,
                    )
                )
            except Exception as exc:  # the check is recorded; its alert is reported missing
                log.exception("alerts of the drift check of %s failed", label)
                entry["alert_error"] = f"{type(exc).__name__}: {exc}"
        checks.append(entry)
    return {
        "versions": len(targets),
        "checked": len(checks),
        "drift_detected": sum(1 for c in checks if c["drift_detected"]),
        "inhibited": sum(1 for c in checks if "inhibited" in c),
        "alerts_opened": sum(
            1 for c in checks for k in ("drift", "degradation") if c.get(k, {}).get("opened")
        ),
        "skipped_nothing_logged": skipped,
        "failed": len(failures),
        "checks": checks,
        "failures": failures,
    }
