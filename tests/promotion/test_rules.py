"""The gate's rules one by one: order, applicability (None), pass and fail with the figures,
settings that switch a requirement off; the detectors' watch rule."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from enms.core.config_abtest import PromotionSettings
from enms.promotion import evidence, rules
from enms.promotion.watch import compare_alarms

POLICY = PromotionSettings()
EVIDENCE = evidence.TestEvidence(
    test_id=3,
    concluded=True,
    winner="b",
    n_a=500,
    n_b=480,
    min_samples_per_arm=300,
    primary_metric="mae",
    difference=-0.4,
    p_value=0.01,
    alpha=0.05,
    guardrails={"rmse": 0.02},
)


def _by_rule(
    candidate: rules.Candidate, ev: evidence.TestEvidence | None = None
) -> dict[str, dict[str, Any]]:
    return {v["rule"]: v for v in rules.evaluate(candidate, ev, POLICY)}


def test_rules_come_in_order_and_apply_by_model_type() -> None:
    forecaster = rules.Candidate("forecast_arima", metrics_holdout={"skill": 0.12})
    verdicts = rules.evaluate(forecaster, None, POLICY)
    assert [v["rule"] for v in verdicts] == list(rules.RULE_NAMES)
    assert [v["passed"] for v in verdicts] == [None] * 6 + [True, None]
    assert verdicts[6]["detail"] == (
        "held-out skill 0.120 against the weekly seasonal-naive forecast (must exceed 0)"
    )
    assert rules.passed(verdicts)


def test_test_rules_read_the_evidence() -> None:
    c = rules.Candidate("forecast_arima", metrics_holdout={"skill": 0.1})
    ok = _by_rule(c, EVIDENCE)
    assert all(ok[r]["passed"] for r in rules.RULE_NAMES[:4])
    running = _by_rule(c, replace(EVIDENCE, concluded=False, n_b=120))
    assert running["test_concluded"] == {
        "rule": "test_concluded",
        "passed": False,
        "detail": "A/B test 3 has not concluded yet",
    }
    assert running["min_samples"]["passed"] is False
    assert running["min_samples"]["detail"].startswith("arm A n=500, arm B n=120")
    a_won = _by_rule(c, replace(EVIDENCE, winner="a", difference=0.3))
    assert a_won["better_with_significance"]["passed"] is False
    assert "not lower" in a_won["better_with_significance"]["detail"]
    no_figures = _by_rule(c, replace(EVIDENCE, p_value=None))
    assert no_figures["better_with_significance"]["passed"] is False


def test_guardrails_unknown_is_not_a_failure_but_is_named() -> None:
    c = rules.Candidate("forecast_arima", metrics_holdout={"skill": 0.1})
    unknown = _by_rule(c, replace(EVIDENCE, guardrails={"rmse": None}))["guardrails"]
    assert (unknown["passed"], unknown["detail"]) == (None, "guardrails not computed: rmse")
    partly = _by_rule(c, replace(EVIDENCE, guardrails={"rmse": 0.01, "cost": None}))
    assert partly["guardrails"]["passed"] is True
    assert partly["guardrails"]["detail"].endswith("; not computed: cost")
    none = _by_rule(c, replace(EVIDENCE, guardrails={}))["guardrails"]
    assert none["passed"] is None


def test_baseline_rules_use_the_recorded_fit() -> None:
    baseline = rules.Candidate(
        "baseline",
        ashrae14={"hourly": False, "monthly": None},
        metrics_in_sample={
            "summary": {"hourly_cv_rmse": 34.2, "hourly_nmbe": -1.5, "monthly_reason": "2 months"},
            "sufficiency": {"sufficient": True, "method": "caltrack_2.0", "span_days": 365.0},
        },
    )
    verdicts = _by_rule(baseline)
    assert verdicts["ashrae14"] == {
        "rule": "ashrae14",
        "passed": False,
        "detail": "hourly fails: CV(RMSE) 34.2 % (≤ 30), NMBE -1.5 % (±10); "
        "monthly: not checked (2 months)",
    }
    assert verdicts["sufficiency"]["passed"] is True
    assert rules.explain_failures(list(verdicts.values())).startswith(
        "rule 'ashrae14' failed: hourly fails"
    )
    relaxed = PromotionSettings(require_ashrae14=False, require_sufficiency=False)
    loose = {v["rule"]: v for v in rules.evaluate(baseline, None, relaxed)}
    assert loose["ashrae14"]["passed"] is None
    assert "REQUIRE_ASHRAE14=false" in loose["ashrae14"]["detail"]
    assert rules.passed(list(loose.values()))
    unchecked = _by_rule(rules.Candidate("baseline"))
    assert unchecked["ashrae14"]["passed"] is None
    assert unchecked["sufficiency"]["detail"] == "the fit recorded no sufficiency report"


def test_detectors_alarm_rate_budget_and_undefined_skill() -> None:
    noisy = rules.Candidate("anomaly", metrics_holdout={"alarm_rate": 0.08})
    verdict = _by_rule(noisy)["alarm_rate"]
    assert (verdict["passed"], verdict["detail"]) == (
        False,
        "held-out alarm rate 8.00 % (budget 5 %)",
    )
    undefined = rules.Candidate(
        "forecast_prophet",
        metrics_holdout={"skill": None, "undefined": {"skill": "reference forecast is perfect"}},
    )
    skill = _by_rule(undefined)["forecast_skill"]
    assert skill["passed"] is None
    assert skill["detail"].endswith("reference forecast is perfect")


def test_a_detector_alarming_much_more_often_is_rolled_back() -> None:
    """Seeded: the previous detector alarms on 2 % of readings, the new one on those and 6 %
    more; 7 days hourly (168 readings)."""
    rng = np.random.default_rng(11)
    index = pd.date_range("2026-03-02", periods=168, freq="h", tz="UTC", name="ts")
    old = rng.random(168) < 0.02
    new = old | (rng.random(168) < 0.06)
    pairs = pd.DataFrame(
        {"actual": 1.0, "new": 1.0, "old": 1.0, "new_flag": new, "old_flag": old}, index=index
    )
    look = compare_alarms(pairs, worse_by=0.1, alpha=0.01, min_points=96, budget=0.05)
    assert look.status == "worse"
    assert look.p_value is not None
    assert look.p_value < 0.01
    same = compare_alarms(
        pairs.assign(new_flag=old), worse_by=0.1, alpha=0.01, min_points=96, budget=0.05
    )
    assert same.status == "not_worse"
    early = compare_alarms(pairs.iloc[:48], worse_by=0.1, alpha=0.01, min_points=96, budget=0.05)
    assert early.status == "collecting"


def _short_window(missing: float, below: list[str]) -> rules.Candidate:
    report = {
        "sufficient": False,
        "method": "caltrack_2.0",
        "span_days": 18.0,
        "missing_fraction": missing,
        "max_missing_fraction": 0.10,
        "months_below_coverage": below,
        "reasons": ["the window spans 18.0 days; CalTRACK needs 365"],
    }
    return rules.Candidate("baseline", metrics_in_sample={"sufficiency": report})


def test_the_span_is_waived_only_for_a_b_that_won_its_test_with_full_coverage() -> None:
    """A retrain after a change point cannot span a year: the 365-day criterion is waived for
    a B that beat the champion on live readings; coverage still decides, and without a test
    (a first version, a manual promotion) the full CalTRACK rule applies."""
    retrained = _short_window(0.02, [])
    assert _by_rule(retrained)["sufficiency"]["passed"] is False
    won = _by_rule(retrained, EVIDENCE)["sufficiency"]
    assert won["passed"] is True
    assert "waived, B won A/B test 3" in won["detail"]
    lost = _by_rule(retrained, replace(EVIDENCE, winner=None))["sufficiency"]
    assert lost["passed"] is False
    gappy = _by_rule(_short_window(0.15, []), EVIDENCE)["sufficiency"]
    assert gappy["passed"] is False
    thin_month = _by_rule(_short_window(0.02, ["2025-06"]), EVIDENCE)["sufficiency"]
    assert thin_month["passed"] is False
