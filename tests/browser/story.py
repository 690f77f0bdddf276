"""The plant the browser tests look at: the compressor's leak story, built once per session.

Demo seed 42, hourly readings. Compressor C1 gets a baseline, an anomaly detector and an ARIMA
forecaster trained on the demo's first window (January–February); Chiller CH1 a baseline.
The compressor's readings then arrive as in the replay (March to late May at once, then one
day at a time through the leak of June) and after each day the real monitoring job bodies run
in the scheduler's order with a frozen clock at the end of the day, every training job they
enqueue running to its end before the next day. What that leaves is what a user of the demo
sees after its first half-year: metrics over time, a degradation and a drift alert, the
automatic retrain, the A/B test of v2 against v1, v2's promotion, anomalies and daily KPIs
(the same loop :mod:`tests.demo.test_alert_story` checks step by step).

The result is a SQLite file plus its data directory (artifacts, instance secret); each test
gets its own copy (:func:`copy_story`), so a test that promotes or acknowledges cannot change
what the next one sees.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
from tests.factories import train_version

from enms.core import schema
from enms.core.clock import FrozenClock
from enms.core.config import Settings, TrainingSettings
from enms.core.db import SessionFactory, create_db_engine, create_session_factory, session_scope
from enms.core.secrets import InstanceSecret
from enms.demo.generator import SyntheticMachine, generate_plant
from enms.demo.service import import_frame
from enms.demo.training import first_window_end
from enms.jobs.tasks import monitoring_bodies, train_and_alert
from enms.readings import service as readings
from enms.readings.models import Machine
from enms.readings.schemas import MachineCreate
from enms.training.runner import RunContext

SEED, DAYS = 42, 200
DAILY_FROM = datetime(2025, 5, 27, tzinfo=UTC)  # day by day from here (before the leak)
UNTIL = datetime(2025, 7, 6, tzinfo=UTC)
COMPRESSOR_MODELS = ("baseline", "anomaly", "forecast_arima")


@dataclass(frozen=True)
class Story:
    """Where a built story lives and what is in it."""

    root: Path
    compressor_id: int
    chiller_id: int
    now: datetime

    @property
    def database(self) -> Path:
        return self.root / "enms.db"

    @property
    def data_dir(self) -> Path:
        return self.root / "data"


def _import(factory: SessionFactory, machine_id: int, frame: pd.DataFrame) -> None:
    with session_scope(factory, write=True) as session:
        row = session.get(Machine, machine_id)
        assert row is not None
        import_frame(session, row, frame, batch_size=5000)


def _add(factory: SessionFactory, source: SyntheticMachine, clock: FrozenClock) -> int:
    with session_scope(factory, write=True) as session:
        return readings.create_machine(
            session=session,
            data=MachineCreate(
                name=source.name,
                machine_type=source.machine_type,
                timezone=source.timezone,
                metadata=source.metadata,
            ),
            clock=clock,
        ).id


def build_story(root: Path) -> Story:
    """Build the story into ``root`` (about a minute on this machine)."""
    root.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{root / 'enms.db'}"
    engine = create_db_engine(url)
    schema.upgrade(engine)
    factory = create_session_factory(engine, secret=InstanceSecret(data_dir=root / "data"))
    settings = Settings(database_url=url, data_dir=root / "data")
    plant = {m.machine_type: m for m in generate_plant(seed=SEED, days=DAYS, freq="h")}
    compressor, chiller = plant["compressor"], plant["chiller"]
    frame = compressor.readings
    first = first_window_end(frame.index[0].to_pydatetime(), frame.index[-1].to_pydatetime())
    assert first is not None
    clock = FrozenClock(first)
    compressor_id = _add(factory, compressor, clock)
    chiller_id = _add(factory, chiller, clock)
    _import(factory, compressor_id, frame[frame.index < first])
    _import(factory, chiller_id, chiller.readings[chiller.readings.index < first])
    for model_type in COMPRESSOR_MODELS:
        train_version(factory, clock, compressor_id, model_type, f"{first:%Y-%m-%d}")
    train_version(factory, clock, chiller_id, "baseline", f"{first:%Y-%m-%d}")

    queued: list[int] = []
    ctx = RunContext(factory=factory, settings=TrainingSettings(), clock=clock)
    bodies = monitoring_bodies(
        factory=factory, settings=settings, clock=clock, enqueue=queued.append
    )
    _import(factory, compressor_id, frame[(frame.index >= first) & (frame.index < DAILY_FROM)])
    later = chiller.readings[(chiller.readings.index >= first) & (chiller.readings.index < UNTIL)]
    _import(factory, chiller_id, later)
    clock.advance(DAILY_FROM - clock.now())
    for _ in range(12):  # catch-up scoring of March to late May (score_batch_days per run)
        bodies["score_predictions"]()
    day = DAILY_FROM
    while day < UNTIL:
        _import(
            factory,
            compressor_id,
            frame[(frame.index >= day) & (frame.index < day + timedelta(days=1))],
        )
        clock.advance(day + timedelta(days=1) - clock.now())
        for body in bodies.values():
            body()
        while queued:
            train_and_alert(queued.pop(0), ctx=ctx, factory=factory, clock=clock)
        day += timedelta(days=1)
    engine.dispose()
    return Story(root=root, compressor_id=compressor_id, chiller_id=chiller_id, now=clock.now())


def copy_story(story: Story, target: Path) -> Story:
    """A private copy of ``story`` under ``target``."""
    shutil.copytree(story.root, target)
    return Story(
        root=target, compressor_id=story.compressor_id, chiller_id=story.chiller_id, now=story.now
    )
