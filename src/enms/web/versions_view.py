"""What the Versions page shows, assembled from the registry and the promotion policy.

:func:`versions_page_data` turns a (machine, model type)'s stored versions into plain tables
the page script renders side by side: the held-out metrics (one row per metric, one column
per version), each version's gate verdicts, and what the model recorded about itself —
a baseline's coefficients with p-values, its ASHRAE Guideline 14 and data-sufficiency
verdicts; a forecaster's chosen candidate with every candidate's validation scores; an
anomaly detector's alarm threshold. Plus the alias history and the promotion watches.
Read-only; nothing is computed beyond picking fields out of the stored rows.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from enms.promotion import service as promotion
from enms.readings.models import Machine
from enms.registry import service as registry
from enms.registry.schemas import AliasEvent, VersionRead

#: Held-out metrics in the order the comparison table lists them (others follow, sorted).
METRIC_ORDER = (
    "mae",
    "rmse",
    "mape",
    "cv_rmse",
    "nmbe",
    "r_squared",
    "skill",
    "coverage",
    "alarm_rate",
    "precision",
    "recall",
    "f1",
    "n",
)
METRIC_LABELS = {
    "mae": "MAE (kWh)",
    "rmse": "RMSE (kWh)",
    "mape": "MAPE (%)",
    "cv_rmse": "CV(RMSE) (%)",
    "nmbe": "NMBE (%)",
    "r_squared": "R²",
    "skill": "Skill vs. weekly naive",
    "coverage": "Interval coverage",
    "alarm_rate": "Alarm rate",
    "naive_rmse": "Naive RMSE (kWh)",
    "n": "Held-out points",
    "n_origins": "Validation origins",
    "nominal_coverage": "Nominal coverage",
    "origin_every_hours": "Origin every (h)",
    "n_dropped": "Points dropped",
}
COEFFICIENT_FIELDS = ("estimate", "std_error", "t_value", "p_value")


def _number(value: Any) -> float | None:
    """A finite number, or None (booleans and text are not metrics)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def metric_rows(versions: list[VersionRead]) -> list[dict[str, Any]]:
    """Held-out metrics as rows ``{key, label, values}`` with one value per version (None
    where a version lacks it); only scalar numeric metrics, in :data:`METRIC_ORDER`."""
    keys: set[str] = set()
    for v in versions:
        keys.update(k for k, x in v.metrics_holdout.items() if _number(x) is not None)
    ordered = [k for k in METRIC_ORDER if k in keys] + sorted(keys - set(METRIC_ORDER))
    return [
        {
            "key": key,
            "label": METRIC_LABELS.get(key, key.replace("_", " ")),
            "values": [_number(v.metrics_holdout.get(key)) for v in versions],
        }
        for key in ordered
    ]


def coefficients(report: dict[str, Any]) -> list[dict[str, Any]]:
    """A baseline's coefficient table: term, estimate, std error, t and p."""
    table = report.get("coefficients")
    if not isinstance(table, dict):
        return []
    rows = []
    for term, row in table.items():
        if isinstance(row, dict):
            rows.append({"term": str(term), **{f: _number(row.get(f)) for f in COEFFICIENT_FIELDS}})
    return rows


def ashrae_verdict(version: VersionRead) -> dict[str, Any] | None:
    """ASHRAE Guideline 14: hourly/monthly pass (None: not checked) and the figures."""
    if version.ashrae14 is None:
        return None
    summary = version.metrics_in_sample.get("summary")
    summary = summary if isinstance(summary, dict) else {}
    return {
        "hourly": version.ashrae14.get("hourly"),
        "monthly": version.ashrae14.get("monthly"),
        "hourly_cv_rmse": _number(summary.get("hourly_cv_rmse")),
        "hourly_nmbe": _number(summary.get("hourly_nmbe")),
        "monthly_reason": summary.get("monthly_reason"),
        "adj_r_squared": _number(summary.get("adj_r_squared")),
        "doe_enpi_valid": summary.get("doe_enpi_valid"),
    }


