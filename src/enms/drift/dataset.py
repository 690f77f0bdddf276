"""Dataset-level data drift: every driver column tested, drift when enough of them drift.

Owns :func:`dataset_drift` and :class:`DatasetDrift`. Each column gets the size-appropriate
test of :func:`enms.drift.two_sample.column_drift`; the dataset drifts when the share of
*checked* columns that drift is at least ``drift_share`` (Evidently's rule; default 0.5).
Columns that could not be checked (too few finite values) are listed, not counted as
"no drift". The ``drift_score`` is :func:`enms.drift.score.drift_score` over the deciding
tests of the checked columns.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from enms.drift.score import drift_score
from enms.drift.two_sample import ColumnDrift, column_drift


@dataclass(frozen=True)
class DatasetDrift:
    """Per-column verdicts and the dataset verdict (None when no column could be checked)."""

    columns: tuple[ColumnDrift, ...]
    drift_share: float
    n_checked: int
    n_drifted: int
    drift_detected: bool | None
    drift_score: float | None

    @property
    def share_drifted(self) -> float | None:
        """Drifted share of the checked columns (None when none was checked)."""
        return self.n_drifted / self.n_checked if self.n_checked else None

    @property
    def unchecked(self) -> list[str]:
        """Columns without a verdict (too few finite values)."""
        return [c.column for c in self.columns if c.drift_detected is None]


def dataset_drift(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    *,
    columns: Sequence[str] | None = None,
    drift_share: float = 0.5,
    reference_label: str = "",
    **settings: Any,
) -> DatasetDrift:
    """Test ``columns`` (default: the numeric columns both frames share) and aggregate.

    ``settings`` are passed to :func:`~enms.drift.two_sample.column_drift` (thresholds,
    ``small_sample``, ``large_method``...).

    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(3)
    >>> ref = pd.DataFrame({"temp": rng.normal(size=4000), "load": rng.normal(size=4000)})
    >>> cur = pd.DataFrame({"temp": rng.normal(1.0, size=4000), "load": rng.normal(size=4000)})
    >>> result = dataset_drift(ref, cur, drift_share=0.5)
    >>> [c.drift_detected for c in result.columns], result.drift_detected, result.n_drifted
    ([True, False], True, 1)
    """
    if not 0.0 < drift_share <= 1.0:
        raise ValueError(f"drift_share must be in (0, 1], got {drift_share}")
    if columns is None:
        numeric = reference.select_dtypes("number").columns
        columns = [c for c in numeric if c in current.columns]
    results = tuple(
        column_drift(
            reference[c].to_numpy(dtype=float),
            current[c].to_numpy(dtype=float),
            column=str(c),
            reference_label=reference_label,
            **settings,
        )
        for c in columns
    )
    checked = [r for r in results if r.drift_detected is not None]
    drifted = sum(1 for r in checked if r.drift_detected)
    return DatasetDrift(
        columns=results,
        drift_share=drift_share,
        n_checked=len(checked),
        n_drifted=drifted,
        drift_detected=(drifted / len(checked) >= drift_share) if checked else None,
        drift_score=drift_score(r.decision.score for r in checked),
    )
