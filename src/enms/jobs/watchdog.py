"""A thread in every consumer process that recovers training jobs between hourly cleanups.

It runs the same recovery as the ``training_cleanup`` periodic job, but on its own thread
and outside the queue, so a backlog of training jobs (or fits hogging every worker thread)
cannot delay it: a job whose worker died is requeued within about
``ENMS_TRAINING__STALE_AFTER_SECONDS``, not at the next hour. Several watchdogs (one per
process) are safe together: every transition they make is conditional.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from enms.jobs import runtime
from enms.jobs.tasks import enqueue_training_on
from enms.training import tasks as training_tasks

log = logging.getLogger(__name__)


def sweep(rt: runtime.Runtime) -> dict[str, Any]:
    """One recovery pass."""
    return training_tasks.training_cleanup(
        factory=rt.factory,
        settings=rt.settings,
        clock=rt.clock,
        enqueue=enqueue_training_on(rt.huey),
        queue_is_empty=rt.huey.pending_count() == 0,
    )


class Watchdog:
    """Runs :func:`sweep` every third of the stale-after period (1 to 30 seconds)."""

    def __init__(self, rt: runtime.Runtime) -> None:
        self._rt = rt
        self._stop = threading.Event()
        self._every = min(max(rt.settings.training.stale_after_seconds / 3, 1.0), 30.0)
        self._thread = threading.Thread(target=self._run, name="enms-watchdog", daemon=True)

    def start(self) -> Watchdog:
        """Start sweeping in the background."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop after the current sweep."""
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.wait(self._every):
            try:
                done = sweep(self._rt)
            except Exception:  # a database hiccup: try again at the next sweep
                log.exception("training job watchdog sweep failed")
                continue
            if any(done.values()):
                log.warning("training job watchdog: %s", done)
