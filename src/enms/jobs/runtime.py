"""What a process that enqueues or runs jobs holds: settings, database, clock, queue, tasks.

Built once at start-up by :func:`enms.bootstrap.build_runtime` (or :func:`create_runtime`) and
handed down explicitly — to the app's state, to task closures, to the watchdog; there is no
module-level current runtime. Each runtime gets a random consumer id when it is created, so a
forked or restarted process never reuses another's id.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import click
from huey import Huey
from huey.api import TaskWrapper
from sqlalchemy import Engine, select

from enms.core.cli_context import AppContext
from enms.core.clock import Clock, SystemClock
from enms.core.config import Settings
from enms.core.db import SessionFactory, create_session_factory, session_scope
from enms.core.secrets import instance_secret_for
from enms.jobs import queue
from enms.jobs.tasks import RUN_PERIODIC, TRAIN, register_tasks
from enms.training.commands import RUNTIME_KEY
from enms.training.models import TrainingJob
from enms.training.runner import RunContext, consumer_id
from enms.training.service import priority_of

log = logging.getLogger("enms.jobs")


@dataclass
class Runtime:
    """A process's settings, database, queue and registered tasks."""

    settings: Settings
    engine: Engine
    huey: Huey
    clock: Clock = field(default_factory=SystemClock)
    consumer: str = field(default_factory=consumer_id)
    tasks: dict[str, TaskWrapper] = field(default_factory=dict)
    #: Set when this consumer drains (SIGTERM): running jobs get the grace period.
    draining: threading.Event = field(default_factory=threading.Event)
    factory: SessionFactory = field(init=False)

    def __post_init__(self) -> None:
        self.factory = create_session_factory(
            self.engine, secret=instance_secret_for(self.settings)
        )

    def enqueue_training(self, job_id: int) -> None:
        """Put training job ``job_id`` on the queue at its trigger type's priority."""
        with session_scope(self.factory) as session:
            trigger = session.scalar(
                select(TrainingJob.trigger_type).where(TrainingJob.id == job_id)
            )
        self.huey.enqueue(self.tasks[TRAIN].s(job_id, priority=priority_of(trigger or "")))

    def enqueue_periodic(self, name: str) -> None:
        """Run periodic job ``name`` now, on some consumer."""
        self.huey.enqueue(self.tasks[RUN_PERIODIC].s(name, None, priority=40))

    def queue_ready(self) -> bool:
        """True when the queue answers."""
        return queue.queue_ready(self.huey)

    def queue_depth(self) -> int | None:
        """Messages waiting in the queue, or None when it does not answer."""
        try:
            return int(self.huey.pending_count())
        except Exception as exc:  # redis.ConnectionError and friends
            log.warning("job queue depth unavailable: %s", exc)
            return None

    def workers(self) -> int:
        """Worker threads expected to share the queue (for estimates)."""
        return self.settings.queue.workers * self.settings.queue.consumers

    def queued_training_jobs(self, limit: int = 10_000) -> set[int] | None:
        """Job ids named by training messages waiting in the queue (None if unreadable)."""
        try:
            if self.huey.pending_count() > limit:
                return None
            pending = self.huey.pending(limit)
        except Exception:  # an unreachable queue: nothing can be re-enqueued anyway
            return None
        out: set[int] = set()
        for task in pending:
            if task.name == TRAIN and task.args:
                out.add(int(task.args[0]))
        return out

    def run_context(self) -> RunContext:
        """What a job run by this consumer gets."""
        return RunContext(
            factory=self.factory,
            settings=self.settings.training,
            clock=self.clock,
            worker=self.consumer,
            draining=self.draining,
            grace_seconds=self.settings.queue.grace_seconds,
            enqueue=self.enqueue_training,
            promotion=self.settings.promotion,
        )


def create_runtime(settings: Settings, engine: Engine, clock: Clock | None = None) -> Runtime:
    """Build the runtime for ``settings`` with every task registered on its queue."""
    runtime = Runtime(
        settings=settings,
        engine=engine,
        huey=queue.build_huey(settings),
        clock=clock or SystemClock(),
    )
    runtime.tasks.update(register_tasks(runtime))
    return runtime


def describe(runtime: Runtime) -> dict[str, Any]:
    """Where this runtime's queue and database are (for start-up lines)."""
    where = runtime.settings.queue_url or f"SQLite {queue.embedded_queue_path(runtime.settings)}"
    return {
        "queue": where,
        "database": runtime.engine.url.render_as_string(hide_password=True),
        "consumer": runtime.consumer,
    }


RuntimeBuilder = Callable[[AppContext], Runtime]


def builder_from_click() -> RuntimeBuilder:
    """The runtime builder the ``enms`` group put in its click context (the bootstrap's);
    the plain :func:`create_runtime` when a command runs outside that group (tests)."""
    context = click.get_current_context(silent=True)
    build = context.find_root().meta.get(RUNTIME_KEY) if context is not None else None
    if build is None:
        return lambda app: create_runtime(app.settings, app.engine, app.clock)
    builder: RuntimeBuilder = build
    return builder
