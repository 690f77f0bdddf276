"""The demo's replay: the rest of the demo year arrives day by day, as if in accelerated real time.

``enms demo`` builds its database with the first two months only and trains the first
versions on them; then, in a background thread of the demo server, :class:`Replay` takes the
remaining readings of the (deterministic, regenerated) plant one UTC day at a time. For each
day it imports that day's readings of every machine through the readings service (one
transaction; an upsert, so re-running a day writes nothing twice), then runs the periodic
monitoring tasks in the contract's order — ``score_predictions``, ``performance_evaluation``,
``drift_checks`` — with a :class:`ReplayClock` set to the end of the day, so the prediction
log, the metrics over time and the drift verdicts fill as they would have in real time.

A task that raises is reported once per task name and the replay goes on. Settings:
``ENMS_DEMO__REPLAY`` (on/off; ``enms demo --no-replay``) and
``ENMS_DEMO__REPLAY_SECONDS_PER_DAY`` (the pace).
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol

import pandas as pd
from sqlalchemy import func, select

from enms.core.clock import FrozenClock
from enms.core.config import Settings
from enms.core.db import SessionFactory, session_scope
from enms.core.meta import InstanceInfo
from enms.demo.service import import_frame
from enms.demo.status import ab_tests_now, alerts_now, drift_now
from enms.predictions.models import PredictionPoint
from enms.readings import service as readings
from enms.readings.models import Machine

log = logging.getLogger(__name__)
DAY = timedelta(days=1)


class Task(Protocol):
    """A periodic task body as the contract gives it (keyword arguments, JSON-able result)."""

    def __call__(
        self, *, factory: SessionFactory, settings: Settings, clock: FrozenClock
    ) -> dict[str, Any]: ...


def monitoring_tasks(enqueue: Callable[[int], None] | None = None) -> list[tuple[str, Task]]:
    """The periodic monitoring and alert jobs the replay runs after each day, in the order of
    :func:`enms.jobs.tasks.monitoring_bodies` (the same bodies the scheduler runs); the drift
    check's raised alerts enqueue their automatic retrains with ``enqueue``."""
    from enms.jobs.tasks import MONITORING_JOBS, monitoring_bodies

    def body(name: str) -> Task:
        def run(
            *, factory: SessionFactory, settings: Settings, clock: FrozenClock
        ) -> dict[str, Any]:
            bodies = monitoring_bodies(
                factory=factory, settings=settings, clock=clock, enqueue=enqueue
            )
            return bodies[name]()

        return run

    return [(name, body(name)) for name in MONITORING_JOBS]


class ReplayClock(FrozenClock):
    """A frozen clock the replay moves forward to the end of each replayed day.

    >>> c = ReplayClock(datetime(2025, 3, 3, tzinfo=UTC))
    >>> c.move_to(datetime(2025, 3, 4, tzinfo=UTC)).now().day
    4
    """

    def move_to(self, at: datetime) -> ReplayClock:
        """Set the clock to ``at`` (never backwards: the tasks' "now" only moves on)."""
        if at < self.now():
            raise ValueError(f"the replay clock cannot go back from {self.now()} to {at}")
        self.advance(at - self.now())
        return self


@dataclass(frozen=True)
class TaskRun:
    """What the replay ran: one task after one replayed day, and how it ended."""

    day: date
    task: str
    at: datetime  # the clock's "now" the task was given
    outcome: str  # "ok" or "error: ExceptionType"
    seconds: float = 0.0  # wall-clock time it took


