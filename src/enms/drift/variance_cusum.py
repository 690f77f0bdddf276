"""Two-sided CUSUM on ``|z|`` for variance changes of a whitened residual stream.

Owns :class:`VarianceCusum`. For N(0, σ²) data ``E|z| = σ·√(2/π)`` and, at σ = 1,
``sd|z| = √(1 − 2/π) ≈ 0.603``. The detector standardises ``|z|`` by that null mean and
spread and runs Page's two-sided CUSUM with reference values halfway between the null and
the alternative ``σ² = ratio`` (upwards) or ``σ² = 1/ratio`` (downwards). ``|z|`` rather
than ``z²`` keeps one spike from dominating the sum.

Defaults: ``ratio = 2`` (variance doubling) and ``h = 20``, chosen with the same seeded ARL₀
simulation as :mod:`enms.drift.cusum` (0.046 false alarms per 1,000 whitened samples at
seed 0; h = 14 gave 0.33, h = 16 gave 0.17); ``tests/drift/test_detector_quality.py``
re-measures it.
"""

from __future__ import annotations

import math
from typing import Any

from enms.drift.cusum import TwoSidedCusum

ABS_MEAN = math.sqrt(2.0 / math.pi)
ABS_SD = math.sqrt(1.0 - 2.0 / math.pi)


class VarianceCusum(TwoSidedCusum):
    """Two-sided CUSUM for a variance change of a whitened (unit-variance) stream.

    Parameters
    ----------
    ratio
        Variance ratio worth detecting (> 1); the downward side looks for ``1/ratio``.
    h
        Alarm threshold on either CUSUM sum (in null standard deviations of ``|z|``).
    min_samples
        No verdict before this many finite samples since the last reset.

    Examples
    --------
    The standard deviation doubles the variance (× √2) at sample 500:

    >>> import numpy as np
    >>> rng = np.random.default_rng(2)
    >>> stream = np.concatenate([rng.normal(size=500), rng.normal(0, 2**0.5, size=500)])
    >>> detector = VarianceCusum()
    >>> alarms = []
    >>> for i, z in enumerate(stream):
    ...     if detector.update(z).drift_detected:
    ...         alarms.append((i, detector.change_point, detector.direction))
    >>> alarms[0]
    (604, 498, 'increase')
    """

    method = "cusum_variance"

    def __init__(self, *, ratio: float = 2.0, h: float = 20.0, min_samples: int = 30) -> None:
        if not ratio > 1.0:
            raise ValueError(f"ratio must be > 1, got {ratio}")
        self.ratio = ratio
        root = math.sqrt(ratio)
        self._k_up = ((1.0 + root) / 2.0 - 1.0) * ABS_MEAN / ABS_SD
        self._k_down = (1.0 - (1.0 + 1.0 / root) / 2.0) * ABS_MEAN / ABS_SD
        super().__init__(h=h, min_samples=min_samples)

    def increments(self, x: Any) -> tuple[Any, Any]:
        """Standardised ``|z|`` minus the upward / downward reference values."""
        s = (abs(x) - ABS_MEAN) / ABS_SD
        return s - self._k_up, -s - self._k_down

    def settings(self) -> dict[str, Any]:
        """The detector's parameters, for the verdict (CONVENTIONS #21)."""
        return {"ratio": self.ratio, **super().settings()}
