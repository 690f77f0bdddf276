"""What an A/B test hands the promotion gate (the contract between the two stages).

The A/B stage (:mod:`enms.experiments`) builds a :class:`TestEvidence` when a test completes
and calls :func:`enms.promotion.service.promote_after_test`; the gate's rules read only this,
so the promotion stage never imports the A/B stage.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class TestEvidence:
    """The verdict of one A/B test, as the gate's test rules need it."""

    test_id: int
    #: True once the test reached its planned end or an always-valid sequential decision.
    concluded: bool
    #: ``a``, ``b`` or None (inconclusive).
    winner: str | None
    n_a: int
    n_b: int
    min_samples_per_arm: int
    primary_metric: str
    #: The primary metric's difference B − A (negative: B better) and its p-value.
    difference: float | None
    p_value: float | None
    alpha: float
    #: Per guardrail metric: B's relative change against A (+0.08: 8 % worse).
    guardrails: dict[str, float | None] = field(default_factory=dict)
    guardrail_max_worse: float = 0.05
    #: Anything else worth recording with the promotion (methods, CI, the paired test).
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PromotionOutcome:
    """What :func:`enms.promotion.service.promote_after_test` did."""

    promoted: bool
    #: One line for the test's ``promotion`` column and the alert: "promoted v3: …" or
    #: "kept v2: rule 'guardrails' failed: rmse 9 % worse (at most 5 %)".
    message: str
    #: The gate's verdicts in rule order: {"rule", "passed" (True/False/None: not
    #: applicable), "detail"}.
    verdicts: list[dict[str, Any]] = field(default_factory=list)
