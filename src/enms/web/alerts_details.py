"""Turns an alert's ``details`` JSON into readable facts and tables for the Alerts page.

A drift alert carries the headline of its drift check (``check_id``); when that check is
still stored its full results are read too, so the page shows every test: concept-drift
detectors (statistic, threshold, direction, change point) and the data-drift tests per
driver (test, statistic, threshold, p-value, verdict, share outside the reference range).
Degradation alerts show the energy verdict and the metrics against their thresholds; A/B
test, anomaly, training and data-quality alerts their own fields. Anything else falls back
to a generic flattening — never a raw dump (the page offers the raw JSON in addition).

A view is ``{"facts": [[label, cell]], "tables": [{"title", "columns", "rows"}]}`` where a
cell is ``{"text": str}`` plus optionally ``"badge"`` (pass / fail / info: the word says
it too) or ``"href"``.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

Cell = dict[str, str]
View = dict[str, Any]


def number(value: Any) -> str:
    """A number with 4 significant digits (``—`` for none or not finite)."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if not isinstance(value, int | float) or not math.isfinite(value):
        return "—" if value is None else str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.4g}"


def instant(value: Any) -> str:
    """An ISO instant as ``YYYY-MM-DD HH:MM UTC`` (text left as it is otherwise)."""
    if not isinstance(value, str):
        return "—" if value is None else str(value)
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def text(value: Any) -> Cell:
    """A plain cell: numbers formatted, instants readable, lists joined."""
    if isinstance(value, list):
        return {"text": ", ".join(text(v)["text"] for v in value) or "—"}
    if isinstance(value, str) and len(value) >= 19 and value[4:5] == "-" and value[10:11] == "T":
        return {"text": instant(value)}
    if isinstance(value, int | float) or value is None:
        return {"text": number(value)}
    return {"text": str(value)}


def verdict(flag: Any, yes: str = "drift", no: str = "no drift") -> Cell:
    """A verdict cell: a badge with a word (and symbol), never colour alone."""
    if flag is None:
        return {"text": "undecided", "badge": "info"}
    return {"text": yes, "badge": "fail"} if flag else {"text": no, "badge": "pass"}


def link(label: str, href: str) -> Cell:
    return {"text": label, "href": href}


def _label(key: str) -> str:
    return key.replace("_", " ").replace("pct", "%").capitalize()


def _window(value: Any) -> Cell:
    if isinstance(value, dict):
        return {"text": f"{instant(value.get('start'))} → {instant(value.get('end'))}"}
    return text(value)


def _table(title: str, columns: list[str], rows: list[list[Cell]]) -> dict[str, Any]:
    return {"title": title, "columns": columns, "rows": rows}


def _concept_tests(part: dict[str, Any]) -> dict[str, Any] | None:
    tests = part.get("tests")
    if not isinstance(tests, list) or not tests:
        return None
    rows = [
        [
            text(t.get("name") or t.get("method")),
            text(t.get("statistic")),
            text(t.get("threshold")),
            verdict(t.get("verdict", t.get("drift_detected"))),
            text(t.get("direction")),
            text(t.get("change_point")),
            text(t.get("detected_at")),
            text(t.get("n")),
        ]
        for t in tests
        if isinstance(t, dict)
    ]
    columns = [
        "Test",
        "Statistic",
        "Threshold",
        "Verdict",
        "Direction",
        "Change point",
        "Detected at",
        "Days",
    ]
    return _table("Concept drift: residual detectors", columns, rows)


def _driver_tests(part: dict[str, Any]) -> dict[str, Any] | None:
    columns = part.get("columns")
    if not isinstance(columns, list) or not columns:
        return None
    rows: list[list[Cell]] = []
    for col in columns:
        if not isinstance(col, dict):
            continue
        outside = (col.get("range") or {}).get("share_outside")
        share = (
            {"text": f"{outside * 100:.1f} %"} if isinstance(outside, int | float) else text(None)
        )
        tests = [t for t in col.get("tests") or [] if isinstance(t, dict)] or [{}]
        for t in tests:
            rows.append(
                [
                    text(col.get("column")),
                    text(t.get("method")),
                    text(t.get("statistic")),
                    text(t.get("threshold")),
                    text(t.get("p_value")),
                    verdict(t.get("drift_detected")) if t else verdict(col.get("drift_detected")),
                    share,
                ]
            )
    head = ["Driver", "Test", "Statistic", "Threshold", "p-value", "Verdict", "Outside ref. range"]
    return _table("Data drift: two-sample tests per driver", head, rows)


def _headlines(details: dict[str, Any]) -> dict[str, Any] | None:
    rows = []
    for key in ("concept_drift", "data_drift"):
        part = details.get(key)
        if isinstance(part, dict) and part:
            rows.append(
                [
                    {"text": _label(key)},
                    verdict(part.get("drift_detected")),
                    text(part.get("score")),
                    text(part.get("change_point")),
                ]
            )
    if not rows:
        return None
    head = ["Part", "Verdict", "Score (0.5 = threshold)", "Change point"]
    return _table("Drift parts", head, rows)


