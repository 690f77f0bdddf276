"""The ``drift_score`` in [0, 1]: one scale for every test, 0.5 exactly at its threshold.

Owns the mapping from each test's statistic to a score and the aggregate :func:`drift_score`.

Definition. Every test ``i`` has a statistic and the threshold at which it declares drift.
Its score ``sᵢ`` is a monotone map of the statistic onto [0, 1] with ``sᵢ = 0.5`` exactly
at the threshold:

* p-value tests (KS): ``s = L / (L + L_α)`` with ``L = −ln p`` and ``L_α = −ln α``, so
  ``p = 1 → 0``, ``p = α → 0.5``, ``p → 0 → 1``; at α = 0.05, ``p = 0.0025`` (α²) scores
  0.67 and ``p = 10⁻⁶`` scores 0.82;
* distances and sequential statistics (Wasserstein, PSI, CUSUM sums against ``h``):
  ``s = d / (d + threshold)``, so ``d = 0 → 0``, ``d = threshold → 0.5``, ``d = 3·threshold
  → 0.75``.

``drift_score = max_i sᵢ`` over the tests that ran. Hence ``drift_score ≥ 0.5`` exactly
when at least one test declared drift, and the score says *how far* past (or short of) its
own threshold the most drifted test is, in a unit shared by all tests. Tests that could not
run (not enough data) do not count; with none left the score is ``None``, never 0.
"""

from __future__ import annotations

import math
from collections.abc import Iterable


def p_value_score(p: float, *, alpha: float) -> float:
    """Score of a p-value test at level ``alpha``: ``−ln p / (−ln p − ln alpha)``.

    >>> round(p_value_score(0.05, alpha=0.05), 3), p_value_score(1.0, alpha=0.05)
    (0.5, 0.0)
    """
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")
    if not p > 0.0:
        return 1.0
    evidence = max(-math.log(min(p, 1.0)), 0.0)
    return evidence / (evidence - math.log(alpha)) if evidence > 0 else 0.0


def distance_score(d: float, *, threshold: float) -> float:
    """Score of a distance against its threshold: ``d / (d + threshold)``.

    >>> distance_score(0.1, threshold=0.1), round(distance_score(0.3, threshold=0.1), 3)
    (0.5, 0.75)
    """
    if not threshold > 0.0:
        raise ValueError(f"threshold must be > 0, got {threshold}")
    if math.isinf(d):
        return 1.0
    d = max(d, 0.0)
    return d / (d + threshold)


def drift_score(scores: Iterable[float | None]) -> float | None:
    """The maximum of the tests' scores; None when no test ran (not checked ≠ no drift).

    >>> drift_score([0.1, 0.62, None]), drift_score([None])
    (0.62, None)
    """
    ran = [s for s in scores if s is not None and not math.isnan(s)]
    return max(ran) if ran else None
