"""Settings groups of closing the loop: A/B tests and the promotion policy.

Part of the one settings tree of :mod:`enms.core.config` (nested as ``Settings.ab_test`` and
``Settings.promotion``); kept apart so neither module grows past a screenful of groups.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

MODEL_TYPES = ("baseline", "anomaly", "forecast_arima", "forecast_prophet")


def _per_type(baseline: bool, anomaly: bool, forecast: bool) -> dict[str, bool]:
    return {
        "baseline": baseline,
        "anomaly": anomaly,
        "forecast_arima": forecast,
        "forecast_prophet": forecast,
    }


class ABTestSettings(BaseModel):
    """Defaults of A/B tests between two versions (``ENMS_AB_TEST__*``)."""

    duration_days: float = Field(14, gt=0, description="Planned length of a test.")
    min_samples_per_arm: int = Field(
        300, ge=1, description="Scored readings each arm needs before a verdict."
    )
    alpha: float = Field(0.05, gt=0, lt=0.5, description="Significance level of the verdict.")
    power: float = Field(
        0.8, gt=0, lt=1, description="Power the needed sample size is computed for."
    )
    minimum_detectable_effect: float = Field(
        0.10,
        gt=0,
        lt=1,
        description="Relative difference of the primary metric the needed sample size is "
        "computed to detect (0.10: B's MAE 10 % lower).",
    )
    traffic_split: float = Field(0.5, gt=0, lt=1, description="Share routed to B.")
    slot_minutes: int = Field(
        60,
        ge=1,
        description="Assignment unit without a caller key: readings of one slot of this many "
        "minutes go to the same arm.",
    )
    sequential: bool = Field(
        True,
        description="Decide as soon as an always-valid sequential test allows (its error "
        "rate holds under continuous monitoring); false: the verdict comes at the planned end.",
    )
    primary_metric: Literal["mae", "rmse", "energy_kwh", "cost"] = Field(
        "mae", description="What 'better' means."
    )
    guardrails: list[str] = Field(
        default_factory=lambda: ["rmse"],
        description="Metrics B may not make worse by more than guardrail_max_worse. JSON list.",
    )
    guardrail_max_worse: float = Field(
        0.05, ge=0, description="Largest relative worsening of a guardrail metric allowed."
    )
    srm_alpha: float = Field(
        0.001,
        gt=0,
        lt=0.5,
        description="A sample-ratio-mismatch test (chi-square against the configured split) "
        "below this p-value flags the test.",
    )
    auto_start_after_retrain: dict[str, bool] = Field(
        default_factory=lambda: _per_type(True, False, True),
        description="Per model type: a challenger an automatic retrain produced is tested "
        "against the champion in an A/B test started by enms.",
    )
    auto_duration_days: float = Field(
        7, gt=0, description="Planned length of the tests enms starts itself."
    )
    auto_min_samples_per_arm: int = Field(
        72,
        ge=1,
        description="Scored readings each arm of a test enms started itself needs before a "
        "verdict (smaller than min_samples_per_arm so the always-valid sequential test can "
        "conclude within days on a clear improvement).",
    )
    sequential_min_days: int = Field(
        7,
        ge=2,
        description="Whole days of data (blocks) the sequential test needs before it may "
        "decide early.",
    )


class PromotionSettings(BaseModel):
    """The promotion gate and guarded rollback (``ENMS_PROMOTION__*``)."""

    auto_promote: dict[str, bool] = Field(
        default_factory=lambda: _per_type(True, False, True),
        description="Per model type: the winner of a completed A/B test is promoted when "
        "every rule of the gate passes.",
    )
    require_ashrae14: bool = Field(
        True, description="Baselines must meet ASHRAE Guideline 14 (CV(RMSE), NMBE)."
    )
    require_sufficiency: bool = Field(
        True, description="Baselines must meet CalTRACK data sufficiency."
    )
    forecast_min_skill: float = Field(
        0.0,
        description="Forecasters' skill against the weekly seasonal-naive forecast must "
        "exceed this.",
    )
    detector_alarm_budget: float = Field(
        0.05, gt=0, lt=1, description="Detectors' alarm rate on normal readings at most this."
    )
    watch_days: float = Field(
        7, gt=0, description="After a promotion, the new champion is watched this long."
    )
    rollback_worse_by: float = Field(
        0.10,
        gt=0,
        description="Roll back when the new champion's MAE on the same readings is worse "
        "than the previous champion's by more than this fraction (and significantly).",
    )
    rollback_min_points: int = Field(
        96, ge=1, description="Common scored readings the watch needs before it can decide."
    )
    rollback_alpha: float = Field(
        0.05,
        gt=0,
        lt=0.5,
        description="Chance of rolling back a champion exactly rollback_worse_by worse, over "
        "the whole watch (split over its daily looks).",
    )
