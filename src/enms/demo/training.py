"""The demo's first training round: every model type for every machine, through the job queue.

Jobs are triggered (baselines first, so the first screen fills quickly) before the server
starts; the server's consumer threads run them while :class:`ProgressReporter` prints how
far they are on the console.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta

from enms.core.clock import Clock
from enms.core.db import SessionFactory, session_scope
from enms.core.errors import InvalidInput
from enms.core.model_types import MODEL_TYPE_NAMES
from enms.core.timewindow import Window
from enms.readings import service as readings
from enms.training import service as training
from enms.training.schemas import FINAL_STATUSES

#: The first round trains on all but the last two months, which stay unseen so the
#: champions can be evaluated (and monitored) on them.
HELD_BACK = timedelta(days=61)


#: Hold nothing back when that would leave less than this to train on (a short demo).
MIN_TRAINING = timedelta(days=30)


def trigger_all(
    factory: SessionFactory,
    clock: Clock,
    enqueue: training.Enqueue,
    report: Callable[[str], None] | None = None,
) -> tuple[list[int], datetime | None]:
    """Queue one job per (model type, machine); return their ids and the training cut-off.

    A model type a machine has too few readings for is skipped (and reported), not queued
    to fail.
    """
    job_ids = []
    with session_scope(factory) as session:
        machines = readings.list_machines(session=session)
    lasts = [m.last_reading for m in machines if m.last_reading is not None]
    firsts = [m.first_reading for m in machines if m.first_reading is not None]
    cutoff = None
    if lasts and firsts:
        cutoff = (max(lasts) - HELD_BACK).replace(hour=0, minute=0, second=0, microsecond=0)
        if cutoff - min(firsts) < MIN_TRAINING:
            cutoff = None
    for model_type in MODEL_TYPE_NAMES:
        for machine in machines:
            try:
                with session_scope(factory, write=True) as session:
                    result = training.trigger(
                        session=session,
                        machine_id=machine.id,
                        model_type=model_type,
                        trigger_type="manual",
                        reason="demo: first training round",
                        requested_by="demo",
                        window=Window(None, cutoff),
                        hyperparameters={},
                        clock=clock,
                        enqueue=enqueue,
                    )
            except InvalidInput as exc:
                if report is not None:
                    report(f"  not training {model_type} of {machine.name}: {exc.message}")
                continue
            if result.training_job_id is not None:
                job_ids.append(result.training_job_id)
    return job_ids, cutoff


class ProgressReporter:
    """Prints a line whenever the demo's jobs make progress, until all have ended."""

    def __init__(
        self,
        factory: SessionFactory,
        job_ids: list[int],
        report: Callable[[str], None],
        every: float = 5.0,
        final_hint: str | None = None,
    ) -> None:
        self._hint = final_hint
        self._factory = factory
        self._job_ids = set(job_ids)
        self._report = report
        self._every = every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="demo-progress", daemon=True)

    def start(self) -> None:
        """Start reporting in the background."""
        self._thread.start()

    def stop(self) -> None:
        """Stop reporting."""
        self._stop.set()

    def _run(self) -> None:
        last = ""
        while not self._stop.wait(self._every):
            with session_scope(self._factory) as session:
                jobs = [
                    j
                    for j in training.list_jobs(session=session, limit=1000)
                    if j.id in self._job_ids
                ]
            counts = Counter(j.training_status for j in jobs)
            running = [
                f"{j.model_type} of {j.machine_name} ({j.progress_stage})"
                for j in jobs
                if j.training_status == "running"
            ]
            done = sum(counts[s] for s in FINAL_STATUSES)
            line = (
                f"training: {done}/{len(self._job_ids)} done "
                f"({counts['completed']} completed, {counts['failed']} failed)"
                + (f"; running: {', '.join(running)}" if running else "")
            )
            if line != last:
                self._report(line)
                last = line
            if done == len(self._job_ids):
                self._report(
                    "demo training round finished: every model type has a champion "
                    "where the data allowed it"
                )
                if self._hint:
                    self._report(self._hint)
                return
