"""Running Huey consumers: threads inside `enms serve`, or the `enms worker` process.

Every consumer runs the watchdog (:mod:`enms.jobs.watchdog`), whose first sweep is the
start-up recovery. Stopping drains: the consumer stops taking jobs, running jobs get
``ENMS_QUEUE__GRACE_SECONDS`` to finish, after which their fits are stopped and the jobs
handed back to the queue for another consumer; then the process exits. `enms worker` drains
on SIGTERM or SIGINT (a second signal stops at once).
"""

from __future__ import annotations

import logging
import signal
import threading
from typing import Any

from huey.consumer import Consumer

from enms.jobs import tasks
from enms.jobs.runtime import Runtime
from enms.jobs.watchdog import Watchdog

log = logging.getLogger(__name__)
#: Longest pause between polls of an idle SQLite queue (Huey's default of 10 s would leave a
#: freshly triggered job waiting that long; Redis storage blocks on the queue instead).
MAX_POLL_DELAY = 0.25


def _warm_up() -> None:
    from enms.training.process import warm_up

    threading.Thread(target=warm_up, name="enms-forkserver-warm-up", daemon=True).start()


def watchdog_for(rt: Runtime) -> Watchdog:
    """The watchdog of ``rt``'s consumer (not started)."""
    return Watchdog(lambda: tasks.cleanup(rt), rt.settings.queue.watchdog_seconds)


def startup_recovery(rt: Runtime) -> dict[str, Any]:
    """One recovery pass now (jobs whose lease expired while no consumer was running)."""
    return watchdog_for(rt).sweep_once()


class _DrainingConsumer(Consumer):  # type: ignore[misc]
    """A consumer whose stop first tells running jobs to drain."""

    def __init__(self, rt: Runtime, *, own_signals: bool, **kwargs: Any) -> None:
        self._rt = rt
        self._own_signals = own_signals
        super().__init__(rt.huey, **kwargs)
        # Ctrl-C drains too (Huey's default for the non-graceful signal is to stop at once);
        # a second signal interrupts the drain.
        self._signal_actions[signal.SIGINT] = (False, True)
        self._signal_actions[signal.SIGTERM] = (False, True)

    def _set_signal_handlers(self) -> None:
        if self._own_signals:  # uvicorn owns the main thread's signals inside `enms serve`
            super()._set_signal_handlers()

    def stop(self, graceful: bool = False) -> None:
        if not self._rt.draining.is_set():
            log.warning(
                "consumer %s draining: no new jobs; running ones get %g s to finish",
                self._rt.consumer,
                self._rt.settings.queue.grace_seconds,
            )
        self._rt.draining.set()
        super().stop(graceful=graceful)


def _shutdown_timeout(rt: Runtime) -> float:
    training = rt.settings.training
    # Grace, then stopping the fit (SIGTERM → SIGKILL) and handing the job back.
    return rt.settings.queue.grace_seconds + training.kill_after_seconds + 10.0


class InProcess:
    """The consumer threads and watchdog running inside `enms serve`."""

    def __init__(self, consumer: Consumer | None, watchdog: Watchdog) -> None:
        self.consumer = consumer
        self.watchdog = watchdog

    def stop(self, *, graceful: bool = True) -> None:
        """Drain the consumer (when there is one), then stop the watchdog."""
        if self.consumer is not None:
            self.consumer.stop(graceful=graceful)
        self.watchdog.stop()


def start_in_process(rt: Runtime, *, periodic: bool = True, consume: bool = True) -> InProcess:
    """Start the watchdog and (``consume``) worker threads with the periodic scheduler."""
    consumer = None
    if consume:
        _warm_up()
        consumer = _DrainingConsumer(
            rt,
            own_signals=False,
            workers=rt.settings.queue.workers,
            worker_type="thread",
            periodic=periodic,
            check_worker_health=False,
            max_delay=MAX_POLL_DELAY,
            shutdown_timeout=_shutdown_timeout(rt),
        )
        consumer.start()
    return InProcess(consumer, watchdog_for(rt).start())


def run_worker(rt: Runtime, *, workers: int | None = None) -> None:
    """Block running a consumer (for `enms worker`) until SIGTERM/SIGINT, then drain."""
    _warm_up()
    watchdog = watchdog_for(rt).start()
    consumer = _DrainingConsumer(
        rt,
        own_signals=True,
        workers=workers or rt.settings.queue.workers,
        worker_type="thread",
        periodic=rt.settings.queue.periodic,
        max_delay=MAX_POLL_DELAY,
        shutdown_timeout=_shutdown_timeout(rt),
    )
    try:
        consumer.run()
    finally:
        watchdog.stop()
