"""The analysis of one A/B test from its arms' scored points (pure: no database).

Owns :func:`analyse`: per-arm summaries; the arm test (:func:`enms.experiments.stats.
compare_arms`) on the primary metric's per-point loss with its CI and p-value; the always-valid
sequential p-value when the test is sequential; the sample-ratio-mismatch check against the
*configured* split, on assignment units (slots), not points, because the points of one slot
share its arm; the paired Diebold–Mariano comparison on the timestamps both versions scored;
guardrails; the sample the arm test needs and the days left at the current rate; and the
verdict with its reason.

Decision rule (:func:`decision_p`): a fixed test decides at its planned end on the arm test
at alpha. A sequential test splits alpha: it decides as soon as its always-valid p-value is
below alpha/2 with the minimum sample reached on both arms (that error rate holds under
continuous looks), and at the planned end on the fixed-horizon p at alpha/2 too; by the union
bound the false-winner rate stays ≤ alpha. A sample-ratio mismatch makes a due verdict
inconclusive: the arms are not comparable.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from enms.experiments import stats
from enms.experiments.arms import A, B, unit_of
from enms.experiments.models import ABTest
from enms.experiments.tagging import ArmFrames

INCONCLUSIVE = "inconclusive"
RUNNING = "running"
DAY = pd.Timedelta(days=1)


@dataclass(frozen=True)
class Analysis:
    """What :func:`analyse` found; ``decided`` says whether the test may complete now."""

    verdict: str  # 'a' | 'b' | 'inconclusive' | 'running'
    reason: str
    decided: bool
    p_value: float | None
    confidence: float | None
    document: dict[str, Any]


def jsonable(value: Any) -> Any:
    """Plain JSON data: numpy scalars → Python, NaN/inf → None, containers recursively."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return float(value) if math.isfinite(float(value)) else None
    return value


def _loss(test: ABTest, frame: pd.DataFrame, tariff: float | None) -> np.ndarray:
    actual = frame["actual"].to_numpy(dtype=float)
    predicted = frame["predicted"].to_numpy(dtype=float)
    price = (tariff or 0.0) if test.primary_metric == "cost" else None
    return np.asarray(stats.losses(test.primary_metric, actual, predicted, price=price))


def _units(test: ABTest, index: pd.Index) -> int:
    return len({unit_of(ts, test.slot_minutes) for ts in index})


def _summary(frame: pd.DataFrame) -> stats.ArmSummary:
    return stats.summarise(
        frame["actual"].to_numpy(dtype=float), frame["predicted"].to_numpy(dtype=float)
    )


def _as_dict(diff: stats.Difference | None) -> dict[str, Any] | None:
    return None if diff is None else asdict(diff)


def _safe(call: Any, *args: Any, **kwargs: Any) -> Any:
    """A statistic that cannot be computed on the data so far is None, not an error."""
    try:
        return call(*args, **kwargs)
    except (ValueError, ZeroDivisionError, FloatingPointError, np.linalg.LinAlgError):
        return None


def _guardrails(test: ABTest, a: stats.ArmSummary, b: stats.ArmSummary) -> dict[str, Any]:
    out: dict[str, float | None] = {}
    for name in test.guardrails:
        va, vb = getattr(a, name, None), getattr(b, name, None)
        if va is None or vb is None or not np.isfinite(va) or va == 0:
            out[name] = None
        elif name == "nmbe":  # bias: worse means further from zero
            out[name] = (abs(vb) - abs(va)) / abs(va)
        else:
            out[name] = (vb - va) / abs(va)
    return out


def _per_day(n: int, start: datetime, until: pd.Timestamp | None) -> float:
    if until is None or n == 0:
        return 0.0
    days = (until - pd.Timestamp(start)) / DAY
    return float(n / max(days, 1 / 24))


