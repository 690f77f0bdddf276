"""The result type of the A/B tests (:class:`Difference`) and the Student-t inference they share."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from scipy import stats as sps


@dataclass(frozen=True)
class Difference:
    """A test of mean loss B − mean loss A (negative: B better), with its CI and p-value.

    ``n_units`` counts what the variance is estimated over: blocks (days) for the blocked
    tests, paired points for Diebold–Mariano. ``settings`` names the method's settings (block,
    lag, degrees of freedom, alpha, dropped points …) for the results.
    """

    method: str
    estimate: float
    relative: float | None
    ci_low: float
    ci_high: float
    p_value: float
    n_a: int
    n_b: int
    n_units: int
    settings: dict[str, Any] = field(default_factory=dict)


def t_inference(estimate: float, se: float, df: float, alpha: float) -> tuple[float, float, float]:
    """``(ci_low, ci_high, p_value)`` of ``estimate`` with standard error ``se``, Student t(df).

    A zero standard error gives a point interval and p = 1 (zero estimate) or 0.

    >>> [round(x, 4) for x in t_inference(1.0, 0.5, 10, 0.05)]
    [-0.1141, 2.1141, 0.0734]
    """
    if se <= 0.0 or not math.isfinite(se):
        return estimate, estimate, (1.0 if estimate == 0.0 else 0.0)
    tcrit = float(sps.t.ppf(1.0 - alpha / 2.0, df))
    p = float(2.0 * sps.t.sf(abs(estimate / se), df))
    return estimate - tcrit * se, estimate + tcrit * se, p


def check_alpha(alpha: float) -> None:
    """Refuse a significance level outside (0, 1)."""
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")
