"""The demo's replay: the months after the first training window arrive one day at a time,
each followed by the monitoring tasks at the end of that day."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, func, select

from enms.core import schema
from enms.core.clock import FrozenClock
from enms.core.config import DemoSettings, Settings
from enms.core.db import SessionFactory, create_db_engine, session_scope
from enms.core.errors import Conflict
from enms.demo import service
from enms.demo.generator import generate_plant
from enms.demo.replay import Replay, ReplayClock
from enms.demo.training import ProgressReporter, round_running, trigger_all
from enms.jobs.tasks import MONITORING_JOBS
from enms.readings.models import EnergyReading, Machine
from enms.training import service as training

SEED, DAYS, FREQ = 3, 70, "h"
FIRST_DAY = datetime(2025, 3, 3, tzinfo=UTC)  # the first UTC midnight 61 days in
TASKS = list(MONITORING_JOBS)


@pytest.fixture
def demo(session_factory: SessionFactory, clock: FrozenClock) -> service.DemoSummary:
    """The fixture database holding the first two months of a 70-day hourly demo plant."""
    return service.populate(
        session_factory,
        seed=SEED,
        days=DAYS,
        freq=FREQ,
        clock=clock,
        batch_size=5000,
        report=lambda _m: None,
        replay=True,
    )


@pytest.fixture
def fast(settings: Settings) -> Settings:
    return settings.model_copy(update={"demo": DemoSettings(replay_seconds_per_day=0)})


def _stored(factory: SessionFactory) -> dict[str, tuple[int, datetime]]:
    with session_scope(factory) as session:
        rows = session.execute(
            select(Machine.name, func.count(), func.max(EnergyReading.ts))
            .join(EnergyReading, EnergyReading.machine_id == Machine.id)
            .group_by(Machine.name)
        ).all()
    return {name: (n, last.astimezone(UTC)) for name, n, last in rows}


def test_the_demo_database_starts_with_the_first_window(
    demo: service.DemoSummary, session_factory: SessionFactory
) -> None:
    plant = generate_plant(seed=SEED, days=DAYS, freq=FREQ)
    assert demo.training_end == FIRST_DAY
    assert demo.readings + demo.pending == sum(len(m.readings) for m in plant)
    stored = _stored(session_factory)
    assert len(stored) == len(plant)
    for m in plant:
        assert stored[m.name] == (
            (m.readings.index < FIRST_DAY).sum(),
            FIRST_DAY - timedelta(hours=1),
        )
    # the first training round trains on exactly that window
    queued: list[int] = []
    job_ids, until = trigger_all(
        session_factory, FrozenClock(FIRST_DAY), queued.append, until=demo.training_end
    )
    assert until == FIRST_DAY
    with session_scope(session_factory) as session:
        ends = {training.get_job(session=session, job_id=j).data_end for j in job_ids}
    assert ends == {FIRST_DAY}


def test_each_step_imports_one_day_then_runs_the_tasks_in_order_at_its_end(
    demo: service.DemoSummary, session_factory: SessionFactory, fast: Settings
) -> None:
    lines: list[str] = []
    replay = Replay.from_database(factory=session_factory, settings=fast, report=lines.append)
    days = replay.days()
    assert days[0] == FIRST_DAY
    assert days[-1] == datetime(2025, 3, 11, tzinfo=UTC)  # the plant ends 2025-03-11 22:00Z
    assert len(days) == 9
    per_day = len(generate_plant(seed=SEED, days=DAYS, freq=FREQ))
    for k, day in enumerate(days[:3], start=1):
        assert replay.step(day) == per_day * 24  # every machine's 24 hours, all new
        stored = _stored(session_factory)
        assert {last for _n, last in stored.values()} == {FIRST_DAY + timedelta(days=k, hours=-1)}
        assert [(r.day, r.task, r.at) for r in replay.ran[-len(TASKS) :]] == [
            (day.date(), name, day + timedelta(days=1)) for name in TASKS
        ]
    before = _stored(session_factory)
    assert replay.step(days[2]) == 0  # a day replayed again writes nothing twice
    assert _stored(session_factory) == before
    assert [r.task for r in replay.ran] == TASKS * 4
    # a task that raises (today's stubs raise NotImplementedError) is reported once, by name
    for name in TASKS:
        failed = [r for r in replay.ran if r.task == name and r.outcome != "ok"]
        reported = [line for line in lines if line.startswith(f"replay: {name} failed")]
        assert len(reported) == (1 if failed else 0), (name, lines)
    # a new replay on the same database (a restart) carries on where this one stopped
    again = Replay.from_database(factory=session_factory, settings=fast, report=lines.append)
    assert again.days() == days[3:]


def test_a_raising_task_does_not_stop_the_replay_and_the_week_is_reported(
    demo: service.DemoSummary, session_factory: SessionFactory, fast: Settings
) -> None:
    seen: list[datetime] = []

    def boom(**_kw: Any) -> dict[str, Any]:
        raise RuntimeError("this task is broken")

    def probe(*, factory: SessionFactory, settings: Settings, clock: ReplayClock) -> dict[str, Any]:
        seen.append(clock.now())
        return {}

    lines: list[str] = []
    replay = Replay.from_database(
        factory=session_factory,
        settings=fast,
        report=lines.append,
        tasks=[("boom", boom), ("probe", probe)],
        hint=(FIRST_DAY + timedelta(days=5), "try: enms evaluate …"),
    )
    replay.run()
    days = [FIRST_DAY + timedelta(days=d) for d in range(9)]
    assert seen == [d + timedelta(days=1) for d in days]
    assert [r.outcome for r in replay.ran if r.task == "boom"] == ["error: RuntimeError"] * 9
    assert sum("boom failed (RuntimeError: this task is broken)" in line for line in lines) == 1
    plant = generate_plant(seed=SEED, days=DAYS, freq=FREQ)
    assert _stored(session_factory) == {
        m.name: (len(m.readings), m.readings.index[-1].to_pydatetime()) for m in plant
    }
    progress = [line for line in lines if line.startswith("replayed to")]
    assert [line.split(":")[0] for line in progress] == [
        "replayed to 2025-03-09",  # a week
        "replayed to 2025-03-11",  # the end
    ]
    assert "8 machines, 0 predictions logged" in progress[0]
    assert progress[0].endswith("no drift check has run yet")
    assert lines.count("try: enms evaluate …") == 1
    assert lines[-1] == "replay finished: the demo year is complete"
    assert Replay.from_database(factory=session_factory, settings=fast, report=print).days() == []


def test_the_replay_waits_for_the_training_round_and_stops_on_request(
    demo: service.DemoSummary, session_factory: SessionFactory, settings: Settings
) -> None:
    clock = FrozenClock(FIRST_DAY)
    job_ids, _ = trigger_all(session_factory, clock, lambda _j: None, until=demo.training_end)
    assert job_ids  # pending: no worker runs them in this test
    reporter = ProgressReporter(session_factory, job_ids, lambda _m: None, every=0.05)
    reporter.start()
    slow = settings.model_copy(update={"demo": DemoSettings(replay_seconds_per_day=600)})
    replay = Replay.from_database(factory=session_factory, settings=slow, report=lambda _m: None)
    polls = threading.Semaphore(0)

    def ready() -> bool:
        polls.release()
        return reporter.finished.is_set()

    assert round_running(session_factory)
    replay.start(ready=ready)
    for _ in range(3):  # the replay asked three times while the jobs were pending
        assert polls.acquire(timeout=10)
    assert replay.ran == []
    assert _stored(session_factory)[next(iter(_stored(session_factory)))][1] < FIRST_DAY
    with session_scope(session_factory, write=True) as session:
        for job_id in job_ids:  # the round ends (cancelled is final, like completed)
            training.cancel(session=session, job_id=job_id, clock=clock)
    assert reporter.finished.wait(10)
    assert not round_running(session_factory)
    deadline = time.monotonic() + 30
    while len(replay.ran) < len(TASKS) and time.monotonic() < deadline:
        time.sleep(0.02)  # polling for the background thread's first day
    assert [r.task for r in replay.ran] == TASKS
    started = time.monotonic()
    replay.stop()  # while it paces the 600 s day: stops at once
    assert time.monotonic() - started < 5
    assert [r.day for r in replay.ran] == [FIRST_DAY.date()] * len(TASKS)
    assert {last for _n, last in _stored(session_factory).values()} == {
        FIRST_DAY + timedelta(hours=23)
    }


def test_the_weekly_line_names_the_machines_whose_newest_check_flags_drift(
    demo: service.DemoSummary, session_factory: SessionFactory, fast: Settings
) -> None:
    from enms.evaluation.models import PerformanceMetric
    from enms.registry.models import ModelAlias, ModelVersion

    day = FIRST_DAY
    with session_scope(session_factory, write=True) as session:
        ids = {m.name: m.id for m in session.scalars(select(Machine))}

        def check(
            name: str, end: datetime, drift: bool, details: dict[str, Any], alias: str = "champion"
        ) -> None:
            version = session.scalar(
                select(ModelVersion)
                .join(ModelAlias, ModelAlias.model_version_id == ModelVersion.id)
                .where(ModelVersion.machine_id == ids[name], ModelAlias.alias == alias)
            )
            if version is None:
                number = 1 + len(
                    session.scalars(
                        select(ModelVersion.id).where(ModelVersion.machine_id == ids[name])
                    ).all()
                )
                version = ModelVersion(
                    machine_id=ids[name],
                    model_type="baseline",
                    version=number,
                    origin="external",
                    name="made elsewhere",
                    created_at=day,
                )
                session.add(version)
                session.flush()
                session.add(
                    ModelAlias(
                        machine_id=ids[name],
                        model_type="baseline",
                        alias=alias,
                        model_version_id=version.id,
                        updated_at=day,
                    )
                )
            session.add(
                PerformanceMetric(
                    model_id=version.id,
                    machine_id=ids[name],
                    model_type="baseline",
                    model_version=version.version,
                    evaluation_date=end,
                    evaluation_start=FIRST_DAY,
                    evaluation_end=end,
                    drift_detected=drift,
                    drift_details=details,
                    source="drift_check",
                )
            )

        d1, d2 = day + timedelta(days=1), day + timedelta(days=2)
        moved = {"concept": {"tests": [{"change_point": "2025-03-03T06:00:00+00:00"}]}}
        check("Injection Moulding IM1", d1, False, {})
        check("Injection Moulding IM1", d2, True, moved)
        check("Injection Moulding IM1", d2 + timedelta(days=600), False, {})  # a later clock's
        check("Compressor C1", d2, True, {"concept": {"change_point": None}})
        check("Furnace F1", d1, True, {})
        check("Furnace F1", d2, False, {})  # no longer flagged
        leak = {"degradation": {"energy": {"degraded": True, "since_pct": 12.04}}}
        check("Chiller CH1", d2, False, leak)  # no drift, but energy-grade degradation
        check("Boiler B1", d2, False, {"degradation": {"energy": {"degraded": False}}})
        # Challengers are checked too, but the line (like the alerts) follows champions only.
        check(
            "Chiller CH1", d2, True, {"degradation": {"energy": {"since_pct": -20.0}}}, "challenger"
        )
    replay = Replay.from_database(factory=session_factory, settings=fast, report=print, tasks=[])
    assert replay.status(day).endswith("no drift check has run yet")  # clock before any check
    replay.clock.move_to(d2)
    assert replay.status(day) == (
        "replayed to 2025-03-03: 8 machines, 0 predictions logged, drift on: "
        "Compressor C1 (since 2025-03-05), Injection Moulding IM1 (since 2025-03-03); "
        "energy off its baseline: Chiller CH1 +12 %"
    )
    with pytest.raises(ValueError, match="cannot go back"):
        replay.clock.move_to(day)


def test_resume_opens_only_a_demo_database(tmp_path: Path, clock: FrozenClock) -> None:
    path = tmp_path / "demo.db"
    engine, summary = service.build(
        path, seed=1, days=28, clock=clock, batch_size=5000, report=lambda _m: None, replay=True
    )
    engine.dispose()
    assert summary.pending == 0  # four weeks: nothing after a first two months to replay
    engine, url = service.open_demo(path)
    engine.dispose()
    assert url == f"sqlite:///{path}"
    other = tmp_path / "plant.db"
    plant = create_db_engine(f"sqlite:///{other}")
    schema.upgrade(plant)
    plant.dispose()
    for missing_or_foreign in (other, tmp_path / "absent.db"):
        with pytest.raises(Conflict, match="is not an enms demo database"):
            service.open_demo(missing_or_foreign)
    assert not (tmp_path / "absent.db").exists()


def test_a_demo_that_did_not_record_its_plant_has_nothing_to_replay(
    demo: service.DemoSummary, session_factory: SessionFactory, fast: Settings
) -> None:
    from enms.core.meta import InstanceInfo

    assert Replay.from_database(factory=session_factory, settings=fast, report=print).days()
    with session_scope(session_factory, write=True) as session:
        session.execute(delete(InstanceInfo).where(InstanceInfo.key == "demo_days"))
    lines: list[str] = []
    replay = Replay.from_database(factory=session_factory, settings=fast, report=lines.append)
    replay.run()
    assert lines == ["replay: nothing left to replay"]
    assert replay.ran == []
