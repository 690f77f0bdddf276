"""Concept drift on real smart-meter data: a known step injected into real noise, next to the
3-sigma rule an energy engineer would otherwise put on daily residuals, in the same run.

Data: the four hourly UK samples that ship inside the ``eemeter`` 4.1.1 wheel (Low Carbon
London electricity samples 0, 1 and 2, gas sample 0, with hourly outdoor temperature), built
into hourly frames by :mod:`benchmarks.peers.eemeter_fit` in its own virtual environment
(as ``accuracy_baseline`` does): the first 365 days are the baseline period, the rest the
reporting period. A ``BaselineModel`` with default settings is fitted on the baseline; its
residuals there are the drift check's reference.

The demo generator's residuals have the model's own structure; these have a household's.
Real data carries no ground truth, so the changes are injected: for each start day ``s``
(every 14 days of the reporting period, with 28 days before it and 30 after), the window
``[s − 28 d, s + 30 d)`` is checked twice —

* **control**: the readings as metered. An alarm here is no injected change — but not
  necessarily a false one: a household's use moves by tens of percent from month to month
  that its temperature baseline does not explain (the note gives each meter's range of
  monthly mean residuals), and both detectors see the same real changes;
* **step**: the readings from ``s`` on multiplied by ``1 + step`` (12 %, the demo's
  compressor leak, and 30 %, about one daily residual standard deviation of these meters),
  the model's expectation unchanged. Judged only where the detector raised no alarm before
  ``s`` (an alarm already standing hides the step); detected when the first alarm follows
  ``s``: within 7 and within 30 days, its delay, and for enms the change-point error.

Both detectors judge the same windows: enms' :func:`enms.drift.concept.concept_drift`
(both channels, as the service runs it: residuals inside the baseline's temperature support
against the reference, those outside it against the matched trailing hours), and the
**3-sigma rule**: the mean and standard deviation of the baseline's daily mean residuals
(local days with at least 20 hours), an alarm on the first day whose mean lies beyond
``μ ± 3σ``. ``quick``: one meter.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from benchmarks.harness import Row
from benchmarks.scenarios.accuracy_baseline import TIMEZONE, peer_cases
from enms.drift.concept import concept_drift, in_support
from enms.ml.baseline import BaselineModel

NAME = "drift_real_meters"
STEPS = (0.12, 0.30)  # the demo's compressor leak; about one daily residual sd here
BEFORE = pd.Timedelta(days=28)
AFTER = pd.Timedelta(days=30)
EVERY = pd.Timedelta(days=14)
SIGMAS = 3.0
MIN_HOURS = 20
QUICK_METER = "uk_elec_1"


@dataclass(frozen=True)
class Outcome:
    """One detector on one window: its first alarm (None: none) and change point."""

    alarm: pd.Timestamp | None
    change_point: pd.Timestamp | None = None


@dataclass(frozen=True)
class Meter:
    """A meter's baseline fit: reference residuals and the reporting period's frame."""

    name: str
    train: pd.DataFrame
    test: pd.DataFrame
    model: BaselineModel
    reference: pd.Series
    daily_mu: float
    daily_sd: float


def _frames(quick: bool) -> dict[str, pd.DataFrame]:
    """Hourly frames (energy_kwh, outdoor_temp_c, split) of the wheel's samples."""
    frames: dict[str, pd.DataFrame] = {}
    for case, raw in peer_cases([QUICK_METER] if quick else []):
        name = str(case["case"])
        if name.endswith("_hourly"):
            frames[name.removesuffix("_hourly")] = pd.DataFrame(
                {
                    "energy_kwh": raw["observed"],
                    "outdoor_temp_c": raw["temperature_c"],
                    "split": raw["split"],
                },
                index=raw.index,
            )
    return frames


def _daily_means(residuals: pd.Series) -> pd.Series:
    local = residuals.dropna().tz_convert(TIMEZONE)
    days = local.groupby(pd.DatetimeIndex(local.index).normalize())
    means = days.mean()
    return means[days.count() >= MIN_HOURS]


def _meter(name: str, frame: pd.DataFrame) -> Meter:
    data = frame.drop(columns="split")
    train = data[frame["split"] == "train"].dropna()
    test = data[frame["split"] == "test"].dropna()
    model = BaselineModel(timezone=TIMEZONE).fit(train)
    reference = model.fitted_residuals(train)
    daily = _daily_means(reference)
    return Meter(name, train, test, model, reference, float(daily.mean()), float(daily.std()))


def _ours(meter: Meter, window: pd.DataFrame) -> Outcome:
    current = meter.model.fitted_residuals(window)
    inside = in_support(meter.train, window).to_numpy()
    found = concept_drift(
        meter.reference,
        current[inside],
        timezone=TIMEZONE,
        reference_drivers=meter.train,
        current_drivers=window,
        outside=current[~inside],
    )
    if not found.drift_detected or found.detected_at is None:
        return Outcome(None)
    cp = None if found.change_point is None else pd.Timestamp(found.change_point)
    return Outcome(pd.Timestamp(found.detected_at), cp)


