"""Are there enough readings to train a model type? Answered before a job is queued.

Each model type documents what its ``fit`` refuses to work without (see the estimators in
:mod:`enms.ml`); :data:`MINIMUMS` restates those numbers without importing the estimators
(a test keeps them equal). A training job first fits on the window minus its held-out tail
(``ENMS_TRAINING__HOLDOUT_FRACTION``), so the window itself must hold correspondingly more.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from enms.core.errors import InsufficientReadings


@dataclass(frozen=True)
class Minimum:
    """What one fit of a model type needs: complete readings, and the days they span."""

    readings: int
    days: float
    why: str


#: baseline: ``MIN_ROWS`` readings over ``min_days``; anomaly: a calibration tail
#: (``calibration_fraction`` of the fit) of ``MIN_CALIBRATION`` readings, and its internal
#: baseline's 14 days in the rest; forecasters: ``MIN_FIT + MIN_VALIDATION`` of
#: :mod:`enms.ml.forecast_base` (two weeks to fit weekly seasonality, one to choose the model).
MINIMUMS: dict[str, Minimum] = {
    "baseline": Minimum(30, 14.0, "30 readings over 14 days"),
    "anomaly": Minimum(
        200, 14.0 / 0.75, "a 50-reading calibration tail and 14 days for its internal baseline"
    ),
    "forecast_arima": Minimum(2, 21.0, "14 days to learn weekly seasonality and 7 to validate"),
    "forecast_prophet": Minimum(2, 21.0, "14 days to learn weekly seasonality and 7 to validate"),
}


def minimum_for(model_type: str, hyperparameters: dict[str, Any] | None = None) -> Minimum:
    """The minimum of ``model_type``, with the hyperparameters that move it applied.

    >>> minimum_for("baseline", {"min_days": 7}).days
    7.0
    >>> minimum_for("anomaly", {"calibration_fraction": 0.5}).readings
    100
    """
    base = MINIMUMS[model_type]
    params = hyperparameters or {}
    if model_type == "baseline" and isinstance(params.get("min_days"), int | float):
        return Minimum(base.readings, float(params["min_days"]), base.why)
    if model_type == "anomaly" and isinstance(params.get("calibration_fraction"), int | float):
        fraction = float(params["calibration_fraction"])
        if 0.0 < fraction < 1.0:
            return Minimum(int(-(-50 // fraction)), 14.0 / (1.0 - fraction), base.why)
    return base


def check(
    *,
    machine_name: str,
    model_type: str,
    n: int,
    first: datetime | None,
    last: datetime | None,
    holdout_fraction: float,
    hyperparameters: dict[str, Any] | None = None,
) -> InsufficientReadings | None:
    """The refusal (saying what is missing) when ``n`` readings from ``first`` to ``last``
    cannot train ``model_type``; None when they can."""
    need = minimum_for(model_type, hyperparameters)
    keep = 1.0 - holdout_fraction
    need_n = int(-(-need.readings // keep))
    need_days = need.days / keep
    span = (last - first).total_seconds() / 86400 if first and last and n > 1 else 0.0
    days = span * n / (n - 1) if n > 1 else 0.0  # the last reading covers an interval too
    if n >= need_n and days >= need_days:
        return None
    return InsufficientReadings(
        f"machine {machine_name!r} has {n:,} readings over {days:.1f} days in the training "
        f"window; {model_type} needs at least {need_n:,} readings over {need_days:.1f} days "
        f"({need.why} for its fit, and the last {holdout_fraction:.0%} of the window is held "
        "out for validation): import more readings or widen the window",
        details={
            "model_type": model_type,
            "readings": n,
            "days": round(days, 2),
            "needed_readings": need_n,
            "needed_days": round(need_days, 2),
        },
    )
