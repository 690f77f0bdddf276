"""A thread in every consumer process (`enms serve` and each `enms worker`) that recovers
training jobs between hourly cleanups.

Every ``ENMS_QUEUE__WATCHDOG_SECONDS`` it runs the same recovery as the ``training_cleanup``
periodic job, on its own thread and outside the queue, so a backlog (or fits occupying every
worker thread) cannot delay it: a job whose lease expired (``ENMS_TRAINING__LEASE_SECONDS``)
is requeued or failed within one watchdog period, and a pending job no queue message names
(its enqueue was lost, e.g. the queue was down) is enqueued again after
``ENMS_QUEUE__LOST_ENQUEUE_SECONDS``. Several watchdogs are safe together: every transition
they make is conditional.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)
Sweep = Callable[[], dict[str, Any]]


class Watchdog:
    """Runs ``sweep`` every ``every`` seconds on a daemon thread."""

    def __init__(self, sweep: Sweep, every: float) -> None:
        self._sweep = sweep
        self._every = every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="enms-watchdog", daemon=True)

    def start(self) -> Watchdog:
        """Start sweeping in the background (a first sweep at once: start-up recovery)."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop after the current sweep."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    def sweep_once(self) -> dict[str, Any]:
        """One sweep now, logged when it did anything; errors are logged, not raised."""
        try:
            done = self._sweep()
        except Exception:  # a database or queue hiccup: try again at the next sweep
            log.exception("training job watchdog sweep failed")
            return {}
        if any(done.values()):
            log.warning("training job watchdog: %s", done)
        return done

    def _run(self) -> None:
        self.sweep_once()
        while not self._stop.wait(self._every):
            self.sweep_once()
