"""The task registry: every background function, registered on the Huey instance at start-up.

Task bodies live with their stage (``enms.training.tasks`` …); this module only wires them to
the queue, the runtime and the periodic schedule. Names are explicit so `enms serve` and any
number of `enms worker` processes agree on them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from huey import Huey
from huey.api import TaskWrapper

from enms.core.config import Settings
from enms.jobs import runtime, schedule
from enms.training import tasks as training_tasks

TRAIN = "enms.train"
RUN_PERIODIC = "enms.run_periodic"


@dataclass(frozen=True)
class TaskSet:
    """The registered task wrappers."""

    train: TaskWrapper
    run_periodic: TaskWrapper


_registered: dict[int, TaskSet] = {}


def enqueue_training_on(huey: Huey) -> Callable[[int], None]:
    """A function that puts a training job on ``huey``."""
    taskset = _registered[id(huey)]
    return lambda job_id: huey.enqueue(taskset.train.s(job_id))


def enqueue_training(job_id: int) -> None:
    """Put training job ``job_id`` on the current runtime's queue."""
    enqueue_training_on(runtime.current().huey)(job_id)


def enqueue_periodic_on(huey: Huey, name: str) -> None:
    """Run periodic job ``name`` now, on a worker of ``huey``."""
    huey.enqueue(_registered[id(huey)].run_periodic.s(name, None))


def _bodies(rt: runtime.Runtime) -> dict[str, Callable[[], dict[str, Any]]]:
    enqueue = enqueue_training_on(rt.huey)
    return {
        "training_cleanup": lambda: training_tasks.training_cleanup(
            factory=rt.factory,
            settings=rt.settings,
            clock=rt.clock,
            enqueue=enqueue,
            queue_is_empty=rt.huey.pending_count() == 0,
        ),
        "baseline_retrain": lambda: training_tasks.baseline_retrain(
            factory=rt.factory, settings=rt.settings, clock=rt.clock, enqueue=enqueue
        ),
    }


def run_periodic_job(name: str, tick: datetime | None) -> dict[str, Any] | None:
    """Run periodic job ``name`` for ``tick`` (None: a manual run, keyed by the current time)."""
    rt = runtime.current()
    run = schedule.run_once(
        factory=rt.factory,
        clock=rt.clock,
        name=name,
        tick=tick or rt.clock.now(),
        trigger="schedule" if tick else "manual",
        body=_bodies(rt)[name],
    )
    return None if run is None else run.result


def register_tasks(huey: Huey, settings: Settings) -> TaskSet:
    """Register every task (and periodic job) on ``huey``."""

    def train(job_id: int) -> str:
        rt = runtime.current()
        return training_tasks.train(
            job_id, factory=rt.factory, settings=rt.settings, clock=rt.clock
        )

    def run_periodic(name: str, tick: str | None) -> dict[str, Any] | None:
        return run_periodic_job(name, datetime.fromisoformat(tick) if tick else None)

    taskset = TaskSet(
        train=huey.task(name=TRAIN)(train),
        run_periodic=huey.task(name=RUN_PERIODIC)(run_periodic),
    )
    for job in schedule.periodic_jobs(settings):
        huey.periodic_task(job.matcher(), name=f"enms.periodic.{job.name}")(
            _periodic_body(job.name, job.cron)
        )
    _registered[id(huey)] = taskset
    return taskset


def _periodic_body(name: str, cron: str) -> Callable[[], None]:
    matches = schedule.cron_matcher(cron)

    def tick() -> None:
        rt = runtime.current()
        # Key the run by the schedule slot it belongs to (the latest matching minute), not by
        # when a worker got round to it: every worker's copy of this tick shares the key.
        slot = schedule.latest_slot(matches, rt.clock.now())
        run_periodic_job(name, slot)

    tick.__name__ = f"periodic_{name}"
    return tick
