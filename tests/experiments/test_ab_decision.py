"""The stage's decision rule under continuous monitoring, as statistics: seeded A/A tests run
through :func:`enms.experiments.analysis.analyse` (the code ``ab_test_evaluate`` uses) with
a look every day, and the false-winner rate is counted.

Simulation: hourly readings over 14 days, both versions with the same error process — AR(1)
φ = 0.9 with a daily cycle in the error scale (×0.5 … ×1.5) and a component shared by the
two versions (both predict the same reading) — arms by ``arms_for`` at 60-minute slots,
50/50. Sequential design (always-valid p at alpha/2 at every daily look from day 7, when it
exists, and the fixed-horizon p at alpha/2 at day 14) and fixed design (one look at day 14),
alpha 0.05; 100 seeds sequential (0…99, eight looks each), 200 fixed (0…199).
Measured: 4 / 100 false winners sequential, 12 / 200 = 6.0 % fixed (acceptance: ≤ 7 %;
the fixed figure is the blocked t's own rate on this process); a B
with half the errors (MAE 50 % lower) is found by the sequential design in 34 of 40 seeds
(1000…1039; acceptance ≥ 80 %), never A. About 20 s."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd

from enms.experiments.analysis import analyse
from enms.experiments.arms import arms_for
from enms.experiments.models import ABTest
from enms.experiments.tagging import ArmFrames
from tests.experiments.ab_setup import ar1

START = datetime(2025, 3, 3, tzinfo=UTC)
DAYS = 14
SEEDS = 100


def _design(test_id: int, sequential: bool) -> ABTest:
    return ABTest(
        id=test_id, test_name="sim", machine_id=1, model_type="baseline", model_a_id=1,
        model_b_id=2, traffic_split=0.5, status="running", start_date=START,
        planned_end_date=START + timedelta(days=DAYS), duration_days=DAYS,
        min_samples_per_arm=72, alpha=0.05, primary_metric="mae", guardrails=[],
        guardrail_max_worse=0.05, sequential=sequential, slot_minutes=60,
    )  # fmt: skip


def _frames(seed: int, b_scale: float) -> tuple[pd.DatetimeIndex, pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    hours = DAYS * 24
    ts = pd.date_range(START, periods=hours, freq="h")
    scale = 1 + 0.5 * np.sin(2 * np.pi * np.arange(hours) / 24)
    actual = 100 + rng.normal(0, 1, hours)
    shared = ar1(rng, hours, 0.9, 3.0)
    err_a = scale * (shared + ar1(rng, hours, 0.9, 4.0))
    err_b = b_scale * scale * (shared + ar1(rng, hours, 0.9, 4.0))
    a = pd.DataFrame({"actual": actual, "predicted": actual - err_a}, index=ts)
    b = pd.DataFrame({"actual": actual, "predicted": actual - err_b}, index=ts)
    return ts, a, b


def _winner(seed: int, *, sequential: bool, b_scale: float) -> str | None:
    """Run the daily looks; the verdict of the first look that decides (None: none did)."""
    test = _design(seed + 1, sequential)
    ts, a, b = _frames(seed, b_scale)
    arms = arms_for(test.id, ts, 0.5, slot_minutes=60)
    # before sequential_min_days the always-valid p is None: no look there can decide
    looks = range(7, DAYS + 1) if sequential else [DAYS]
    for day in looks:
        now = START + timedelta(days=day)
        seen = ts < pd.Timestamp(now)
        frames = ArmFrames(a[seen & (arms == "a")], b[seen & (arms == "b")], a[seen], b[seen])
        found = analyse(test, frames, now=now, versions=(1, 2), tariff=None, power=0.8,
                        mde=0.1, srm_alpha=0.001, sequential_min_days=7)  # fmt: skip
        if found.decided:
            return found.verdict if found.verdict in ("a", "b") else None
    return None


def test_a_a_tests_declare_few_winners_under_daily_looks() -> None:
    for sequential, seeds in ((True, SEEDS), (False, 2 * SEEDS)):
        winners = sum(
            _winner(s, sequential=sequential, b_scale=1.0) is not None for s in range(seeds)
        )
        assert winners / seeds <= 0.07, (sequential, winners)


def test_a_clearly_better_b_is_found() -> None:
    found = [_winner(1000 + s, sequential=True, b_scale=0.5) for s in range(40)]
    assert found.count("a") == 0
    assert found.count("b") / len(found) >= 0.8
