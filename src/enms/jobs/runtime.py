"""What a process running tasks holds: settings, database, clock and the queue.

`enms serve` and `enms worker` build one :class:`Runtime` at start-up and :func:`install` it;
task functions read it with :func:`current`. Nothing is built at import time.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from huey import Huey
from sqlalchemy import Engine

from enms.core.clock import Clock, SystemClock
from enms.core.config import Settings
from enms.core.db import SessionFactory, create_session_factory
from enms.core.secrets import instance_secret_for
from enms.jobs.queue import build_huey


@dataclass
class Runtime:
    """A process's settings, database and queue."""

    settings: Settings
    engine: Engine
    huey: Huey
    clock: Clock = field(default_factory=SystemClock)
    factory: SessionFactory = field(init=False)

    def __post_init__(self) -> None:
        self.factory = create_session_factory(
            self.engine, secret=instance_secret_for(self.settings)
        )


_current: Runtime | None = None


def install(runtime: Runtime) -> Runtime:
    """Make ``runtime`` the one tasks in this process use."""
    global _current
    _current = runtime
    return runtime


def current() -> Runtime:
    """The installed runtime (a task running without one is a wiring bug)."""
    if _current is None:
        raise RuntimeError(
            "no enms runtime installed in this process; start it with `enms serve` or `enms worker`"
        )
    return _current


def create_runtime(settings: Settings, engine: Engine, clock: Clock | None = None) -> Runtime:
    """Build (and install) the runtime for ``settings`` with the task registry loaded."""
    from enms.jobs.tasks import register_tasks

    runtime = Runtime(
        settings=settings, engine=engine, huey=build_huey(settings), clock=clock or SystemClock()
    )
    register_tasks(runtime.huey, settings)
    return install(runtime)