def drift_view(details: dict[str, Any], check: dict[str, Any] | None) -> View:
    """A drift alert: its verdict and, from the stored check, every test that decided it."""
    verdict_part = details.get("verdict") or {}
    drifted = [str(p).replace("_", " ") for p in verdict_part.get("drifted") or []]
    facts: list[list[Any]] = [
        ["Drift score", text(details.get("drift_score"))],
        ["Change point", text(details.get("change_point"))],
        ["Current window", _window(details.get("window"))],
        ["Drifted", {"text": ", ".join(drifted) or "—"}],
    ]
    if verdict_part.get("reason"):
        facts.append(["Reason", text(verdict_part["reason"])])
    tables = [t for t in [_headlines(details)] if t]
    if check:
        reference = check.get("reference") or {}
        if reference:
            facts.append(["Reference", _window(reference)])
        data = check.get("data_drift") or {}
        if isinstance(data.get("reference"), dict) and data["reference"].get("description"):
            facts.append(["Data reference", text(data["reference"]["description"])])
        for table in (
            _concept_tests(check.get("concept_drift") or {}),
            _driver_tests(data),
        ):
            if table:
                tables.append(table)
    if details.get("check_id") is not None:
        facts.append(["Drift check", {"text": f"#{details['check_id']}"}])
    return {"facts": facts, "tables": tables}


def degradation_view(details: dict[str, Any]) -> View:
    """A degradation alert: the energy-grade verdict and each metric against its threshold."""
    part = details.get("degradation") or {}
    energy, performance = part.get("energy") or {}, part.get("performance") or {}
    facts: list[list[Any]] = [
        ["Change point", text(details.get("change_point"))],
        ["Dated from", text(details.get("change_point_from"))],
        ["Current window", _window(details.get("window"))],
        ["Past the margin", {"text": f"{number(details.get('ratio_to_margin'))} ×"}],
    ]
    if energy.get("applicable"):
        bias = f"{number(energy.get('nmbe'))} % (bound ±{number(energy.get('nmbe_abs_max'))} %)"
        kwh = f"{number(energy.get('actual_kwh'))} kWh / {number(energy.get('expected_kwh'))} kWh"
        excess = f"{number(energy.get('since_kwh'))} kWh ({number(energy.get('since_pct'))} %)"
        facts += [
            ["Energy verdict", verdict(energy.get("degraded"), "degraded", "within bounds")],
            ["Statement", text(energy.get("statement"))],
            ["NMBE", {"text": bias}],
            ["Actual / expected", {"text": kwh}],
            ["Excess since " + instant(energy.get("since"))[:10], {"text": excess}],
        ]
    elif energy.get("reason"):
        facts.append(["Energy verdict", text(energy["reason"])])
    tables = []
    metrics = [m for m in performance.get("metrics") or [] if isinstance(m, dict)]
    if metrics:
        rows = [
            [
                text(m.get("metric")),
                text(m.get("current")),
                text(m.get("held_out")),
                text(m.get("threshold")),
                text(m.get("rule")),
                verdict(m.get("degraded"), "degraded", "ok"),
            ]
            for m in metrics
        ]
        title = f"Performance vs held-out ({performance.get('points', 'all')} points, n = "
        title += f"{number(performance.get('n'))})"
        head = ["Metric", "Current", "Held-out", "Threshold", "Rule", "Verdict"]
        tables.append(_table(title, head, rows))
    return {"facts": facts, "tables": tables}


def ab_test_view(details: dict[str, Any]) -> View:
    """An A/B test completed: winner, significance, what the promotion did."""
    test_id = details.get("ab_test_id")
    facts: list[list[Any]] = []
    if test_id is not None:
        facts.append(["A/B test", link(f"test {test_id}", f"/ui/ab-tests#test-{test_id}")])
    facts += [
        ["Winner", text(details.get("winner"))],
        ["p-value", text(details.get("p_value"))],
        ["Confidence", text(details.get("confidence"))],
        ["Promotion", text(details.get("promotion"))],
    ]
    return {"facts": facts, "tables": []}


def generic_view(details: dict[str, Any]) -> View:
    """Any other alert: scalars as facts (nested objects one level deep), lists of objects
    as tables; ``job_id`` links the training job."""
    facts: list[list[Any]] = []
    tables: list[dict[str, Any]] = []
    for key, value in details.items():
        if key == "job_id" and isinstance(value, int):
            facts.append(["Training job", link(f"job {value}", f"/ui/training#job-{value}")])
        elif isinstance(value, dict):
            for sub, inner in value.items():
                if not isinstance(inner, dict | list):
                    facts.append([f"{_label(key)}: {sub.replace('_', ' ')}", text(inner)])
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            columns: list[str] = []
            for item in value:
                columns += [k for k in item if k not in columns]
            rows = [[text(item.get(c)) for c in columns] for item in value]
            tables.append(_table(_label(key), [_label(c) for c in columns], rows))
        elif key == "window":
            facts.append(["Window", _window(value)])
        else:
            facts.append([_label(key), text(value)])
    return {"facts": facts, "tables": tables}


def render_details(
    alert_type: str, details: dict[str, Any], check: dict[str, Any] | None = None
) -> View:
    """The readable view of an alert's details (``check``: its drift check's full results)."""
    if alert_type == "drift":
        return drift_view(details, check)
    if alert_type == "degradation" and "degradation" in details:
        return degradation_view(details)
    if alert_type == "ab_test_completed":
        return ab_test_view(details)
    return generic_view(details)
