"""Fits run in a child process: a cancel or a timeout kills it within seconds, and nothing is
registered. A Prophet job on a year of 15-minute readings (both dialects); the child's PID is
checked gone, and so is every process of its group (Prophet's Stan binary)."""

from __future__ import annotations

import os
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from tests.factories import import_demo_machine, trigger_job

from enms.core.clock import FrozenClock, SystemClock
from enms.core.config import TrainingSettings
from enms.core.db import SessionFactory, session_scope
from enms.registry.models import ModelVersion
from enms.training import service
from enms.training.runner import RunContext, run_job


def _group_members(pgid: int) -> list[int]:
    """Living (not zombie) PIDs whose process group is ``pgid`` (Linux /proc)."""
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            out.append(int(entry.name))
    return out


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


class _Job:
    """A Prophet job running in a thread, with its fitting process's PID once started."""

    def __init__(
        self,
        factory: SessionFactory,
        job_id: int,
        settings: TrainingSettings,
        clock: SystemClock | FrozenClock | None = None,
    ) -> None:
        self.job_id = job_id
        self.child: int | None = None
        self.fitting = threading.Event()
        self.outcome: str | None = None
        self.ctx = RunContext(
            factory=factory,
            settings=settings,
            clock=clock or SystemClock(),
            on_child=self._child,
            on_stage=self._stage,
        )
        self.thread = threading.Thread(target=self._run)

    def _child(self, _job_id: int, pid: int) -> None:
        self.child = pid

    def _stage(self, _job_id: int, stage: str) -> None:
        if stage == "fitting":
            self.fitting.set()

    def _run(self) -> None:
        self.outcome = run_job(self.job_id, self.ctx)

    def __enter__(self) -> _Job:
        self.thread.start()
        assert self.fitting.wait(120), "the child never started fitting"
        return self

    def __exit__(self, *_exc: object) -> None:
        self.thread.join(60)


@pytest.fixture
def prophet_job(session_factory: SessionFactory, clock: FrozenClock) -> int:
    with session_scope(session_factory, write=True) as session:
        machine = import_demo_machine(session, clock, days=365, freq="15min")
        result = trigger_job(
            session,
            machine_id=machine.id,
            model_type="forecast_prophet",
            clock=SystemClock(),
            reason="kill test",
        )
    assert result.training_job_id is not None
    return result.training_job_id


def _assert_stopped(factory: SessionFactory, job: _Job, status: str) -> None:
    assert job.outcome == status
    assert job.child is not None
    assert not _alive(job.child), "the fitting process is still there"
    # SIGKILL was sent to the whole group; give the kernel a moment to carry it out.
    deadline = time.monotonic() + 2
    while _group_members(job.child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _group_members(job.child) == [], "a process of the fit's group is still there"
    with session_scope(factory) as session:
        row = service.get_job(session=session, job_id=job.job_id)
        assert row.training_status == status
        assert "nothing was registered" in (row.error_message or "")
        assert row.attempt_history[-1]["outcome"] == status
        assert session.scalar(select(func.count()).select_from(ModelVersion)) == 0


def test_cancelling_a_prophet_fit_kills_it_within_five_seconds(
    session_factory: SessionFactory, prophet_job: int
) -> None:
    with _Job(session_factory, prophet_job, TrainingSettings()) as job:
        assert job.child is not None
        assert _alive(job.child)
        time.sleep(0.5)  # let the fit get under way: the cancel arrives mid-fit
        asked = time.monotonic()
        with session_scope(session_factory, write=True) as session:
            service.cancel(session=session, job_id=prophet_job, clock=SystemClock())
        job.thread.join(10)
        took = time.monotonic() - asked
    assert took < 5, f"the cancelled job took {took:.1f} s to end"
    _assert_stopped(session_factory, job, "cancelled")


def test_a_prophet_fit_past_its_timeout_is_killed(
    session_factory: SessionFactory, prophet_job: int
) -> None:
    """The job's clock passes its deadline while the child fits (the clock is the test's: on
    the wall clock a short timeout could run out while the job still loads its readings, and
    a long one could outlast the fit)."""
    settings = TrainingSettings(timeout_minutes=10)
    clock = FrozenClock(SystemClock().now())
    with _Job(session_factory, prophet_job, settings, clock) as job:
        assert job.child is not None
        assert _alive(job.child)
        time.sleep(0.5)  # the fit is under way when its time runs out
        clock.advance(timedelta(minutes=settings.timeout_minutes, seconds=1))
        passed = time.monotonic()
        job.thread.join(30)
        took = time.monotonic() - passed
    assert took < 5, f"the job took {took:.1f} s to stop after its timeout"
    _assert_stopped(session_factory, job, "timed_out")
