"""The promotion gate's rules: ordered, named, each a small pure function giving a verdict.

A verdict is ``{"rule", "passed", "detail"}`` with ``passed`` True, False or None (the rule
does not apply: no A/B test behind the promotion, a rule of another model type, a figure the
model could not compute, or a requirement switched off in the settings). The gate passes when
no applicable rule failed.

Rules, in order (:data:`RULES`):

1. ``test_concluded`` — the A/B test reached its planned end or an always-valid decision;
2. ``min_samples`` — each arm has ``min_samples_per_arm`` scored readings;
3. ``better_with_significance`` — B won: lower primary metric with p < alpha;
4. ``guardrails`` — no guardrail metric worse by more than ``guardrail_max_worse``;
5. ``ashrae14`` — baselines: ASHRAE Guideline 14 calibration (hourly CV(RMSE) ≤ 30 %,
   |NMBE| ≤ 10 %; monthly ≤ 15 % / 5 %, where computable) — ``ENMS_PROMOTION__REQUIRE_ASHRAE14``;
6. ``sufficiency`` — baselines: CalTRACK 2.0 data sufficiency of the training window —
   ``ENMS_PROMOTION__REQUIRE_SUFFICIENCY``; the 365-day span is waived (coverage still
   judged) for a B that won an A/B test: a retrain after a change point cannot have a year;
7. ``forecast_skill`` — forecasters: held-out skill against the weekly seasonal-naive forecast
   above ``ENMS_PROMOTION__FORECAST_MIN_SKILL``;
8. ``alarm_rate`` — detectors: held-out alarm rate at most
   ``ENMS_PROMOTION__DETECTOR_ALARM_BUDGET``.

Rules 1–4 read only :class:`~enms.promotion.evidence.TestEvidence`; 5–8 only the version's
recorded figures (:class:`Candidate`), so the gate runs at registration too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from enms.core.config_abtest import PromotionSettings
from enms.promotion.evidence import TestEvidence

Verdict = dict[str, Any]


@dataclass(frozen=True)
class Candidate:
    """The figures of a version the model-quality rules judge (as recorded at training)."""

    model_type: str
    version: int | None = None
    ashrae14: dict[str, Any] | None = None
    metrics_in_sample: dict[str, Any] = field(default_factory=dict)
    metrics_holdout: dict[str, Any] = field(default_factory=dict)


Rule = Callable[[Candidate, TestEvidence | None, PromotionSettings], Verdict]


def _verdict(rule: str, passed: bool | None, detail: str) -> Verdict:
    return {"rule": rule, "passed": passed, "detail": detail}


def _num(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _pct(value: float) -> str:
    return f"{100 * value:+.1f} %"


NO_TEST = "no A/B test judged (registration, or a promotion by hand)"


def test_concluded(c: Candidate, e: TestEvidence | None, s: PromotionSettings) -> Verdict:
    """The A/B test reached a verdict (planned end, or an always-valid sequential decision)."""
    name = "test_concluded"
    if e is None:
        return _verdict(name, None, NO_TEST)
    if e.concluded:
        return _verdict(name, True, f"A/B test {e.test_id} concluded")
    return _verdict(name, False, f"A/B test {e.test_id} has not concluded yet")


def min_samples(c: Candidate, e: TestEvidence | None, s: PromotionSettings) -> Verdict:
    """Each arm has at least the test's minimum of scored readings."""
    name = "min_samples"
    if e is None:
        return _verdict(name, None, NO_TEST)
    fewest = min(e.n_a, e.n_b)
    detail = f"arm A n={e.n_a}, arm B n={e.n_b}; at least {e.min_samples_per_arm} per arm needed"
    return _verdict(name, fewest >= e.min_samples_per_arm, detail)


