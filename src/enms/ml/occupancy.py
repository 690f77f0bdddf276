"""Occupancy of time-of-week slots for sub-daily baselines (CalTRACK hourly, TOWT model).

CalTRACK's hourly method lets the temperature response differ between *occupied* and
*unoccupied* hours of the week. A slot is occupied when the meter uses more than a
temperature-only model expects in most of its hours: fit ``energy ~ 1 + weather terms``
(no time of week, no drivers) and call a slot occupied when more than ``threshold``
(CalTRACK: 65 %) of its residuals are positive. The baseline then gives every weather term
one slope for occupied and one for unoccupied slots and keeps the split only when a nested
F-test says it explains significantly more (see :mod:`enms.ml.baseline`).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy import stats

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

THRESHOLD = 0.65


def occupied_slots(
    y: FloatArray,
    weather: FloatArray,
    groups: IntArray,
    n_groups: int,
    *,
    threshold: float = THRESHOLD,
) -> BoolArray | None:
    """Occupied flag per time-of-week slot, or ``None`` when one class would be empty.

    >>> rng = np.random.default_rng(1)
    >>> g = np.tile(np.arange(4), 50)
    >>> t = rng.uniform(0, 10, 200)
    >>> y = 2.0 * t + np.where(g < 2, 5.0, 0.0) + rng.normal(0, 0.5, 200)
    >>> occupied_slots(y, t[:, None], g, 4).tolist()
    [True, True, False, False]
    """
    x = np.column_stack([np.ones(len(y)), weather])
    beta, *_ = np.linalg.lstsq(x, y, rcond=None)
    positive = (y - x @ beta) > 0
    counts = np.bincount(groups, minlength=n_groups)
    share = np.bincount(groups, weights=positive, minlength=n_groups) / np.maximum(counts, 1)
    occupied = share > threshold
    rows_occupied = float(np.sum(counts[occupied])) / max(len(y), 1)
    if not 0.0 < rows_occupied < 1.0:
        return None
    return np.asarray(occupied, dtype=np.bool_)


def nested_f_pvalue(ssr_small: float, ssr_big: float, extra: int, dof_big: int) -> float:
    """p-value of the F-test that ``extra`` added columns explain nothing.

    >>> round(nested_f_pvalue(110.0, 100.0, 1, 100), 4)
    0.0021
    """
    if extra < 1 or dof_big < 1 or ssr_big <= 0.0:
        return 1.0
    f_stat = max(ssr_small - ssr_big, 0.0) / extra / (ssr_big / dof_big)
    return float(stats.f.sf(f_stat, extra, dof_big))