def sufficiency_verdict(report: dict[str, Any]) -> dict[str, Any] | None:
    """The data-sufficiency verdict (CalTRACK): sufficient?, span, missing share, reasons."""
    found = report.get("sufficiency")
    if not isinstance(found, dict):
        return None
    return {
        "sufficient": found.get("sufficient"),
        "verdict": found.get("verdict"),
        "method": found.get("method"),
        "span_days": _number(found.get("span_days")),
        "required_days": _number(found.get("required_days")),
        "missing_fraction": _number(found.get("missing_fraction")),
        "reasons": [str(r) for r in found.get("reasons") or []],
    }


def candidate_selection(report: dict[str, Any]) -> dict[str, Any] | None:
    """A forecaster's candidate selection: the winner and each candidate's validation scores
    (lowest validation RMSE first)."""
    selection = report.get("selection")
    if not isinstance(selection, dict):
        return None
    winner = selection.get("winner")
    table = selection.get("candidates")
    rows = []
    if isinstance(table, dict):
        for name, scores in table.items():
            scores = scores if isinstance(scores, dict) else {}
            rows.append(
                {
                    "name": str(name),
                    "chosen": name == winner,
                    "n": _number(scores.get("n")),
                    "mape": _number(scores.get("mape")),
                    "rmse": _number(scores.get("rmse")),
                    "skill": _number(scores.get("skill")),
                }
            )
    rows.sort(key=lambda r: (r["rmse"] is None, r["rmse"] or 0.0))
    return {
        "winner": winner,
        "method": selection.get("method"),
        "validation_from": selection.get("validation_from"),
        "candidates": rows,
    }


def alarm_threshold(report: dict[str, Any]) -> dict[str, Any] | None:
    """An anomaly detector's alarm threshold and how it was set."""
    found = report.get("alarm_threshold")
    if not isinstance(found, dict):
        return None
    return {
        "threshold": _number(found.get("threshold")),
        "method": found.get("method"),
        "target_alarm_rate": _number(found.get("target_alarm_rate")),
    }


def version_card(version: VersionRead) -> dict[str, Any]:
    """One version's column: identity, aliases, gate verdicts and the model's own report."""
    report = version.metrics_in_sample
    flags = report.get("flags")
    return {
        "version": version.version,
        "status": version.status,
        "aliases": version.aliases,
        "origin": version.origin,
        "name": version.name,
        "created_at": version.created_at.isoformat(),
        "created_by": version.created_by,
        "training_start": version.training_start.isoformat() if version.training_start else None,
        "training_end": version.training_end.isoformat() if version.training_end else None,
        "training_rows": version.training_rows,
        "training_job_id": version.training_job_id,
        "fit_seconds": version.fit_seconds,
        "gate": [
            {
                "rule": str(g.get("rule")),
                "passed": g.get("passed"),
                "detail": str(g.get("detail") or ""),
            }
            for g in version.gate or []
        ],
        "gate_passed": version.gate_passed,
        "failed_rules": version.failed_rules,
        "flags": [str(f) for f in flags] if isinstance(flags, list) else [],
        "coefficients": coefficients(report),
        "ashrae14": ashrae_verdict(version),
        "sufficiency": sufficiency_verdict(report),
        "selection": candidate_selection(report),
        "alarm_threshold": alarm_threshold(report),
    }


def rollback_target(history: list[AliasEvent]) -> int | None:
    """The version a rollback would return the champion to (the registry's rule: the
    champion before the current one in the alias history, rollbacks popping), or None."""
    stack: list[int] = []
    for event in history:
        if event.alias != "champion":
            continue
        if event.action == "rollback":
            if stack:
                stack.pop()
        elif event.to_version is not None:
            stack.append(event.to_version)
    return stack[-2] if len(stack) >= 2 else None


def versions_page_data(
    session: Session, machine: Machine, model_type: str, now: datetime
) -> dict[str, Any]:
    """Everything the Versions page renders (also its JSON refresh after a move)."""
    versions = registry.list_versions(session=session, machine_id=machine.id, model_type=model_type)
    history = registry.alias_history(session=session, machine_id=machine.id, model_type=model_type)
    watches = promotion.list_watches(session=session, machine_id=machine.id, model_type=model_type)
    return {
        "machine": {"id": machine.id, "name": machine.name},
        "model_type": model_type,
        "now": now.isoformat(),
        "versions": [version_card(v) for v in versions],
        "metrics": metric_rows(versions),
        "history": [e.model_dump(mode="json") for e in reversed(history)],
        "rollback_to": rollback_target(history),
        "watches": [w.model_dump(mode="json") for w in watches],
    }
