"""Energy-grade degradation: how much more (or less) energy than expected, in kWh and percent.

Owns :func:`energy_degradation` and :class:`EnergyDegradation` (pure: pandas in, numbers and
one sentence out). An energy manager does not ask whether a residual detector fired; they
ask "how many kWh has this machine used above its baseline, since when?". Over the points
given (the drift check passes those since the change point, else of its last
``ENMS_DRIFT__CURRENT_DAYS`` days) with both an actual and an expected value
(``e = actual − expected``):

* ``cumulative_kwh = Σ e`` and ``cumulative_pct = 100·Σ e / Σ expected`` (relative to the
  baseline: "uses 12 % more than its baseline");
* ``nmbe = 100·Σ e / Σ actual`` (:func:`enms.ml.metrics.nmbe`, the ASHRAE Guideline 14
  bias, relative to the actuals), judged against ``|NMBE| ≤ nmbe_abs_max``
  (``ENMS_DRIFT__NMBE_ABS_MAX``, default the hourly bound of 10 %);
* the same sums from ``since`` (the concept-drift change point when there is one, else the
  window start) and the statement "Compressor C1 uses 12.0 % more than its baseline since
  2025-06-01" (the date in the machine's local time).

Points without an actual or an expected value are dropped and counted (``n_dropped``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from enms.ml.metrics import MetricUndefined, nmbe


@dataclass(frozen=True)
class EnergyDegradation:
    """Energy above (or below) the expected energy over a window, and its verdict."""

    n: int
    n_dropped: int
    actual_kwh: float | None
    expected_kwh: float | None
    cumulative_kwh: float | None
    cumulative_pct: float | None
    nmbe: float | None
    nmbe_abs_max: float
    #: |NMBE| above the bound; None when there was nothing to judge (``reason`` says why).
    degraded: bool | None
    since: datetime | None
    since_kwh: float | None
    since_pct: float | None
    statement: str | None
    reason: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready, with the method named."""
        out = asdict(self)
        out["since"] = self.since.isoformat() if self.since else None
        return {
            "method": "cumulative actual - expected; NMBE = 100*sum(e)/sum(actual)",
            "rule": f"|nmbe| <= {self.nmbe_abs_max:g} % (ASHRAE Guideline 14 hourly bound)",
            **out,
        }


def _pct(excess: float, base: float) -> float | None:
    return 100.0 * excess / base if abs(base) > 1e-12 else None


def energy_degradation(
    actual: pd.Series,
    expected: pd.Series,
    *,
    label: str,
    since: datetime | None = None,
    nmbe_abs_max: float = 10.0,
    timezone: str = "UTC",
) -> EnergyDegradation:
    """Cumulative excess energy of ``actual`` over ``expected`` (aligned UTC-indexed series).

    >>> idx = pd.date_range("2025-06-01", periods=48, freq="h", tz="UTC")
    >>> expected = pd.Series(100.0, index=idx)
    >>> result = energy_degradation(expected * 1.12, expected, label="Compressor C1")
    >>> round(result.cumulative_kwh, 1), round(result.cumulative_pct, 1), round(result.nmbe, 2)
    (576.0, 12.0, 10.71)
    >>> result.degraded, result.statement
    (True, 'Compressor C1 uses 12.0 % more than its baseline since 2025-06-01')
    >>> energy_degradation(expected * 0.97, expected, label="F1").degraded
    False
    """
    frame = pd.DataFrame({"actual": actual, "expected": expected})
    ok = pd.Series(np.isfinite(frame.to_numpy(dtype=float)).all(axis=1), index=frame.index)
    kept = frame[ok]
    n, dropped = len(kept), int((~ok).sum())
    empty = {
        "actual_kwh": None,
        "expected_kwh": None,
        "cumulative_kwh": None,
        "cumulative_pct": None,
        "nmbe": None,
        "degraded": None,
        "since": None,
        "since_kwh": None,
        "since_pct": None,
        "statement": None,
    }
    if not n:
        why = "no points with both an actual and an expected value in the window"
        return EnergyDegradation(
            n=0, n_dropped=dropped, nmbe_abs_max=nmbe_abs_max, reason=why, **empty
        )
    a, e = kept["actual"].to_numpy(dtype=float), kept["expected"].to_numpy(dtype=float)
    excess = float(np.sum(a - e))
    bias: float | None = None
    reason: str | None = None
    try:
        bias = nmbe(a, e)
    except MetricUndefined as exc:
        reason = exc.reason
    start = pd.Timestamp(since) if since is not None else kept.index[0]
    later = kept[kept.index >= start]
    since_kwh = float((later["actual"] - later["expected"]).sum()) if len(later) else None
    since_pct = _pct(since_kwh, float(later["expected"].sum())) if since_kwh is not None else None
    statement = None
    if since_pct is not None:
        word = "more" if since_pct >= 0 else "less"
        day = start.tz_convert(timezone).strftime("%Y-%m-%d")
        statement = f"{label} uses {abs(since_pct):.1f} % {word} than its baseline since {day}"
    return EnergyDegradation(
        n=n,
        n_dropped=dropped,
        actual_kwh=float(a.sum()),
        expected_kwh=float(e.sum()),
        cumulative_kwh=excess,
        cumulative_pct=_pct(excess, float(e.sum())),
        nmbe=bias,
        nmbe_abs_max=nmbe_abs_max,
        degraded=None if bias is None else abs(bias) > nmbe_abs_max,
        since=start.to_pydatetime(),
        since_kwh=since_kwh,
        since_pct=since_pct,
        statement=statement,
        reason=reason,
    )
