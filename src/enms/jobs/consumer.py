"""Running Huey consumers: threads inside `enms serve`, or the `enms worker` process.

Both run :func:`startup_recovery` first, so jobs left running by a server or worker that was
killed are found at start-up, not only at the next hourly ``training_cleanup``.
"""

from __future__ import annotations

import logging
from typing import Any

from huey.consumer import Consumer

from enms.jobs import runtime
from enms.jobs.watchdog import Watchdog, sweep

log = logging.getLogger(__name__)
#: Longest pause between polls of an idle SQLite queue (Huey's default of 10 s would leave a
#: freshly triggered job waiting that long; Redis storage blocks on the queue instead).
MAX_POLL_DELAY = 1.0


class _ThreadConsumer(Consumer):  # type: ignore[misc]
    """A consumer that leaves signal handling to its host (uvicorn owns the main thread)."""

    def _set_signal_handlers(self) -> None:
        return None


def startup_recovery(rt: runtime.Runtime) -> dict[str, Any]:
    """Recover jobs whose worker died before this process started."""
    done = sweep(rt)
    if any(done.values()):
        log.warning("start-up recovery of training jobs: %s", done)
    return done


class InProcess:
    """The consumer threads and watchdog running inside `enms serve`."""

    def __init__(self, consumer: Consumer, watchdog: Watchdog) -> None:
        self.consumer = consumer
        self.watchdog = watchdog

    def stop(self, *, graceful: bool = False) -> None:
        """Stop the watchdog and the consumer."""
        self.watchdog.stop()
        self.consumer.stop(graceful=graceful)


def start_in_process(rt: runtime.Runtime, *, periodic: bool = True) -> InProcess:
    """Start worker threads, the periodic scheduler and the watchdog in this process."""
    consumer = _ThreadConsumer(
        rt.huey,
        workers=rt.settings.queue.workers,
        worker_type="thread",
        periodic=periodic,
        check_worker_health=False,
        max_delay=MAX_POLL_DELAY,
    )
    consumer.start()
    return InProcess(consumer, Watchdog(rt).start())


def run_worker(rt: runtime.Runtime, *, workers: int | None = None) -> None:
    """Block running a consumer (for `enms worker`) until SIGINT/SIGTERM."""
    consumer = Consumer(
        rt.huey,
        workers=workers or rt.settings.queue.workers,
        worker_type="thread",
        periodic=True,
        max_delay=MAX_POLL_DELAY,
    )
    consumer.run()
