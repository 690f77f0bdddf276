"""How the concept-drift thresholds were chosen: a seeded ARL₀ simulation per machine-year.

Owns :func:`yearly_false_alarm_share`, which runs the detection path of
:mod:`enms.drift.concept` (whitener fitted on a reference, whitened values clipped at
``±Z_CLIP``, the same :class:`MeanCusum` and :class:`VarianceCusum`) on seeded no-change
AR(1) streams the length of a year of hourly means, and counts the share of streams with at
least one alarm. A daily check over everything a version served since training is one
sequential run over the year (the detector's alarm time does not depend on when it is
looked at), so this share *is* the probability that a machine without a change is flagged
at least once in a year of daily checks.
"""

from __future__ import annotations

import numpy as np

from enms.drift.cusum import TwoSidedCusum
from enms.drift.synthetic import residual_streams, run_batch
from enms.drift.variance_cusum import ABS_MEAN
from enms.drift.whitening import ResidualWhitener

HOURS_PER_YEAR = 8760
REFERENCE_HOURS = 59 * 24  # the demo's first baseline: January and February


def clipped_whitened(
    whitener: ResidualWhitener, reference: np.ndarray, values: np.ndarray, z_clip: float
) -> tuple[np.ndarray, float]:
    """Whitened ``values`` limited to ``±z_clip`` (NaN stays NaN: a gap), and the tail factor.

    Heavy-tailed residuals (spikes, weather) make the reference's clipped ``|z|`` larger
    than the normal ``√(2/π)`` the variance test assumes; ``z`` is divided by that ratio
    (the tail factor, never below 1) so the reference itself would sit at the null.
    """
    z_ref = np.clip(whitener.transform(reference), -z_clip, z_clip)
    tail = max(float(np.nanmean(np.abs(z_ref))) / ABS_MEAN, 1.0)
    return np.clip(whitener.transform(values) / tail, -z_clip, z_clip), tail


def yearly_false_alarm_share(
    detectors: list[TwoSidedCusum],
    *,
    z_clip: float,
    phi: float = 0.5,
    n_streams: int = 400,
    n_reference: int = REFERENCE_HOURS,
    n_monitor: int = HOURS_PER_YEAR,
    seed: int = 0,
) -> float:
    """Share of no-change streams on which any of ``detectors`` alarms within ``n_monitor``.

    Each stream's whitener is fitted on its own ``n_reference`` values, so the share includes
    the error of estimating location, scale and φ on a two-month reference.
    """
    ref, mon = residual_streams(
        change="none",
        phi=phi,
        n_streams=n_streams,
        n_reference=n_reference,
        n_monitor=n_monitor,
        change_at=n_monitor,
        seed=seed,
    )
    z = np.stack(
        [
            clipped_whitened(ResidualWhitener().fit(r), r, m, z_clip)[0]
            for r, m in zip(ref, mon, strict=True)
        ]
    )
    flagged = np.zeros(n_streams, dtype=bool)
    for detector in detectors:
        flagged[run_batch(detector, z).stream] = True
    return float(flagged.mean())