def better_with_significance(c: Candidate, e: TestEvidence | None, s: PromotionSettings) -> Verdict:
    """B's primary metric is lower than A's, significantly at the test's alpha."""
    name = "better_with_significance"
    if e is None:
        return _verdict(name, None, NO_TEST)
    metric = e.primary_metric
    if e.difference is None or e.p_value is None:
        return _verdict(name, False, f"no {metric} difference with a p-value was computed")
    direction = "lower" if e.difference < 0 else "not lower"
    detail = (
        f"B's {metric} {direction} than A's by {abs(e.difference):.4g} "
        f"(p={e.p_value:.3g}, alpha {e.alpha:g}; winner: {e.winner or 'inconclusive'})"
    )
    passed = e.winner == "b" and e.difference < 0 and e.p_value < e.alpha
    return _verdict(name, passed, detail)


def guardrails(c: Candidate, e: TestEvidence | None, s: PromotionSettings) -> Verdict:
    """No guardrail metric of B is worse than A's by more than ``guardrail_max_worse``."""
    name = "guardrails"
    if e is None:
        return _verdict(name, None, NO_TEST)
    if not e.guardrails:
        return _verdict(name, None, "no guardrail metrics configured for the test")
    limit = e.guardrail_max_worse
    worse = {m: r for m, r in e.guardrails.items() if r is not None and r > limit}
    known = {m: r for m, r in e.guardrails.items() if r is not None}
    unknown = sorted(m for m, r in e.guardrails.items() if r is None)
    if not known:
        return _verdict(name, None, f"guardrails not computed: {', '.join(unknown)}")
    shown = ", ".join(f"{m} {_pct(r)}" for m, r in known.items())
    note = f"; not computed: {', '.join(unknown)}" if unknown else ""
    if worse:
        listed = ", ".join(f"{m} {100 * r:.1f} % worse" for m, r in worse.items())
        return _verdict(name, False, f"{listed} (at most {100 * limit:g} %){note}")
    return _verdict(name, True, f"B against A: {shown} (at most {100 * limit:g} % worse){note}")


def ashrae14(c: Candidate, e: TestEvidence | None, s: PromotionSettings) -> Verdict:
    """Baselines: the ASHRAE Guideline 14 calibration checks the fit recorded."""
    name = "ashrae14"
    if c.model_type != "baseline":
        return _verdict(name, None, "applies to baselines only")
    if not s.require_ashrae14:
        return _verdict(name, None, "not required (ENMS_PROMOTION__REQUIRE_ASHRAE14=false)")
    flags = c.ashrae14 or {}
    summary = c.metrics_in_sample.get("summary") or {}
    parts, results = [], []
    for scale, cv_max, nmbe_max in (("hourly", 30, 10), ("monthly", 15, 5)):
        flag = flags.get(scale)
        cv, nmbe = _num(summary.get(f"{scale}_cv_rmse")), _num(summary.get(f"{scale}_nmbe"))
        if flag is None:
            why = summary.get(f"{scale}_reason") or "not computed"
            parts.append(f"{scale}: not checked ({why})")
            continue
        results.append(bool(flag))
        figures = (
            f"CV(RMSE) {cv:.1f} % (≤ {cv_max}), NMBE {nmbe:+.1f} % (±{nmbe_max})"
            if cv is not None and nmbe is not None
            else "figures not recorded"
        )
        parts.append(f"{scale} {'passes' if flag else 'fails'}: {figures}")
    if not results:
        return _verdict(name, None, "; ".join(parts) or "the fit recorded no ASHRAE 14 check")
    return _verdict(name, all(results), "; ".join(parts))


