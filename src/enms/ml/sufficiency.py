"""CalTRACK data sufficiency of a baseline's training window, as a verdict with its numbers.

CalTRACK 2.0 (and OpenEEmeter's baseline sufficiency criteria) asks of a baseline period:

* it spans 365 days (a full year, so every season is in it);
* at most 10 % of its intervals are missing (an interval counts as present when the target
  and every driver the model uses are there);
* every calendar month in it has at least 90 % of its intervals (a month only partly inside
  the window is judged on its part inside the window).

The verdict never stops a fit: a model that can be estimated is estimated, and the version
carries ``"insufficient_data"`` in its flags so a promotion gate can refuse it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from enms.ml.localtime import local_months

METHOD = "caltrack_2.0"
REQUIRED_DAYS = 365.0
MAX_MISSING_FRACTION = 0.10
MIN_MONTH_COVERAGE = 0.90


def sufficiency(
    *,
    present: pd.DatetimeIndex,
    start: pd.Timestamp,
    end: pd.Timestamp,
    interval: pd.Timedelta,
    timezone: str,
) -> dict[str, Any]:
    """The ``sufficiency`` report for rows ``present`` (complete, UTC) in ``[start, end)``.

    ``start`` is the first timestamp of the window and ``end`` the last plus one interval.

    >>> idx = pd.date_range("2025-01-01", "2025-12-31 23:00", freq="h", tz="UTC")
    >>> end = idx[-1] + pd.Timedelta("1h")
    >>> rep = sufficiency(present=idx[idx.month != 2], start=idx[0], end=end,
    ...                   interval=pd.Timedelta("1h"), timezone="UTC")
    >>> rep["sufficient"], rep["months_below_coverage"], round(rep["missing_fraction"], 3)
    (False, ['2025-02'], 0.077)
    """
    span_days = (end - start) / pd.Timedelta(days=1)
    expected = pd.date_range(start, end, freq=interval, inclusive="left")
    n_expected = max(len(expected), 1)
    n_present = len(present)  # unique timestamps inside the window (a validated frame)
    missing = 1.0 - min(n_present / n_expected, 1.0)
    exp_key, exp_counts = np.unique(local_months(expected, timezone), return_counts=True)
    got_key, got_counts = np.unique(local_months(present, timezone), return_counts=True)
    got = dict(zip(got_key.tolist(), got_counts.tolist(), strict=True))
    coverage = {
        f"{k // 12}-{k % 12 + 1:02d}": min(got.get(k, 0) / c, 1.0)
        for k, c in zip(exp_key.tolist(), exp_counts.tolist(), strict=True)
    }
    below = [m for m, c in coverage.items() if c < MIN_MONTH_COVERAGE]
    reasons = []
    if span_days < REQUIRED_DAYS - 1e-9:
        reasons.append(f"the window spans {span_days:.1f} days; CalTRACK needs {REQUIRED_DAYS:g}")
    if missing > MAX_MISSING_FRACTION:
        reasons.append(
            f"{100 * missing:.1f} % of intervals are missing; at most "
            f"{100 * MAX_MISSING_FRACTION:g} % may be"
        )
    if below:
        reasons.append(
            f"month(s) {', '.join(below)} have less than {100 * MIN_MONTH_COVERAGE:g} % of "
            "their intervals"
        )
    return {
        "sufficient": not reasons,
        "verdict": "sufficient" if not reasons else "insufficient",
        "method": METHOD,
        "span_days": float(span_days),
        "required_days": REQUIRED_DAYS,
        "n_expected": len(expected),
        "n_present": n_present,
        "missing_fraction": float(missing),
        "max_missing_fraction": MAX_MISSING_FRACTION,
        "month_coverage": coverage,
        "min_month_coverage": MIN_MONTH_COVERAGE,
        "months_below_coverage": below,
        "reasons": reasons,
    }
