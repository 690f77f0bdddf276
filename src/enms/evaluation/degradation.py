"""When a metric counts as degraded: worse than the version's held-out value by a margin.

The margin is ``ENMS_MONITORING__DEGRADATION_RELATIVE`` per model type. Error metrics
(``rmse``, ``mae``, ``mape``, ``cv_rmse``) degrade when they exceed ``held_out·(1 + margin)``.
A relative margin on a bias near zero means nothing, so ``nmbe`` degrades when ``|nmbe|``
exceeds the ASHRAE Guideline 14 hourly bound (10 %). Ratios
where higher is better (``r_squared``, ``f1``, ``precision``, ``recall``, ``skill``) degrade
when they fall more than ``margin`` (absolute) below the held-out value. Metrics follow
:data:`enms.ml.metrics.METRICS` (name, unit, direction).
"""

from __future__ import annotations

from dataclasses import dataclass

from enms.ml.metrics import METRICS

NMBE_ABS_MAX = METRICS["nmbe"].thresholds["hourly_abs_max"]


@dataclass(frozen=True)
class Threshold:
    """The value past which ``metric`` is degraded, and in which direction."""

    metric: str
    value: float
    #: True: degraded above ``value``; False: degraded below it. ``nmbe`` compares |value|.
    above: bool
    held_out: float | None
    rule: str

    def degraded(self, current: float | None) -> bool | None:
        """Whether ``current`` is past the threshold (None when there is no value).

        >>> Threshold("rmse", 12.5, True, 10.0, "").degraded(13.0)
        True
        """
        if current is None:
            return None
        measured = abs(current) if self.metric == "nmbe" else current
        return measured > self.value if self.above else measured < self.value


def threshold(metric: str, held_out: float | None, margin: float) -> Threshold | None:
    """The degradation threshold of ``metric`` given its held-out value and the margin.

    >>> threshold("cv_rmse", 20.0, 0.25).value
    25.0
    >>> threshold("skill", 0.3, 0.25).value
    0.04999999999999999
    >>> threshold("nmbe", 1.2, 0.25).value
    10.0
    >>> threshold("rmse", None, 0.25) is None
    True
    """
    spec = METRICS.get(metric)
    if spec is None:
        return None
    if metric == "nmbe":
        return Threshold(
            metric, NMBE_ABS_MAX, True, held_out, "|nmbe| above the ASHRAE 14 hourly bound"
        )
    if held_out is None:
        return None
    if spec.higher_is_better:
        return Threshold(
            metric,
            held_out - margin,
            False,
            held_out,
            f"more than {margin:g} below the held-out value",
        )
    return Threshold(
        metric,
        abs(held_out) * (1.0 + margin),
        True,
        held_out,
        f"more than {100 * margin:g} % above the held-out value",
    )