class Replay:
    """Imports the readings still to come one UTC day at a time and runs the monitoring tasks.

    ``pending`` maps machine names to their generated readings (UTC index); what the
    database already holds (up to each machine's last reading) is not replayed again.
    """

    def __init__(
        self,
        *,
        factory: SessionFactory,
        settings: Settings,
        pending: dict[str, pd.DataFrame],
        report: Callable[[str], None],
        tasks: Sequence[tuple[str, Task]] | None = None,
        every_days: int = 7,
        hint: tuple[datetime, str] | None = None,
        enqueue: Callable[[int], None] | None = None,
    ) -> None:
        self._factory = factory
        self._settings = settings
        self._pending = pending
        self._report = report
        self._tasks = list(monitoring_tasks(enqueue) if tasks is None else tasks)
        self._every = every_days
        self._hint = hint  # (once the replay has reached this time, print this line)
        self._failed: set[str] = set()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.clock = ReplayClock(datetime(1970, 1, 1, tzinfo=UTC))
        #: Every task run so far, in order.
        self.ran: list[TaskRun] = []

    @classmethod
    def from_database(
        cls,
        *,
        factory: SessionFactory,
        settings: Settings,
        report: Callable[[str], None],
        **kw: Any,
    ) -> Replay:
        """The replay of the demo in ``factory``'s database: its plant regenerated from the
        seed, length and frequency the demo recorded in ``instance_info``."""
        from enms.demo.generator import generate_plant

        with session_scope(factory) as session:
            info = {r.key: r.value for r in session.scalars(select(InstanceInfo))}
        pending = {}
        # A demo built before the replay existed did not record its length: it holds its
        # whole plant already, and another length would give other readings — nothing to add.
        if {"demo_seed", "demo_days", "demo_freq"} <= info.keys():
            plant = generate_plant(
                seed=int(info["demo_seed"]),
                days=int(info["demo_days"]),
                freq=info["demo_freq"],
            )
            pending = {m.name: m.readings for m in plant}
        return cls(factory=factory, settings=settings, pending=pending, report=report, **kw)

    def days(self) -> list[datetime]:
        """The UTC midnights of the days still to replay: from the day of the first reading
        the database lacks, through the day of the last generated one."""
        with session_scope(self._factory) as session:
            last = {m.name: m.last_reading for m in readings.list_machines(session=session)}
        starts, ends = [], []
        for name, frame in self._pending.items():
            if name not in last or frame.empty:
                continue  # a machine deleted from the demo stays deleted
            known = last[name]
            todo = frame.index if known is None else frame.index[frame.index > known]
            if len(todo):
                starts.append(todo[0])
                ends.append(todo[-1])
        if not starts:
            return []
        first, final = min(starts).floor("D"), max(ends).floor("D")
        return [d.to_pydatetime() for d in pd.date_range(first, final, freq="D")]

    def step(self, day: datetime) -> int:
        """Replay one UTC day: import its readings (one transaction, idempotent), then run
        every task with the clock at the end of the day. Returns the readings imported."""
        end = day + DAY
        written = 0
        with session_scope(self._factory, write=True) as session:
            for name, frame in self._pending.items():
                rows = frame[(frame.index >= day) & (frame.index < end)]
                machine = session.scalar(select(Machine).where(Machine.name == name))
                if rows.empty or machine is None:
                    continue
                summary = import_frame(
                    session, machine, rows, batch_size=self._settings.imports.batch_size
                )
                written += summary.inserted
        self.clock.move_to(end)
        for name, task in self._tasks:
            self._run_task(day.date(), name, task)
        return written

    def _run_task(self, day: date, name: str, task: Task) -> None:
        at = self.clock.now()
        started = time.perf_counter()
        try:
            task(factory=self._factory, settings=self._settings, clock=self.clock)
        except Exception as exc:  # a task's failure must not end the demo's story
            outcome = f"error: {type(exc).__name__}"
            if name not in self._failed:
                self._failed.add(name)
                log.warning("demo replay: %s failed at %s", name, at, exc_info=True)
                why = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
                self._report(
                    f"replay: {name} failed ({why}); the replay goes on without it "
                    "(reported once per task)"
                )
        else:
            outcome = "ok"
        self.ran.append(TaskRun(day, name, at, outcome, time.perf_counter() - started))

    def run(self, ready: Callable[[], bool] | None = None, poll: float = 0.5) -> None:
        """Wait until ``ready()`` (e.g. the server answers and the first training round has
        ended), then replay every remaining day; returns early once :meth:`stop` is called."""
        try:
            if ready is not None:
                while not ready():
                    if self._stop.wait(poll):
                        return
            self._replay(self.days())
        except Exception:
            log.exception("the demo replay stopped")
            self._report("replay stopped by an error (see the log above); the server goes on")

    def _replay(self, days: list[datetime]) -> None:
        pace = self._settings.demo.replay_seconds_per_day
        if not days:
            self._report("replay: nothing left to replay")
            return
        self._report(
            f"replay: {days[0]:%Y-%m-%d} to {days[-1]:%Y-%m-%d} ({len(days)} days) at "
            f"{pace:g} s per day; the monitoring and alert jobs run after each day "
            f"({', '.join(name for name, _task in self._tasks)})"
        )
        for i, day in enumerate(days):
            if self._stop.is_set():
                return
            started = time.monotonic()
            self.step(day)
            if (i + 1) % self._every == 0 or i == len(days) - 1:
                self._report(f"{self.status(day)}{self._timing(day)}")
            if self._hint is not None and day + DAY >= self._hint[0]:
                self._report(self._hint[1])
                self._hint = None
            # Pacing for a person watching the dashboard fill: the demo's simulated "real
            # time" (ENMS_DEMO__REPLAY_SECONDS_PER_DAY), not a wait standing in for work.
            left = pace - (time.monotonic() - started)
            if left > 0 and self._stop.wait(left):
                return
        self._report("replay finished: the demo year is complete")

    def _timing(self, day: datetime) -> str:
        """``; tasks took …`` per replayed day over the last week, when they took a while."""
        week = [r for r in self.ran if (day.date() - r.day).days < self._every]
        days = len({r.day for r in week})
        if not days or sum(r.seconds for r in week) < 0.5 * days:
            return ""
        per_task: dict[str, float] = {}
        for r in week:
            per_task[r.task] = per_task.get(r.task, 0.0) + r.seconds / days
        shown = ", ".join(f"{name} {seconds:.1f}" for name, seconds in per_task.items())
        return f"; tasks took {sum(per_task.values()):.1f} s per day ({shown})"

    def status(self, day: datetime) -> str:
        """The weekly progress line: machines, predictions logged, drift flagged."""
        with session_scope(self._factory) as session:
            machines = session.scalar(select(func.count()).select_from(Machine)) or 0
            logged = session.scalar(select(func.count()).select_from(PredictionPoint)) or 0
            drift = drift_now(session, self.clock.now())
            alerts = alerts_now(session, self.clock.now())
            tests = ab_tests_now(session, self.clock.now())
        return (
            f"replayed to {day:%Y-%m-%d}: {machines} machines, {logged:,} predictions logged, "
            f"{drift}{alerts}{tests}"
        )

    def start(self, ready: Callable[[], bool] | None = None) -> None:
        """Run the replay in a background (daemon) thread."""
        self._thread = threading.Thread(
            target=self.run, args=(ready,), name="demo-replay", daemon=True
        )
        self._thread.start()

    def stop(self, timeout: float | None = 10.0) -> None:
        """Ask the replay to stop (after the task it is running) and wait for it."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)


def server_answers(host: str, port: int) -> bool:
    """True once something accepts TCP connections on ``host:port`` (the demo server)."""
    target = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)
    try:
        with socket.create_connection((target, port), timeout=1.0):
            return True
    except OSError:
        return False
