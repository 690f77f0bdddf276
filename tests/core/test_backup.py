"""Acceptance: a backup taken while jobs run restores to a database that passes
`enms db current` and holds every committed job — on SQLite and on PostgreSQL.

Real jobs run meanwhile: a thread triggers training jobs through the training service as
fast as slots free up, and the runtime's own consumer threads fit and register them (claims,
progress, versions, completions: all the writes a busy server makes). The backup is taken
through the CLI in the middle of that.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, func, select
from tests.conftest import POSTGRES_URL, create_scratch_postgres, drop_scratch_postgres
from tests.factories import import_demo_machine

from enms.cli import cli
from enms.core.clock import FrozenClock
from enms.core.config import Settings
from enms.core.db import SessionFactory, create_db_engine, create_session_factory, session_scope
from enms.core.timewindow import Window
from enms.jobs.consumer import start_in_process
from enms.jobs.runtime import create_runtime
from enms.registry.models import ModelVersion
from enms.training import service as training
from enms.training.models import TrainingJob

MACHINES = 3  # more machines than worker threads: some job always waits in the queue


@pytest.fixture
def restore_url(engine: Engine, tmp_path: Path) -> Iterator[str]:
    """A database of the source's dialect that does not exist yet (SQLite) or is empty."""
    if engine.dialect.name == "sqlite":
        yield f"sqlite:///{tmp_path / 'restored' / 'enms.db'}"
        return
    url = create_scratch_postgres(POSTGRES_URL)
    yield url
    drop_scratch_postgres(POSTGRES_URL, url)


def _enms(*args: str) -> dict[str, object]:
    result = CliRunner().invoke(cli, [*args, "--json"])
    assert result.exit_code == 0, result.output
    document: dict[str, object] = json.loads(result.stdout)
    return document


def _wait_for(condition: Callable[[], bool], what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def _count(factory: SessionFactory, status: str) -> int:
    with session_scope(factory) as session:
        query = select(func.count()).where(TrainingJob.training_status == status)
        return session.scalar(query) or 0


class Triggers(threading.Thread):
    """Triggers a baseline job for every machine whose slot is free, until stopped; keeps
    the ids of the jobs it committed, in commit order (appended after each commit)."""

    def __init__(
        self,
        factory: SessionFactory,
        clock: FrozenClock,
        machines: list[int],
        enqueue: Callable[[int], None],
    ) -> None:
        super().__init__(name="test-triggers", daemon=True)
        self.factory, self.clock, self.machines, self.enqueue = factory, clock, machines, enqueue
        self.committed: list[int] = []
        self.stop = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            while not self.stop.is_set():
                for machine_id in self.machines:
                    with session_scope(self.factory, write=True) as session:
                        result = training.trigger(
                            session=session,
                            machine_id=machine_id,
                            model_type="baseline",
                            trigger_type="manual",
                            reason="backup test",
                            requested_by="test",
                            window=Window(None, None),
                            hyperparameters={},
                            clock=self.clock,
                            enqueue=self.enqueue,
                        )
                    if result.triggered and result.training_job_id is not None:
                        self.committed.append(result.training_job_id)
                time.sleep(0.02)
        except BaseException as exc:  # reported by the test
            self.error = exc


def test_a_backup_taken_while_jobs_run_restores_every_committed_job(
    engine: Engine,
    settings: Settings,
    session_factory: SessionFactory,
    clock: FrozenClock,
    restore_url: str,
    tmp_path: Path,
) -> None:
    source_url = settings.database_url
    with session_scope(session_factory, write=True) as session:
        machines = [
            import_demo_machine(session, clock, index=i, days=30, name=f"M{i}").id
            for i in range(MACHINES)
        ]
    settings = settings.model_copy(
        update={"queue": settings.queue.model_copy(update={"workers": 2, "grace_seconds": 10})}
    )
    runtime = create_runtime(settings, engine, clock)
    background = start_in_process(runtime, periodic=False)
    triggers = Triggers(session_factory, clock, machines, runtime.enqueue_training)
    triggers.start()
    try:
        _wait_for(lambda: _count(session_factory, "completed") >= 2, "two completed jobs")
        before_backup = list(triggers.committed)
        backed_up = _enms("--database-url", source_url, "db", "backup", str(tmp_path / "b.bak"))
        after_backup = len(triggers.committed)
        _wait_for(lambda: len(triggers.committed) >= after_backup + 2, "jobs after the backup")
    finally:
        triggers.stop.set()
        triggers.join(timeout=30)
        background.stop(graceful=True)
    assert triggers.error is None, repr(triggers.error)
    committed = triggers.committed
    assert backed_up["size_bytes"], backed_up

    restored = _enms("--database-url", restore_url, "db", "restore", str(tmp_path / "b.bak"))
    assert restored["up_to_date"] is True
    current = _enms("--database-url", restore_url, "db", "current")
    assert current["up_to_date"] is True, current

    restored_engine = create_db_engine(restore_url)
    try:
        with session_scope(create_session_factory(restored_engine)) as session:
            jobs = {j.id: j.training_status for j in session.scalars(select(TrainingJob))}
            versions = {
                v.training_job_id: v.version
                for v in session.scalars(select(ModelVersion))
                if v.training_job_id is not None
            }
            completed_versions = {
                job.id: job.model_version
                for job in session.scalars(
                    select(TrainingJob).where(TrainingJob.training_status == "completed")
                )
            }
    finally:
        restored_engine.dispose()
    # Every job committed before the backup started is there; nothing else but a prefix of
    # what was committed afterwards (one writer commits in order: the snapshot is a prefix).
    assert set(before_backup) <= set(jobs)
    assert sorted(jobs) == committed[: len(jobs)]
    assert len(jobs) < len(committed)  # the writers went on after the snapshot
    # Taken while jobs were in flight, and nothing half-written: a completed job and the
    # version it registered are there together, or neither is.
    assert {"pending", "running"} & set(jobs.values()), jobs
    assert "completed" in jobs.values()
    assert versions == completed_versions