def sufficiency(c: Candidate, e: TestEvidence | None, s: PromotionSettings) -> Verdict:
    """Baselines: CalTRACK 2.0 data sufficiency of the training window."""
    name = "sufficiency"
    if c.model_type != "baseline":
        return _verdict(name, None, "applies to baselines only")
    if not s.require_sufficiency:
        return _verdict(name, None, "not required (ENMS_PROMOTION__REQUIRE_SUFFICIENCY=false)")
    report = c.metrics_in_sample.get("sufficiency")
    if not isinstance(report, dict) or "sufficient" not in report:
        return _verdict(name, None, "the fit recorded no sufficiency report")
    method = report.get("method", "caltrack")
    if report["sufficient"]:
        return _verdict(
            name, True, f"{method}: sufficient ({_num(report.get('span_days')) or 0:.0f} days)"
        )
    if e is not None and e.winner == "b" and _coverage_met(report):
        # The 365-day span guards a savings baseline against seasons it never saw. A version
        # retrained after a change point cannot have it (the old year is another plant);
        # when it has beaten the champion on the same live readings in an A/B test, the span
        # is waived and only CalTRACK's coverage criteria still apply.
        span = _num(report.get("span_days")) or 0.0
        return _verdict(
            name,
            True,
            f"{method}: the window spans {span:.1f} days (< 365: waived, B won A/B test "
            f"{e.test_id} on live readings); coverage criteria met",
        )
    reasons = "; ".join(str(r) for r in report.get("reasons") or []) or "insufficient"
    return _verdict(name, False, f"{method}: {reasons}")


def _coverage_met(report: dict[str, Any]) -> bool:
    """CalTRACK's criteria other than the span: missing share and per-month coverage."""
    missing = _num(report.get("missing_fraction"))
    limit = _num(report.get("max_missing_fraction"))
    return (
        missing is not None
        and limit is not None
        and missing <= limit
        and not report.get("months_below_coverage")
    )


def forecast_skill(c: Candidate, e: TestEvidence | None, s: PromotionSettings) -> Verdict:
    """Forecasters: held-out skill against the weekly seasonal-naive forecast."""
    name = "forecast_skill"
    if not c.model_type.startswith("forecast_"):
        return _verdict(name, None, "applies to forecasters only")
    skill = _num(c.metrics_holdout.get("skill"))
    if skill is None:
        why = (c.metrics_holdout.get("undefined") or {}).get("skill", "not computed")
        return _verdict(name, None, f"held-out skill undefined: {why}")
    detail = (
        f"held-out skill {skill:.3f} against the weekly seasonal-naive forecast "
        f"(must exceed {s.forecast_min_skill:g})"
    )
    return _verdict(name, skill > s.forecast_min_skill, detail)


def alarm_rate(c: Candidate, e: TestEvidence | None, s: PromotionSettings) -> Verdict:
    """Detectors: held-out alarm rate within the budget."""
    name = "alarm_rate"
    if c.model_type != "anomaly":
        return _verdict(name, None, "applies to anomaly detectors only")
    rate = _num(c.metrics_holdout.get("alarm_rate"))
    if rate is None:
        why = (c.metrics_holdout.get("undefined") or {}).get("alarm_rate", "not computed")
        return _verdict(name, None, f"held-out alarm rate undefined: {why}")
    detail = f"held-out alarm rate {100 * rate:.2f} % (budget {100 * s.detector_alarm_budget:g} %)"
    return _verdict(name, rate <= s.detector_alarm_budget, detail)


RULES: tuple[Rule, ...] = (
    test_concluded,
    min_samples,
    better_with_significance,
    guardrails,
    ashrae14,
    sufficiency,
    forecast_skill,
    alarm_rate,
)
RULE_NAMES = tuple(r.__name__ for r in RULES)


def evaluate(
    candidate: Candidate, evidence: TestEvidence | None, settings: PromotionSettings
) -> list[Verdict]:
    """Every rule's verdict, in order."""
    return [rule(candidate, evidence, settings) for rule in RULES]


def passed(verdicts: list[Verdict]) -> bool:
    """No applicable rule failed."""
    return not failed(verdicts)


def failed(verdicts: list[Verdict]) -> list[Verdict]:
    """The verdicts of the rules that failed."""
    return [v for v in verdicts if v.get("passed") is False]


def explain_failures(verdicts: list[Verdict]) -> str:
    """One line: ``rule 'x' failed: …; rule 'y' failed: …``."""
    return "; ".join(f"rule {v['rule']!r} failed: {v['detail']}" for v in failed(verdicts))
