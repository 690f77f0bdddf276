"""Season / operating-mode matched reference rows for data-drift tests.

Owns :func:`matched_reference`. Comparing a January week with a whole training year flags
the heating season as drift; the fair reference is the training data from the same time of
year, or — when the training window does not cover it — from the same operating mode.
Tried in order, the first with at least ``min_rows`` rows wins:

1. ``"season"`` — reference rows whose ISO week is within ``± weeks`` of a week present in
   the current window (circular over the year, week 53 next to week 1);
2. ``"operating_mode"`` — reference rows whose temperature lies in the current window's
   5–95 % temperature band widened by ``band_margin`` and whose day type (working day or
   weekend) occurs in the current window;
3. ``"unmatched"`` — the whole reference (the answer says so).

Pure pandas on frames indexed by timezone-aware timestamps; ISO weeks and day types are
taken in ``timezone`` (the machine's local time).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd


@dataclass(frozen=True)
class MatchedReference:
    """The selected reference rows, how they were chosen, and a label for the verdict."""

    frame: pd.DataFrame
    method: str
    description: str

    @property
    def n_rows(self) -> int:
        """Rows selected."""
        return len(self.frame)


def _local(index: pd.Index, timezone: str) -> pd.DatetimeIndex:
    if not isinstance(index, pd.DatetimeIndex) or index.tz is None:
        raise ValueError("frames must be indexed by timezone-aware timestamps")
    return index.tz_convert(timezone)


def matched_reference(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    *,
    weeks: int = 2,
    min_rows: int = 500,
    temperature: str = "outdoor_temp_c",
    band_margin: float = 2.0,
    timezone: str = "UTC",
) -> MatchedReference:
    """Select the rows of ``reference`` comparable with ``current`` (see module doc).

    >>> import numpy as np, pandas as pd
    >>> idx = pd.date_range("2025-01-01", periods=365 * 24, freq="h", tz="UTC")
    >>> ref = pd.DataFrame({"outdoor_temp_c": np.zeros(len(idx))}, index=idx)
    >>> cur = ref.loc["2025-01-06":"2025-01-12"]
    >>> m = matched_reference(ref, cur, weeks=1)
    >>> m.method, m.n_rows, m.description
    ('season', 528, 'ISO weeks 1–3 (current weeks 2 ± 1)')
    """
    if weeks < 0:
        raise ValueError(f"weeks must be ≥ 0, got {weeks}")
    if current.empty:
        raise ValueError("the current window is empty")
    ref_time, cur_time = _local(reference.index, timezone), _local(current.index, timezone)
    ref_week = ref_time.isocalendar().week.to_numpy(dtype=np.int64)
    cur_weeks = np.unique(cur_time.isocalendar().week.to_numpy(dtype=np.int64))
    distance = np.abs(ref_week[:, None] - cur_weeks[None, :]) % 52
    near = (np.minimum(distance, 52 - distance) <= weeks).any(axis=1)
    if near.sum() >= min_rows:
        chosen = np.unique(ref_week[near])
        return MatchedReference(
            frame=reference[near],
            method="season",
            description=(
                f"ISO weeks {_ranges(chosen)} (current weeks {_ranges(cur_weeks)} ± {weeks})"
            ),
        )
    if temperature in reference.columns and temperature in current.columns:
        temp = current[temperature].to_numpy(dtype=float)
        temp = temp[np.isfinite(temp)]
        if len(temp):
            low, high = np.quantile(temp, [0.05, 0.95])
            low, high = float(low) - band_margin, float(high) + band_margin
            ref_temp = reference[temperature].to_numpy(dtype=float)
            weekend_now = set((cur_time.day_of_week >= 5).tolist())
            mode = np.isin(ref_time.day_of_week >= 5, list(weekend_now))
            keep = (ref_temp >= low) & (ref_temp <= high) & mode
            if keep.sum() >= min_rows:
                days = "/".join(sorted("weekend" if w else "working day" for w in weekend_now))
                return MatchedReference(
                    frame=reference[keep],
                    method="operating_mode",
                    description=f"{temperature} in [{low:.1f}, {high:.1f}], {days}",
                )
    return MatchedReference(
        frame=reference,
        method="unmatched",
        description="whole reference (too few season or operating-mode matches)",
    )


def _ranges(values: npt.NDArray[np.int64]) -> str:
    """``[1, 2, 3, 7]`` → ``"1–3, 7"``."""
    parts: list[str] = []
    start = prev = int(values[0])
    for v in [int(x) for x in values[1:]] + [None]:
        if v is not None and v == prev + 1:
            prev = v
            continue
        parts.append(str(start) if start == prev else f"{start}–{prev}")
        if v is not None:
            start = prev = v
    return ", ".join(parts)
