"""The demo's first training round: every model type for every machine, through the job queue.

The round trains on the plant's first two months (:func:`first_window_end`), before the
injected drift events; the rest of the year is what the models are then monitored on
(replayed by :mod:`enms.demo.replay`, or imported at once with ``--no-replay``). Jobs are
triggered (baselines first, so the first screen fills quickly) before the server starts; the
server's consumer threads run them while :class:`ProgressReporter` prints how far they are
on the console and sets :attr:`ProgressReporter.finished` when every job has ended.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy.exc import SQLAlchemyError

from enms.core.clock import Clock
from enms.core.db import SessionFactory, session_scope
from enms.core.errors import InvalidInput
from enms.core.model_types import MODEL_TYPE_NAMES
from enms.core.timewindow import Window
from enms.readings import service as readings
from enms.training import service as training
from enms.training.models import ACTIVE_STATUSES
from enms.training.schemas import FINAL_STATUSES

log = logging.getLogger(__name__)

#: The first round trains on the first two months: the generator injects no drift event
#: before day 61 (the moulding line's change comes at day 124, the compressor's leak at 151).
FIRST_WINDOW = timedelta(days=61)

#: The window of the ``enms evaluate`` hint: the first four weeks after the training window.
HINT_WINDOW = timedelta(days=28)


def first_window_end(first: datetime, last: datetime) -> datetime | None:
    """End of the first training window: the first UTC midnight at least two months after
    the plant's ``first`` reading; None when no reading (``last``) comes after it (a plant
    of two months or less is trained on everything).

    >>> first = datetime(2024, 12, 31, 23, tzinfo=UTC)  # 2025-01-01 00:00 in Berlin
    >>> first_window_end(first, datetime(2025, 12, 31, 22, 45, tzinfo=UTC))
    datetime.datetime(2025, 3, 3, 0, 0, tzinfo=datetime.timezone.utc)
    >>> first_window_end(first, datetime(2025, 1, 28, tzinfo=UTC)) is None
    True
    """
    at = (first + FIRST_WINDOW).astimezone(UTC)
    midnight = at.replace(hour=0, minute=0, second=0, microsecond=0)
    end = midnight if midnight == at else midnight + timedelta(days=1)
    return end if end <= last else None


def trigger_all(
    factory: SessionFactory,
    clock: Clock,
    enqueue: training.Enqueue,
    report: Callable[[str], None] | None = None,
    until: datetime | None = None,
) -> tuple[list[int], datetime | None]:
    """Queue one job per (model type, machine) on the readings before ``until`` (None: all
    of them); return the job ids and ``until``.

    A model type a machine has too few readings for is skipped (and reported), not queued
    to fail.
    """
    job_ids = []
    with session_scope(factory) as session:
        machines = readings.list_machines(session=session)
    cutoff = until
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


def round_running(factory: SessionFactory) -> bool:
    """True while any training job is still pending or running (an interrupted demo's
    round, which the server's consumers recover and finish)."""
    with session_scope(factory) as session:
        return any(
            training.list_jobs(session=session, status=status, limit=1)
            for status in ACTIVE_STATUSES
        )


class ProgressReporter:
    """Prints a line whenever the demo's jobs make progress, until all have ended (then
    sets :attr:`finished`)."""

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
        #: Set once every job of the round is in a final state.
        self.finished = threading.Event()
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
            try:
                with session_scope(self._factory) as session:
                    jobs = [
                        j
                        for j in training.list_jobs(session=session, limit=1000)
                        if j.id in self._job_ids
                    ]
            except SQLAlchemyError:  # e.g. a busy database: the next poll will do
                log.warning("demo: could not read the training jobs", exc_info=True)
                continue
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
                self.finished.set()
                return
