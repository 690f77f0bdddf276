"""The promotion gate applied to a version: at registration, and at every promotion.

:func:`registration_gate` is what the training runner records on a new version (``gate``,
``gate_passed``); :func:`judge` is what a promotion applies (the same model-quality rules,
plus the A/B test's rules when a test is behind it). Pure: reads only the figures given.
"""

from __future__ import annotations

from typing import Any, Protocol

from enms.core.config_abtest import PromotionSettings
from enms.promotion.evidence import TestEvidence
from enms.promotion.rules import Candidate, Verdict, evaluate, passed


class VersionFigures(Protocol):
    """What a version (a registry row, or a version about to be registered) records."""

    @property
    def model_type(self) -> str: ...
    @property
    def ashrae14(self) -> dict[str, Any] | None: ...
    @property
    def metrics_in_sample(self) -> dict[str, Any]: ...
    @property
    def metrics_holdout(self) -> dict[str, Any]: ...


def candidate_of(version: VersionFigures, number: int | None = None) -> Candidate:
    """The figures the rules judge, copied from a version."""
    return Candidate(
        model_type=version.model_type,
        version=number,
        ashrae14=dict(version.ashrae14) if version.ashrae14 else None,
        metrics_in_sample=dict(version.metrics_in_sample or {}),
        metrics_holdout=dict(version.metrics_holdout or {}),
    )


def registration_gate(
    version: VersionFigures, settings: PromotionSettings
) -> tuple[list[Verdict], bool]:
    """The verdicts a new version is registered with (no A/B test: those rules are n/a),
    and whether it passed."""
    verdicts = evaluate(candidate_of(version), None, settings)
    return verdicts, passed(verdicts)


def judge(
    version: VersionFigures,
    settings: PromotionSettings,
    evidence: TestEvidence | None = None,
    number: int | None = None,
) -> tuple[list[Verdict], bool]:
    """The verdicts of promoting ``version`` (with the A/B test's evidence, if any)."""
    verdicts = evaluate(candidate_of(version, number), evidence, settings)
    return verdicts, passed(verdicts)