def _three_sigma(meter: Meter, window: pd.DataFrame) -> Outcome:
    daily = _daily_means(meter.model.fitted_residuals(window))
    beyond = daily[(daily - meter.daily_mu).abs() > SIGMAS * meter.daily_sd]
    if beyond.empty:
        return Outcome(None)
    # the rule can act at the end of the local day that crossed
    return Outcome(pd.Timestamp(beyond.index[0] + pd.Timedelta(days=1)).tz_convert("UTC"))


PEER = "3-sigma daily"
DETECTORS = {"enms": _ours, PEER: _three_sigma}


@dataclass
class Tally:
    """One detector's counts for one step size (controls: the same windows unaltered)."""

    controls: int = 0
    false_alarms: int = 0
    steps: int = 0
    pre_change: int = 0
    within_7: int = 0
    within_30: int = 0
    cp_within_1: int = 0
    delays_days: list[float] = field(default_factory=list)

    def add_control(self, outcome: Outcome) -> None:
        self.controls += 1
        self.false_alarms += outcome.alarm is not None

    def add_step(self, outcome: Outcome, start: pd.Timestamp) -> None:
        self.steps += 1
        if outcome.alarm is None:
            return
        if outcome.alarm <= start:
            self.pre_change += 1
            return
        delay = (outcome.alarm - start) / pd.Timedelta(days=1)
        self.delays_days.append(float(delay))
        self.within_7 += delay <= 7
        self.within_30 += delay <= 30
        if outcome.change_point is not None:
            self.cp_within_1 += abs(outcome.change_point - start) <= pd.Timedelta(days=1)

    @property
    def judged(self) -> int:
        """Step windows without an alarm before the step (where detection can be told)."""
        return self.steps - self.pre_change

    @property
    def median_delay(self) -> float:
        return float(np.median(self.delays_days)) if self.delays_days else float("nan")


def _starts(test: pd.DataFrame) -> list[pd.Timestamp]:
    first = test.index[0].tz_convert(TIMEZONE).normalize() + BEFORE
    last = (test.index[-1] - AFTER).tz_convert(TIMEZONE)
    return [t.tz_convert("UTC") for t in pd.date_range(first, last, freq=EVERY)]


def _level_note(meter: Meter, n_windows: int) -> str:
    """How far the metered reporting period already strays from the baseline, month by month
    (monthly mean residual, % of the baseline's mean use): real changes, not injected ones."""
    residuals = meter.model.fitted_residuals(meter.test).tz_convert(TIMEZONE)
    monthly = residuals.resample("MS").mean().dropna() / float(meter.train["energy_kwh"].mean())
    return (
        f"{meter.name}: {len(meter.train)} h baseline, {n_windows} windows, daily residual sd "
        f"{100 * meter.daily_sd / float(meter.train['energy_kwh'].mean()):.0f} % of mean use, "
        f"monthly residual mean {100 * monthly.min():+.0f} % to {100 * monthly.max():+.0f} %"
    )


def run(*, quick: bool) -> list[Row]:
    tallies = {(d, step): Tally() for d in DETECTORS for step in STEPS}
    notes: list[str] = []
    for name, frame in _frames(quick).items():
        meter = _meter(name, frame)
        starts = _starts(meter.test)
        notes.append(_level_note(meter, len(starts)))
        for start in starts:
            window = meter.test[
                (meter.test.index >= start - BEFORE) & (meter.test.index < start + AFTER)
            ]
            for detector, judge in DETECTORS.items():
                control = judge(meter, window)
                for step in STEPS:
                    stepped = window.copy()
                    after = stepped.index >= start
                    stepped.loc[after, "energy_kwh"] *= 1 + step
                    tallies[detector, step].add_control(control)
                    tallies[detector, step].add_step(judge(meter, stepped), start)
    ours, peer = tallies["enms", STEPS[0]], tallies[PEER, STEPS[0]]
    rows = [
        Row(
            NAME,
            "alarms per 58-day window of metered data (no step injected)",
            ours.false_alarms / ours.controls,
            "share of windows",
            reference_name=PEER,
            reference_value=peer.false_alarms / peer.controls,
            higher_is_better=False,
            note=f"{ours.controls} windows; " + "; ".join(notes),
        )
    ]
    for step in STEPS:
        ours, peer = tallies["enms", step], tallies[PEER, step]
        judged = (
            f"of {ours.judged} (enms) / {peer.judged} (3-sigma) windows without an alarm before"
        )
        rows += [
            Row(
                NAME,
                f"+{step:.0%} step detected within 7 days",
                ours.within_7 / max(ours.judged, 1),
                "share",
                reference_name=PEER,
                reference_value=peer.within_7 / max(peer.judged, 1),
                note=judged,
            ),
            Row(
                NAME,
                f"+{step:.0%} step detected within 30 days",
                ours.within_30 / max(ours.judged, 1),
                "share",
                reference_name=PEER,
                reference_value=peer.within_30 / max(peer.judged, 1),
                note=f"{judged}; enms change point within a day: {ours.cp_within_1}",
            ),
            Row(
                NAME,
                f"+{step:.0%} step: median delay of those detected",
                ours.median_delay,
                "days",
                reference_name=PEER,
                reference_value=peer.median_delay,
                higher_is_better=False,
                note=f"detected: enms {len(ours.delays_days)}, 3-sigma {len(peer.delays_days)}",
            ),
        ]
    return rows
