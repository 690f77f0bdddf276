"""Guarded rollback's statistics: is the new champion worse than the previous one on the same
readings? Pure (numpy/scipy/pandas); :mod:`enms.promotion.tasks` reads the log and acts.

Both versions are shadow-scored on every reading, so the comparison is *paired*: the points
of the two versions with the same target (and origin) and a known actual.

Energy models (baselines, forecasters): with ``w = rollback_worse_by``, the new champion is
rolled back when its MAE on the common points is more than ``(1 + w)`` times the previous
one's *and* significantly worse: a one-sided t-test (H0: MAE_new ≤ MAE_previous) on the
**daily log ratios** ``log(MAE_new,day / MAE_previous,day)``. Errors of consecutive readings
are strongly autocorrelated (AR(1) φ ≈ 0.9 at hourly readings is usual), which makes a test
on the points themselves far too confident (a point-level t rolls back ~4× too often in the
simulations of ``tests/promotion/test_watch_statistics.py``); within a day the correlation has
decayed (0.9²⁴ ≈ 0.08), so days are close to independent blocks, and the ratio cancels what
both versions share (the day's weather, the load level). At least :data:`MIN_DAYS` whole days
and ``rollback_min_points`` common points are needed before anything is decided.

Detectors — the alarm rate on the same readings: rolled back when it is above the budget, above
``(1 + w)`` times the previous detector's, and an exact one-sided sign test on the readings
where only one of the two alarmed (McNemar) says the new one alarms more often.

Repeated looks: the job runs every monitoring tick, but only whole days are judged (the day
of the newest point is left out until a later day begins) and only the first ``⌈D⌉`` days
after the promotion (``D = watch_days``), so a watch looks at most ``⌈D⌉ − MIN_DAYS + 1``
times with new data; each look uses ``rollback_alpha`` divided by that (Bonferroni), which
keeps the chance of rolling back a champion as good as the previous one at most
``rollback_alpha`` over the whole watch.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

MIN_DAYS = 3
METHOD_ENERGY = "one-sided t on daily log MAE ratios new/previous (paired, same readings)"
METHOD_ALARMS = "exact one-sided sign test on discordant alarms (McNemar), paired"


@dataclass(frozen=True)
class Comparison:
    """One look at a watch: the figures, and whether the new champion is worse."""

    #: collecting (not enough data yet), worse (roll back) or not_worse.
    status: str
    metric: str
    n: int
    n_days: int
    champion: float | None
    previous: float | None
    relative: float | None
    p_value: float | None
    alpha: float
    worse_by: float
    method: str
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready figures."""
        return asdict(self)

    def describe(self, champion: int, previous: int) -> str:
        """One line saying what the comparison found."""
        if self.champion is None or self.previous is None or self.relative is None:
            return f"{self.n} common readings over {self.n_days} days: {self.note}"
        what = "MAE" if self.metric == "mae" else "alarm rate"
        more = "worse" if self.relative > 0 else "better"
        p = f"p={self.p_value:.2g}" if self.p_value is not None else "p n/a"
        return (
            f"v{champion}'s {what} {self.champion:.4g} is {abs(100 * self.relative):.1f} % "
            f"{more} than v{previous}'s {self.previous:.4g} on the same {self.n} readings "
            f"({self.n_days} days; {p}, alpha per look {self.alpha:.2g}; rollback threshold "
            f"{100 * self.worse_by:g} % worse)"
        )


def paired(champion: pd.DataFrame, previous: pd.DataFrame) -> pd.DataFrame:
    """Points of both versions with the same target and origin and a known actual: columns
    ``actual, new, old`` (predictions) and ``new_flag, old_flag``, index ``ts``."""
    keep = ["origin", "predicted", "actual", "flagged"]
    a = champion.reset_index()[["ts", *keep]]
    b = previous.reset_index()[["ts", *keep]]
    both = a.merge(b, on=["ts", "origin"], suffixes=("_new", "_old"))
    both = both[both["actual_new"].notna()]
    return pd.DataFrame(
        {
            "actual": both["actual_new"].to_numpy(dtype=float),
            "new": both["predicted_new"].to_numpy(dtype=float),
            "old": both["predicted_old"].to_numpy(dtype=float),
            "new_flag": both["flagged_new"].to_numpy(),
            "old_flag": both["flagged_old"].to_numpy(),
        },
        index=pd.DatetimeIndex(both["ts"], name="ts"),
    )


def whole_days(index: pd.DatetimeIndex) -> np.ndarray:
    """Mask of the points on whole days: the day of the newest point is left out when it has
    fewer points than the median day (it is still being filled)."""
    if len(index) == 0:
        return np.zeros(0, dtype=bool)
    day = index.floor("D")
    counts = pd.Series(1, index=day).groupby(level=0).sum()
    last = day.max()
    partial = len(counts) > 1 and counts[last] < float(np.median(counts.to_numpy()))
    return np.asarray(day != last) if partial else np.ones(len(index), dtype=bool)