def analyse(
    test: ABTest,
    frames: ArmFrames,
    *,
    now: datetime,
    versions: tuple[int, int],
    tariff: float | None,
    power: float,
    mde: float,
    srm_alpha: float,
    sequential_min_days: int,
) -> Analysis:
    """The test's figures and verdict as of ``now`` (see the module doc)."""
    a, b = frames.arm_a, frames.arm_b
    loss_a, loss_b = _loss(test, a, tariff), _loss(test, b, tariff)
    ts_a, ts_b = pd.DatetimeIndex(a.index), pd.DatetimeIndex(b.index)
    sum_a, sum_b = _summary(a), _summary(b)
    diff = _safe(stats.compare_arms, ts_a, loss_a, ts_b, loss_b, alpha=test.alpha)
    seq_p = None
    if test.sequential:
        seq_p = _safe(
            stats.sequential_p_value,
            ts_a,
            loss_a,
            ts_b,
            loss_b,
            min_units=sequential_min_days,
            now=now,
        )
    srm = stats.srm(
        _units(test, a.index), _units(test, b.index), test.traffic_split, alpha=srm_alpha
    )
    paired_ts = pd.DatetimeIndex(frames.paired_a.index)
    paired = _safe(
        stats.diebold_mariano,
        paired_ts,
        _loss(test, frames.paired_a, tariff),
        _loss(test, frames.paired_b, tariff),
        alpha=test.alpha,
    )
    needed = _safe(
        stats.required_per_arm,
        ts_a,
        loss_a,
        ts_b,
        loss_b,
        alpha=test.alpha,
        power=power,
        mde_relative=mde,
        split=test.traffic_split,
        metric=test.primary_metric,
    )
    reached = len(a) >= test.min_samples_per_arm and len(b) >= test.min_samples_per_arm
    stamps = [pd.Timestamp(t) for t in (*ts_a[-1:], *ts_b[-1:])]
    until = max(stamps) if stamps else None
    rates = {
        A: _per_day(len(a), test.start_date, until),
        B: _per_day(len(b), test.start_date, until),
    }
    target = max(test.min_samples_per_arm, needed or 0)
    planned = test.planned_end_date
    to_end: float | None = None
    if planned is not None:
        to_end = max((planned - now).total_seconds() / 86400, 0.0)
    to_sample: float | None = 0.0
    for arm, n in ((A, len(a)), (B, len(b))):
        if n < target:
            rate = rates[arm]
            to_sample = (
                None if rate == 0 or to_sample is None else max(to_sample, (target - n) / rate)
            )
    days_left: float | None
    if test.sequential and to_sample is not None:
        days_left = to_sample if to_end is None else min(to_sample, to_end)
    else:
        days_left = to_end
    due = planned is not None and now >= planned
    p_value, level = decision_p(test, diff, seq_p, due)
    verdict, reason, decided = _decide(test, diff, p_value, level, reached, due, srm)
    document = {
        "arms": [
            {"arm": A, "version": versions[0], **asdict(sum_a), "mean_loss": _mean(loss_a)},
            {"arm": B, "version": versions[1], **asdict(sum_b), "mean_loss": _mean(loss_b)},
        ],
        "difference": _as_dict(diff),
        "sequential": None
        if not test.sequential
        else {
            "method": "always-valid p-value: mixture sequential t-test on the per-day "
            "differences of arm mean losses",
            "p_value": seq_p,
            "level": test.alpha / 2,
            "min_days": sequential_min_days,
        },
        "srm": {**srm, "units": "assignment slots", "slot_minutes": test.slot_minutes},
        "paired": _as_dict(paired),
        "guardrails": _guardrails(test, sum_a, sum_b),
        "min_sample_reached": reached,
        "needed_per_arm": needed,
        "points_per_day": rates,
        "estimated_days_left": days_left,
        "methods": {
            "arm_test": diff.method if diff is not None else "compare_arms (not enough data yet)",
            "paired": paired.method if paired is not None else "Diebold–Mariano (not enough data)",
            "srm": str(srm.get("method", "chi-square against the configured split")),
            "primary_metric": test.primary_metric,
            "decision": (
                "sequential: always-valid p at alpha/2 at every look, fixed-horizon p at "
                "alpha/2 at the planned end"
                if test.sequential
                else "fixed horizon: the arm test at alpha at the planned end"
            ),
        },
        "verdict": verdict,
        "verdict_reason": reason,
        "p_value": p_value,
        "decision_level": level,
        "confidence": None if p_value is None else 1 - p_value,
    }
    return Analysis(
        verdict, reason, decided, p_value, None if p_value is None else 1 - p_value, document
    )


def _mean(values: np.ndarray) -> float | None:
    return float(np.mean(values)) if len(values) else None


def decision_p(
    test: ABTest, diff: stats.Difference | None, seq_p: float | None, due: bool
) -> tuple[float | None, float]:
    """The p-value that decides now and the level it is compared with.

    Fixed tests: the fixed-horizon p at alpha, at the planned end only. Sequential tests
    spend alpha in two halves (a union bound keeps the false-winner rate ≤ alpha): the
    always-valid p at alpha/2 at every look, and at the planned end the fixed-horizon p at
    alpha/2 as well (the smaller of the two decides), so a clear effect that the
    conservative sequential test has not yet caught in a short test is still decided.
    """
    fixed = None if diff is None else diff.p_value
    if not test.sequential:
        return fixed, test.alpha
    level = test.alpha / 2
    if due and fixed is not None:
        return (fixed if seq_p is None else min(seq_p, fixed)), level
    return seq_p, level


def _decide(
    test: ABTest,
    diff: stats.Difference | None,
    p_value: float | None,
    level: float,
    reached: bool,
    due: bool,
    srm: dict[str, Any],
) -> tuple[str, str, bool]:
    """(verdict, reason, whether the test completes now)."""
    if due and srm.get("mismatch"):
        return INCONCLUSIVE, "sample ratio mismatch: the arms are not comparable", True
    if due and not reached:
        return (
            INCONCLUSIVE,
            f"the minimum sample ({test.min_samples_per_arm} per arm) was not reached by "
            "the planned end",
            True,
        )
    if diff is None or p_value is None:
        if due:
            return INCONCLUSIVE, "not enough scored points to compare the arms", True
        return RUNNING, "collecting data", False
    called = stats.verdict(diff, level, p_value=p_value)
    better = "B" if diff.estimate < 0 else "A"
    figures = (
        f"{test.primary_metric} B − A = {diff.estimate:.4g}, p = {p_value:.3g} at level {level:g}"
    )
    if called in (A, B) and reached and not srm.get("mismatch") and (test.sequential or due):
        return called, f"{better} better with significance ({figures})", True
    if due:
        return INCONCLUSIVE, f"no significant difference at the planned end ({figures})", True
    if not reached:
        return RUNNING, f"minimum sample not reached ({figures})", False
    return RUNNING, f"not significant yet ({figures})", False
