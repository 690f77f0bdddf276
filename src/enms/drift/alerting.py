"""Alerts from a champion's drift check: ``drift`` and ``degradation``, raised or reported clear.

Owns :func:`produce` (called by :func:`enms.drift.tasks.drift_checks` after each check of a
champion; challengers' checks raise nothing). After the check, never inside its work, each
raise or clear is one short write unit of work:

* ``drift``: raised when ``drift_detected`` is True (critical when ``drift_score`` reaches
  ``ENMS_ALERTS__CRITICAL_DRIFT_SCORE[model_type]``), reported clear when False, nothing when
  None (undecided).
* ``degradation``: raised when the energy-grade (|NMBE| above ``ENMS_DRIFT__NMBE_ABS_MAX``) or
  the verdict of the model type's primary metric (CV(RMSE), F1, RMSE; the other degraded
  metrics are listed, not counted: alerting on any of several would multiply the false
  alarms) says degraded (critical when it is past its held-out value by
  ``ENMS_ALERTS__CRITICAL_DEGRADATION_RATIO`` times the allowed margin); clear when every
  decided verdict says not degraded. Judged only once the check's window
  spans ``ENMS_DRIFT__CURRENT_DAYS`` days (a version's first days are too few to act on).
* inhibition: while the machine has an unresolved ``data_quality`` alert, neither is raised
  (the entry says ``"inhibited": "data_quality alert N"``).

After a raise :func:`enms.alerts.actions.on_raised` decides the automatic retrain. Its window
starts at the change point: a drift alert's is the concept-drift change point; a degradation
alert's is estimated here (:func:`energy_change_point`, the least-squares single mean shift
of the daily relative excess energy since the version's training end), falling back to the
concept-drift one.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from enms.alerts import actions, conditions
from enms.core.clock import Clock
from enms.core.config import Settings
from enms.core.db import SessionFactory, session_scope
from enms.drift.schemas import DriftCheckRead
from enms.ml.scoring import PRIMARY
from enms.predictions import repository as log
from enms.readings.models import Machine

MIN_DAYS = 4  # days of logged residuals needed on either side of an estimated change point


def _local(at: datetime, timezone: str) -> str:
    return pd.Timestamp(at).tz_convert(timezone).strftime("%Y-%m-%d %H:%M")


def energy_change_point(points: pd.DataFrame, timezone: str) -> datetime | None:
    """The start (UTC) of the local day after which the daily relative excess energy
    ``Σ(actual − predicted) / Σ predicted`` shifted most (the least-squares split of one
    mean shift); None with fewer than ``MIN_DAYS`` days on either side.

    >>> idx = pd.date_range("2025-05-01", periods=40 * 24, freq="h", tz="UTC")
    >>> actual = pd.Series(100.0, index=idx).where(idx < "2025-05-21", 112.0)
    >>> points = pd.DataFrame({"actual": actual, "predicted": 100.0})
    >>> energy_change_point(points, "UTC").isoformat()
    '2025-05-21T00:00:00+00:00'
    """
    ok = points["actual"].notna() & points["predicted"].notna()
    kept = points[ok]
    kept = kept[~kept.index.duplicated(keep="last")]
    if kept.empty:
        return None
    days = pd.DatetimeIndex(kept.index).tz_convert(timezone).normalize()
    sums = kept[["actual", "predicted"]].groupby(days).sum()
    sums = sums[sums["predicted"].abs() > 1e-9]
    rel = ((sums["actual"] - sums["predicted"]) / sums["predicted"]).to_numpy(dtype=float)
    n = len(rel)
    if n < 2 * MIN_DAYS:
        return None
    total = rel.sum()
    best, split = -1.0, None
    running = np.cumsum(rel)
    for k in range(MIN_DAYS, n - MIN_DAYS + 1):
        left, right = running[k - 1] / k, (total - running[k - 1]) / (n - k)
        gain = k * (n - k) / n * (left - right) ** 2
        if gain > best:
            best, split = gain, k
    if split is None:
        return None
    start = pd.Timestamp(sums.index[split])
    return start.tz_convert(UTC).to_pydatetime()


def _drift_message(name: str, check: DriftCheckRead, timezone: str) -> str:
    verdict = check.drift_details.get("verdict", {})
    parts = [p.replace("_", " ") for p in verdict.get("drifted", [])] or ["drift"]
    since = f" since {_local(check.change_point, timezone)}" if check.change_point else ""
    score = f" (score {check.drift_score:.2f})" if check.drift_score is not None else ""
    return f"{name} {check.model_type} v{check.model_version}: {' and '.join(parts)}{since}{score}"


def _headline(part: Any) -> dict[str, Any]:
    if not isinstance(part, dict):
        return {}
    keys = ("method", "drift_detected", "score", "statistic", "threshold", "change_point", "n")
    return {k: part[k] for k in keys if k in part}


def _degradation(check: DriftCheckRead, settings: Settings) -> tuple[bool | None, float, str]:
    """(degraded: True / False / None undecided, how far past the margin, the sentence).

    Degraded when the energy-grade verdict (baselines, detectors) or the model type's primary
    metric (:data:`enms.ml.scoring.PRIMARY`: CV(RMSE), F1, RMSE) is past its threshold."""
    part = check.drift_details.get("degradation", {})
    energy, performance = part.get("energy", {}), part.get("performance", {})
    verdicts: list[bool | None] = []
    worst, why = 0.0, []
    if energy.get("applicable"):
        verdicts.append(energy.get("degraded"))
        bias, bound = energy.get("nmbe"), energy.get("nmbe_abs_max") or settings.drift.nmbe_abs_max
        if energy.get("degraded") and isinstance(bias, int | float):
            worst = max(worst, abs(bias) / bound)
            statement = f"; {energy['statement']}" if energy.get("statement") else ""
            why.append(f"energy NMBE {bias:+.1f} % beyond ±{bound:g} %{statement}")
    # The performance verdict of the alert is the primary metric's (the one versions are
    # compared on): judging every metric against its own threshold and alerting on any would
    # multiply the false alarms by the number of metrics; the others are listed as context.
    primary = PRIMARY.get(check.model_type, ("", False))[0]
    judged = {m.get("metric"): m for m in performance.get("metrics", [])}
    verdicts.append(judged[primary].get("degraded") if primary in judged else None)
    also = []
    for metric in performance.get("metrics", []):
        if not metric.get("degraded"):
            continue
        cur, held, limit = metric.get("current"), metric.get("held_out"), metric.get("threshold")
        if not (isinstance(cur, int | float) and isinstance(limit, int | float)):
            continue
        sentence = f"{metric['metric']} {cur:.3g} past its threshold {limit:.3g}"
        if metric.get("metric") != primary:
            also.append(sentence)
            continue
        why.append(sentence)
        if isinstance(held, int | float) and abs(limit - held) > 1e-12:
            worst = max(worst, abs(cur - held) / abs(limit - held))
    if why and also:
        why.append("also " + ", ".join(also))
    if any(v is True for v in verdicts):
        return True, worst, "; ".join(why) or "degraded"
    decided = [v for v in verdicts if v is not None]
    if decided and len(decided) == len(verdicts):
        return False, 0.0, "not degraded"
    return None, 0.0, "undecided"


def produce(
    *,
    factory: SessionFactory,
    settings: Settings,
    clock: Clock,
    check: DriftCheckRead,
    enqueue: Callable[[int], None] | None,
) -> dict[str, Any]:
    """Raise or clear the champion's ``drift`` and ``degradation`` conditions after ``check``;
    returns what was done (for the task's summary)."""
    now = clock.now()
    machine_id, model_type = check.machine_id, check.model_type
    out: dict[str, Any] = {}
    with session_scope(factory) as session:
        machine = session.get(Machine, machine_id)
        name = machine.name if machine is not None else f"machine {machine_id}"
        timezone = (machine.timezone if machine is not None else None) or "UTC"
        blocker = conditions.unresolved(
            session, conditions.condition_key(machine_id, None, "data_quality")
        )
        inhibited = blocker.id if blocker is not None else None
    degraded, ratio, why = _degradation(check, settings)
    span = check.current_end - check.current_start
    if span < timedelta(days=settings.drift.current_days):
        degraded = None  # too few days served to act on a degradation verdict
    raises: list[tuple[str, str, str, dict[str, Any], datetime | None]] = []
    if check.drift_detected is not None and check.drift_detected:
        limit = settings.alerts.critical_drift_score.get(model_type, 0.8)
        severity = "critical" if (check.drift_score or 0.0) >= limit else "warning"
        details = {
            "check_id": check.id,
            "drift_score": check.drift_score,
            "change_point": check.change_point.isoformat() if check.change_point else None,
            "window": {"start": check.current_start.isoformat(), "end": now.isoformat()},
            "verdict": check.drift_details.get("verdict"),
            "concept_drift": _headline(check.drift_details.get("concept_drift")),
            "data_drift": _headline(check.drift_details.get("data_drift")),
        }
        message = _drift_message(name, check, timezone)
        raises.append(("drift", severity, message, details, check.change_point))
    if degraded:
        # The excess energy dates a degradation better than the residual detectors' alarm
        # (which judges readings inside the training support only); theirs is the fallback.
        with session_scope(factory) as session:
            points = log.points_frame(
                session, model_id=check.model_id, start=check.current_start, end=now
            )
        change, source = energy_change_point(points, timezone), "energy residuals"
        if change is None:
            change, source = check.change_point, "concept drift"
        limit = settings.alerts.critical_degradation_ratio.get(model_type, 2.0)
        severity = "critical" if ratio >= limit else "warning"
        details = {
            "check_id": check.id,
            "ratio_to_margin": ratio,
            "change_point": change.isoformat() if change else None,
            "change_point_from": source if change else None,
            "window": {"start": check.current_start.isoformat(), "end": now.isoformat()},
            "degradation": check.drift_details.get("degradation"),
        }
        message = f"{name} {model_type} v{check.model_version}: degradation: {why}"
        raises.append(("degradation", severity, message, details, change))
    if inhibited is not None:
        if raises:
            out["inhibited"] = f"data_quality alert {inhibited}"
        return out
    for alert_type, severity, message, details, change in raises:
        with session_scope(factory, write=True) as session:
            raised = conditions.raise_condition(
                session,
                machine_id=machine_id,
                model_type=model_type,
                alert_type=alert_type,
                severity=severity,
                message=message,
                details=details,
                now=now,
                model_id=check.model_id,
            )
        out[alert_type] = {"alert_id": raised.alert_id, "opened": raised.opened}
        out[alert_type]["action"] = actions.on_raised(
            factory=factory,
            settings=settings,
            clock=clock,
            raised=raised,
            machine_id=machine_id,
            model_type=model_type,
            alert_type=alert_type,
            change_point=change,
            enqueue=enqueue,
        )
    clears = []
    if check.drift_detected is False:
        clears.append("drift")
    if degraded is False:
        clears.append("degradation")
    if clears:
        with session_scope(factory, write=True) as session:
            for alert_type in clears:
                cleared = conditions.report_clear(
                    session,
                    machine_id=machine_id,
                    model_type=model_type,
                    alert_type=alert_type,
                    now=now,
                )
                out[f"{alert_type}_clear"] = cleared
    return out
