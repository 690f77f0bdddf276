"""Concept drift on a model's residuals (contract stub; implemented on the concept branch).

:func:`concept_drift` takes the residuals (``actual - predicted``, kWh, UTC-indexed) of a
reference period and of the monitored period and answers whether the relation between the
drivers and the energy changed, and when.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pandas as pd


@dataclass(frozen=True)
class ConceptDrift:
    """The verdict of the residual detectors over the monitored period."""

    #: None when there was too little data to decide (``reason`` says why).
    drift_detected: bool | None
    #: Estimated start of the change (UTC), and the first instant the alarm was raised.
    change_point: datetime | None
    detected_at: datetime | None
    #: One entry per test: name, method, settings, statistic, threshold, n, verdict,
    #: change_point (ISO) — every verdict names its method, settings and sample sizes.
    tests: list[dict[str, Any]] = field(default_factory=list)
    n_reference: int = 0
    n_current: int = 0
    #: In [0, 1], 0.5 exactly at the alarm threshold (see :mod:`enms.drift.score`).
    score: float | None = None
    reason: str | None = None


def concept_drift(
    reference: pd.Series, current: pd.Series, *, timezone: str = "UTC"
) -> ConceptDrift:
    """Residual-based concept drift of ``current`` against ``reference``."""
    raise NotImplementedError


def in_support(reference: pd.DataFrame, current: pd.DataFrame) -> pd.Series:
    """Rows of ``current`` whose drivers lie within the range seen in ``reference``."""
    raise NotImplementedError
