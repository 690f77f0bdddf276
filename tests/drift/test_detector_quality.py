"""Detection quality of whitening + CUSUM detectors on seeded synthetic residual streams.

Every figure is measured here, in the same run, on 200 seeded streams per case: a 1,000-
sample reference (the whitener is fitted on it, per stream) and 2,000 monitored samples
with the change at sample 1,000 (controls: no change, all 2,000 samples count). Both
detectors run together, as in service; an alarm of either counts.

Measured at these seeds (the assertions below leave a margin; a detector that lost its
power or its calibration fails them):

======== ===== ===== ========= ============ ======== ====================
change   φ     seed  detected  median delay cp error false alarms / 1,000
======== ===== ===== ========= ============ ======== ====================
none     0.0   11    —         —            —        0.085
none     0.5   11    —         —            —        0.085
shift    0.0   13    100 %     21.5         3        0.035 (pre-change)
shift    0.5   13    100 %     45           5        0.045 (pre-change)
ramp     0.0   12    100 %     122          53.5     0.045 (pre-change)
ramp     0.5   12    100 %     171.5        91.5     0.045 (pre-change)
variance 0.0   12    100 %     59           10       0.045 (pre-change)
variance 0.5   12    100 %     60           10       0.045 (pre-change)
======== ===== ===== ========= ============ ======== ====================

The ramp reaches 1 σ after 200 samples; its "cp error" is measured against the ramp's
start, where the signal is still near zero.

With 200 × 2,000 = 400,000 control samples, a true rate of 0.2 per 1,000 gives 80 expected
alarms (Poisson sd ≈ 9): the bound ``≤ 0.2`` is checked on a count whose noise is a tenth
of it, so passing at 0.07 is not luck.

The median delay on a 1 σ shift at φ = 0.5 (45) is above the issue's 30, and no two-sided
detector within the budget reaches 30 there: after whitening a 1 σ residual shift is a
0.58 σ shift of the innovations (1/6 nat of Kullback–Leibler information per sample).
``test_the_optimal_detector_needs_more_than_30_samples_at_phi_0_5`` measures, in the same
run, the CUSUM that is optimal for exactly this change (:func:`enms.drift.synthetic.optimal_cusum`):
the true φ, location and scale (nothing estimated), ``k`` = half the whitened shift, no
variance detector beside it, its threshold the smallest on a 0.25 grid whose controls stay
within 0.2 false alarms per 1,000 (seed 21: h = 11.75, 0.191 per 1,000). Its median delay
is 31 samples (seed 22; still 31 at h = 11.5, beyond the budget at 0.223). So ≤ 30 is
asserted on independent residuals; at φ = 0.5 the bound is 60, and ours sits within 1.5 ×
of that oracle although it estimates its parameters on 1,000 samples, runs both sides and a
variance detector, and spends 0.085 of the 0.2 (45 vs 31 samples: 1.45 ×; asserted ≤ 1.6 ×).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from enms.drift.cusum import MeanCusum
from enms.drift.synthetic import (
    evaluate,
    false_alarm_rate,
    optimal_cusum,
    residual_streams,
    run_batch,
)
from enms.drift.variance_cusum import VarianceCusum
from enms.drift.whitening import ResidualWhitener


def _detectors() -> list[MeanCusum | VarianceCusum]:
    return [MeanCusum(), VarianceCusum()]


@pytest.mark.parametrize("phi", [0.0, 0.5])
def test_no_change_controls_stay_under_the_false_alarm_budget(phi: float) -> None:
    """≤ 0.2 false alarms per 1,000 samples (measured 0.085 iid and at φ = 0.5)."""
    result = evaluate(_detectors(), change="none", phi=phi, seed=11)
    assert result.false_alarms_per_1000 <= 0.2


@pytest.mark.parametrize("phi", [0.0, 0.5])
@pytest.mark.parametrize("change", ["shift", "ramp", "variance"])
def test_each_change_type_is_detected(change: str, phi: float) -> None:
    """≥ 95 % of streams detected after the change (measured 100 % in every case)."""
    result = evaluate(_detectors(), change=change, phi=phi, seed=12)
    assert result.detection_rate >= 0.95
    assert result.false_alarms_per_1000 <= 0.2


def test_the_optimal_detector_needs_more_than_30_samples_at_phi_0_5() -> None:
    """The reference of the module docstring: the oracle CUSUM at the false-alarm budget."""
    oracle = optimal_cusum(phi=0.5)
    assert oracle.false_alarms_per_1000 <= 0.2
    assert oracle.median_delay > 30.0
    ours = evaluate(_detectors(), change="shift", phi=0.5, seed=13)
    assert ours.median_delay <= 1.6 * oracle.median_delay


@pytest.mark.parametrize(("phi", "max_delay"), [(0.0, 30.0), (0.5, 60.0)])
def test_abrupt_shift_is_found_fast_with_its_change_point(phi: float, max_delay: float) -> None:
    """Median delay ≤ 30 iid (measured 21.5), ≤ 60 at φ = 0.5 (measured 45, see module doc).

    The change-point estimate is within 10 samples of the truth in the median (measured 3
    and 5).
    """
    result = evaluate(_detectors(), change="shift", phi=phi, seed=13)
    assert result.median_delay <= max_delay
    assert result.median_change_point_error <= 10


def test_raw_autocorrelated_residuals_would_false_alarm() -> None:
    """Why whitening exists: the same CUSUM on standardised-only φ = 0.9 residuals alarms
    at well over 1 per 1,000 samples, while the whitened stream stays under 0.2."""
    ref, mon = residual_streams(
        change="none",
        phi=0.9,
        n_streams=100,
        n_reference=1000,
        n_monitor=2000,
        change_at=2000,
        seed=14,
    )
    loc = np.median(ref, axis=1, keepdims=True)
    scale = ref.std(axis=1, keepdims=True)
    raw = run_batch(MeanCusum(), (mon - loc) / scale)
    assert 1000.0 * len(raw.at) / mon.size > 1.0
    assert false_alarm_rate(MeanCusum(), phi=0.9, n_streams=100, n_samples=2000) <= 0.2


@pytest.mark.parametrize("detector", [MeanCusum(), VarianceCusum()])
def test_scalar_updates_match_the_batch_runner(detector: MeanCusum | VarianceCusum) -> None:
    """The figures above come from the batch runner; it must equal the scalar detector."""
    ref, mon = residual_streams(
        change="shift",
        phi=0.5,
        n_streams=3,
        n_reference=500,
        n_monitor=1500,
        change_at=700,
        seed=15,
        magnitude=1.5,
    )
    z = np.stack([ResidualWhitener().fit(r).transform(m) for r, m in zip(ref, mon, strict=True)])
    batch = run_batch(detector, z)
    scalar = []
    for s in range(len(z)):
        detector.reset()
        detector.n_seen = 0
        for t, value in enumerate(z[s]):
            if detector.update(value).drift_detected:
                assert detector.change_point is not None
                scalar.append((s, t, detector.change_point))
    assert len(scalar) > 0
    batched = sorted(
        zip(batch.stream.tolist(), batch.at.tolist(), batch.change_point.tolist(), strict=True)
    )
    assert sorted(scalar) == batched


def test_no_verdict_before_min_samples_and_gaps_are_counted() -> None:
    detector = MeanCusum(min_samples=30)
    for _ in range(29):
        assert not detector.update(10.0).drift_detected
    detector.update(math.nan)
    assert detector.n_dropped == 1
    assert not detector.drift_detected
    assert detector.update(10.0).drift_detected
    assert detector.change_point == 0
    assert detector.direction == "increase"
    assert detector.settings() == {"k": 0.25, "h": 18.0, "min_samples": 30}
    # The alarm is read-only and the detector restarts on the next value.
    assert not detector.update(0.0).drift_detected
    assert detector.n == 1


def test_variance_decrease_is_reported_as_such() -> None:
    rng = np.random.default_rng(16)
    detector = VarianceCusum()
    for i, z in enumerate(np.concatenate([rng.normal(size=300), rng.normal(0, 0.3, 700)])):
        if detector.update(z).drift_detected:
            assert i >= 300
            assert detector.direction == "decrease"
            return
    pytest.fail("variance drop not detected")
