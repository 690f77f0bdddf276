"""Request and response documents of A/B tests (the HTTP API and ``enms abtest --json``).

:class:`ABTestStart` is the start request (every design field optional: the defaults come
from ``ENMS_AB_TEST__*``), :class:`ABTestStop` the stop request, :class:`ABTestRead` one test
as stored, :class:`ABTestResults` a test with its analysis (per-arm summaries, the arm test,
the sequential test, the sample-ratio check, the paired comparison, the sample-size figures).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from enms.core.ids import Id

Metric = Literal["mae", "rmse", "energy_kwh", "cost"]
GUARDRAIL_METRICS = ("mae", "rmse", "mape", "cv_rmse", "nmbe")


class ABTestStart(BaseModel):
    """Start a test of ``model_b_version`` (default: the challenger) against
    ``model_a_version`` (default: the champion) of one machine's model type."""

    model_config = ConfigDict(extra="forbid")

    machine_id: Id
    model_type: str
    model_a_version: Id | None = Field(None, description="Default: the champion.")
    model_b_version: Id | None = Field(
        None, description="Default: the challenger (the newest version otherwise)."
    )
    traffic_split: float | None = Field(None, gt=0, lt=1, description="Share routed to B.")
    duration_days: float | None = Field(None, gt=0, le=366)
    min_samples_per_arm: int | None = Field(None, ge=1)
    alpha: float | None = Field(None, gt=0, lt=0.5)
    primary_metric: Metric | None = None
    guardrails: list[str] | None = Field(
        None, description=f"Metrics among {', '.join(GUARDRAIL_METRICS)}."
    )
    guardrail_max_worse: float | None = Field(None, ge=0)
    sequential: bool | None = None
    slot_minutes: int | None = Field(None, ge=1, le=24 * 60)
    test_name: str | None = Field(None, max_length=200)
    notes: str | None = None
    created_by: str = Field("api", min_length=1, max_length=200)


class ABTestStop(BaseModel):
    """Stop a running test before its end (no verdict, no promotion)."""

    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1)
    actor: str = Field("api", min_length=1, max_length=200)


class ABTestRead(BaseModel):
    """One test: its design, state and (once completed) verdict."""

    id: int
    test_name: str
    machine_id: int
    machine_name: str | None = None
    model_type: str
    model_a_version: int
    model_b_version: int
    traffic_split: float
    status: str
    start_date: datetime
    planned_end_date: datetime | None
    end_date: datetime | None
    #: ``a``, ``b``, ``inconclusive`` (completed without a winner) or None (running/stopped).
    winner: str | None
    confidence: float | None
    p_value: float | None
    duration_days: float
    min_samples_per_arm: int
    alpha: float
    primary_metric: str
    guardrails: list[str]
    guardrail_max_worse: float
    sequential: bool
    slot_minutes: int
    created_by: str
    notes: str | None
    stopped_by: str | None
    stop_reason: str | None
    #: What the completion led to ("promoted v3: …", "kept v2: …").
    promotion: str | None
    analysed_at: datetime | None


class ArmRead(BaseModel):
    """One arm's scored points in the test window."""

    arm: str
    version: int
    n: int
    mae: float | None
    rmse: float | None
    mape: float | None
    cv_rmse: float | None
    nmbe: float | None
    mean_actual: float | None
    #: Mean of the primary metric's per-point loss (its basis).
    mean_loss: float | None


class ABTestResults(BaseModel):
    """A test with its analysis as of ``as_of`` (completed tests: the stored verdict)."""

    test: ABTestRead
    as_of: datetime
    window_start: datetime
    window_end: datetime
    verdict: str
    verdict_reason: str
    arms: list[ArmRead]
    #: The arm test: B − A on the primary metric's loss, CI, p-value, method and settings.
    difference: dict[str, Any] | None
    confidence: float | None
    p_value: float | None
    sequential: dict[str, Any] | None
    srm: dict[str, Any] | None
    #: Diebold–Mariano on the timestamps both versions scored.
    paired: dict[str, Any] | None
    guardrails: dict[str, float | None]
    min_sample_reached: bool
    needed_per_arm: int | None
    points_per_day: dict[str, float]
    estimated_days_left: float | None
    methods: dict[str, str]