def first_days(pairs: pd.DataFrame, days: int | None) -> pd.DataFrame:
    """The points of the first ``days`` UTC days (all when None)."""
    if days is None or pairs.empty:
        return pairs
    day = pd.DatetimeIndex(pairs.index).floor("D")
    return pairs[day < day.min() + pd.Timedelta(days=days)]


def compare_energy(
    pairs: pd.DataFrame,
    *,
    worse_by: float,
    alpha: float,
    min_points: int,
    max_days: int | None = None,
) -> Comparison:
    """The energy models' rule (see the module docstring) on paired points (of their first
    ``max_days`` days)."""
    pairs = pairs[np.isfinite(pairs["new"]) & np.isfinite(pairs["old"])]
    pairs = first_days(pairs[whole_days(pd.DatetimeIndex(pairs.index))], max_days)
    e_new = np.abs(pairs["actual"].to_numpy() - pairs["new"].to_numpy())
    e_old = np.abs(pairs["actual"].to_numpy() - pairs["old"].to_numpy())
    days = pd.DatetimeIndex(pairs.index).floor("D")
    n, n_days = len(pairs), int(days.nunique())
    mae_new = float(e_new.mean()) if n else None
    mae_old = float(e_old.mean()) if n else None
    relative = mae_new / mae_old - 1.0 if mae_new is not None and mae_old else None
    status, p, note = "collecting", None, ""
    if n < min_points or n_days < MIN_DAYS:
        note = f"needs {min_points} common readings on {MIN_DAYS} whole days"
    else:
        daily = pd.DataFrame({"new": e_new, "old": e_old}).groupby(days).mean()
        daily = daily[(daily["new"] > 0) & (daily["old"] > 0)]
        ratio = np.log(daily["new"].to_numpy() / daily["old"].to_numpy())
        p = one_sided_t(ratio)
        worse = relative is not None and relative > worse_by and p < alpha
        status = "worse" if worse else "not_worse"
    return Comparison(
        status=status,
        metric="mae",
        n=n,
        n_days=n_days,
        champion=mae_new,
        previous=mae_old,
        relative=relative,
        p_value=p,
        alpha=alpha,
        worse_by=worse_by,
        method=METHOD_ENERGY,
        note=note,
    )


def compare_alarms(
    pairs: pd.DataFrame,
    *,
    worse_by: float,
    alpha: float,
    min_points: int,
    budget: float,
    max_days: int | None = None,
) -> Comparison:
    """The detectors' rule (see the module docstring) on paired points (of their first
    ``max_days`` days)."""
    pairs = pairs[pairs["new_flag"].notna() & pairs["old_flag"].notna()]
    pairs = first_days(pairs[whole_days(pd.DatetimeIndex(pairs.index))], max_days)
    new = pairs["new_flag"].to_numpy(dtype=bool)
    old = pairs["old_flag"].to_numpy(dtype=bool)
    n, n_days = len(pairs), int(pd.DatetimeIndex(pairs.index).floor("D").nunique())
    rate_new = float(new.mean()) if n else None
    rate_old = float(old.mean()) if n else None
    relative = rate_new / rate_old - 1.0 if rate_new is not None and rate_old else None
    only_new, only_old = int(np.sum(new & ~old)), int(np.sum(old & ~new))
    status, p = "collecting", None
    note = f"budget {100 * budget:g} %; alarms of only one: {only_new} new, {only_old} previous"
    if n < min_points or n_days < MIN_DAYS:
        note = f"needs {min_points} common readings on {MIN_DAYS} whole days"
    else:
        discordant = only_new + only_old
        p = 1.0
        if discordant:
            test = stats.binomtest(only_new, discordant, 0.5, alternative="greater")
            p = float(test.pvalue)
        assert rate_new is not None
        assert rate_old is not None
        worse = rate_new > budget and rate_new > (1 + worse_by) * rate_old and p < alpha
        status = "worse" if worse else "not_worse"
    return Comparison(
        status=status,
        metric="alarm_rate",
        n=n,
        n_days=n_days,
        champion=rate_new,
        previous=rate_old,
        relative=relative,
        p_value=p,
        alpha=alpha,
        worse_by=worse_by,
        method=METHOD_ALARMS,
        note=note,
    )


def one_sided_t(values: np.ndarray) -> float:
    """p-value of H0 mean ≤ 0 against mean > 0 (t on ``values``, df = n − 1)."""
    k = len(values)
    mean = float(np.mean(values))
    sd = float(np.std(values, ddof=1)) if k > 1 else 0.0
    if sd == 0.0:
        return 0.0 if mean > 0 else 1.0
    return float(stats.t.sf(mean / (sd / math.sqrt(k)), df=k - 1))


def judged_days(watch_days: float) -> int:
    """How many days after the promotion a watch judges: ⌈watch_days⌉."""
    return max(1, math.ceil(watch_days))


def alpha_per_look(alpha: float, watch_days: float) -> float:
    """Bonferroni over the looks with a new whole day: days MIN_DAYS … ⌈watch_days⌉."""
    return alpha / max(1, judged_days(watch_days) - MIN_DAYS + 1)
