"""Closing the loop of an automatic retrain: promote the retrained challenger when it is better.

Owns :func:`promote_retrained` (run by the ``alert_maintenance`` job after auto-resolve).
Issue 11 brings the full A/B test and promotion gate; until then this rule decides: for an
unresolved ``drift`` / ``degradation`` alert whose automatic retrain job completed with
version N (registered as the challenger), once the challenger has been shadow-scored in the
prediction log for at least ``ENMS_ALERTS__PROMOTE_AFTER_DAYS`` days after its training end, the
challenger's and the champion's MAE are compared on the *same* timestamps (baselines and
detectors: every logged reading; forecasters: day-ahead points only, lead 0–24 h). The
challenger is promoted (:func:`enms.registry.service.promote`, actor ``enms-auto``, the
reason naming the alert, both MAEs and n) when its MAE is lower by at least
``ENMS_ALERTS__PROMOTE_MIN_GAIN`` (5 %); otherwise the alert records "kept champion: …"
and the comparison is not repeated within :data:`RETRY_AFTER`. Outcomes are written on the
alert (``auto_action_result``) and audited (``auto_promoted`` / ``auto_promotion_declined``).
Reads, the comparison and the write are separate: no transaction is held while the MAEs are
computed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from enms.alerts.conditions import ALERT_ENTITY, audit
from enms.alerts.models import UNRESOLVED_STATES, ModelAlert
from enms.core.clock import Clock
from enms.core.config import Settings
from enms.core.db import SessionFactory, session_scope
from enms.predictions import repository as log
from enms.registry import repository as registry_repository
from enms.registry import service as registry
from enms.registry.models import AuditLog
from enms.registry.service import CHALLENGER
from enms.training.models import TrainingJob

RETRY_AFTER = timedelta(days=1)
ACTOR = "enms-auto"
DAY_AHEAD = pd.Timedelta(days=1)
MAX_LISTED = 50


@dataclass(frozen=True)
class _Candidate:
    alert_id: int
    machine_id: int
    model_type: str
    challenger_id: int
    challenger: int
    champion_id: int
    champion: int
    since: datetime


def _declined_recently(session: Session, alert_id: int, now: datetime) -> bool:
    last = session.scalar(
        select(AuditLog.at)
        .where(
            AuditLog.entity_type == ALERT_ENTITY,
            AuditLog.entity_id == str(alert_id),
            AuditLog.action == "auto_promotion_declined",
        )
        .order_by(AuditLog.at.desc())
        .limit(1)
    )
    if last is None:
        return False
    at = last if last.tzinfo else last.replace(tzinfo=now.tzinfo)
    return bool(now - at < RETRY_AFTER)


def _candidates(
    session: Session, now: datetime, after_days: float
) -> tuple[list[_Candidate], list[dict[str, Any]], list[tuple[int, int]]]:
    """Alerts to decide, alerts waiting (and until when), and alerts whose retrained version
    is the champion already (promoted for another alert, or by a person)."""
    waiting: list[dict[str, Any]] = []
    settled: list[tuple[int, int]] = []
    out: list[_Candidate] = []
    alerts = session.scalars(
        select(ModelAlert)
        .where(
            ModelAlert.state.in_(UNRESOLVED_STATES),
            ModelAlert.alert_type.in_(("drift", "degradation")),
            ModelAlert.auto_action == "retrain",
            ModelAlert.action_job_id.is_not(None),
        )
        .order_by(ModelAlert.id)
    ).all()
    for alert in alerts:
        job = session.get(TrainingJob, alert.action_job_id)
        if job is None or job.training_status != "completed" or job.model_version is None:
            continue
        if alert.model_type is None or (alert.auto_action_result or "").startswith("promoted"):
            continue
        try:
            new = registry.get_version(
                session=session,
                machine_id=alert.machine_id,
                model_type=alert.model_type,
                version=job.model_version,
            )
        except Exception:  # the version was deleted: nothing to promote
            continue
        champion = registry.champion(
            session=session, machine_id=alert.machine_id, model_type=alert.model_type
        )
        if champion is not None and champion.id == new.id:
            settled.append((alert.id, new.version))
            continue
        challenger = registry_repository.alias(
            session, alert.machine_id, alert.model_type, CHALLENGER
        )
        if champion is None or new.training_end is None:
            continue
        if challenger is None or challenger.model_version_id != new.id:
            continue  # replaced as the challenger: no longer shadow-scored
        if _declined_recently(session, alert.id, now):
            continue
        due = new.training_end + timedelta(days=after_days)
        if now < due:
            waiting.append({"alert_id": alert.id, "version": new.version, "due": due.isoformat()})
            continue
        out.append(
            _Candidate(
                alert.id,
                alert.machine_id,
                alert.model_type,
                new.id,
                new.version,
                champion.id,
                champion.version,
                new.training_end,
            )
        )
    return out, waiting, settled


def _settle(factory: SessionFactory, settled: list[tuple[int, int]]) -> None:
    with session_scope(factory, write=True) as session:
        for alert_id, version in settled:
            alert = session.get(ModelAlert, alert_id)
            if alert is not None:
                alert.auto_action_result = (
                    f"promoted v{version}: the retrained version is the champion"
                    + (f" ({alert.auto_action_result})" if alert.auto_action_result else "")
                )[:2000]


def _scored(points: pd.DataFrame, model_type: str) -> pd.Series:
    """Absolute errors by target time (forecasters: day-ahead points only)."""
    ok = points["actual"].notna() & points["predicted"].notna()
    if model_type.startswith("forecast_"):
        lead = pd.Series(points.index, index=points.index) - points["origin"]
        ok &= (lead >= pd.Timedelta(0)) & (lead <= DAY_AHEAD)
    kept = points[ok]
    kept = kept[~kept.index.duplicated(keep="last")]
    return (kept["actual"] - kept["predicted"]).abs().astype(float)


def compare(
    challenger: pd.DataFrame, champion: pd.DataFrame, model_type: str
) -> tuple[float | None, float | None, int]:
    """MAE of the challenger and of the champion on their common timestamps, and n.

    >>> idx = pd.date_range("2025-06-01", periods=4, freq="h", tz="UTC")
    >>> a = pd.DataFrame({"actual": 10.0, "predicted": [10.0, 11, 9, 10], "origin": idx}, idx)
    >>> b = pd.DataFrame({"actual": 10.0, "predicted": 12.0, "origin": idx}, idx[1:])
    >>> compare(a, b, "baseline")
    (0.6666666666666666, 2.0, 3)
    """
    ours, theirs = _scored(challenger, model_type), _scored(champion, model_type)
    common = ours.index.intersection(theirs.index)
    if not len(common):
        return None, None, 0
    return (
        float(np.mean(ours.loc[common])),
        float(np.mean(theirs.loc[common])),
        len(common),
    )


def promote_retrained(
    *, factory: SessionFactory, settings: Settings, clock: Clock
) -> dict[str, Any]:
    """One pass over the alerts with a completed automatic retrain; see the module doc."""
    now = clock.now()
    with session_scope(factory) as session:
        candidates, waiting, settled = _candidates(session, now, settings.alerts.promote_after_days)
    if settled:
        _settle(factory, settled)
    decided: list[dict[str, Any]] = []
    for c in candidates:
        with session_scope(factory) as session:
            ours = log.points_frame(session, model_id=c.challenger_id, start=c.since, end=now)
            theirs = log.points_frame(session, model_id=c.champion_id, start=c.since, end=now)
        scored_until = ours.index.max() if len(ours) else None
        if scored_until is None or scored_until < pd.Timestamp(
            c.since + timedelta(days=settings.alerts.promote_after_days)
        ):
            waiting.append({"alert_id": c.alert_id, "version": c.challenger, "due": "scoring"})
            continue
        mae_new, mae_old, n = compare(ours, theirs, c.model_type)
        decided.append(
            _decide(factory, clock, c, (mae_new, mae_old, n), settings.alerts.promote_min_gain)
        )
    return {
        "decided": decided[:MAX_LISTED],
        "waiting": waiting[:MAX_LISTED],
        "settled": [alert_id for alert_id, _v in settled][:MAX_LISTED],
    }


def _decide(
    factory: SessionFactory,
    clock: Clock,
    c: _Candidate,
    figures_: tuple[float | None, float | None, int],
    min_gain: float,
) -> dict[str, Any]:
    mae_new, mae_old, n = figures_
    now = clock.now()
    figures = {"mae_challenger": mae_new, "mae_champion": mae_old, "n": n}
    better = (
        mae_new is not None
        and mae_old is not None
        and n > 0
        and mae_new <= (1 - min_gain) * mae_old
    )
    with session_scope(factory, write=True) as session:
        alert = session.get(ModelAlert, c.alert_id)
        if alert is None or alert.state not in UNRESOLVED_STATES:
            return {"alert_id": c.alert_id, "outcome": "alert no longer unresolved"}
        current = registry.champion(
            session=session, machine_id=c.machine_id, model_type=c.model_type
        )
        if current is None or current.id != c.champion_id:
            return {"alert_id": c.alert_id, "outcome": "the champion changed meanwhile"}
        if mae_new is None or mae_old is None:
            shown = f"no common scored points of v{c.challenger} and v{c.champion}"
        else:
            shown = (
                f"challenger v{c.challenger} MAE {mae_new:.4g} vs champion v{c.champion} MAE "
                f"{mae_old:.4g} on n={n} common points since {c.since:%Y-%m-%d %H:%M} UTC"
            )
        if better:
            reason = f"alert {c.alert_id}: automatic retrain; {shown} (at least 5 % lower)"
            registry.promote(
                session=session,
                machine_id=c.machine_id,
                model_type=c.model_type,
                version=c.challenger,
                actor=ACTOR,
                reason=reason,
                clock=clock,
            )
            result, rule = f"promoted v{c.challenger}: {shown}", "auto_promoted"
        else:
            result = f"kept champion v{c.champion}: {shown} (needs at least 5 % lower)"
            rule = "auto_promotion_declined"
        alert.auto_action_result = result
        audit(
            session,
            alert=alert,
            machine_id=alert.machine_id,
            rule=rule,
            actor=ACTOR,
            at=now,
            reason=result,
            details={**figures, "challenger": c.challenger, "champion": c.champion},
        )
        return {"alert_id": c.alert_id, "outcome": result, **figures}
