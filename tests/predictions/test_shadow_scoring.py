"""Shadow scoring of baselines: champion and challenger both logged, once, continuing where
the last run stopped; missing drivers counted; rollup sums equal the raw metrics; retention."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import func, select, update
from tests.factories import import_demo_machine
from tests.factories import train_version as train

from enms.core.clock import FrozenClock
from enms.core.config import MonitoringSettings, Settings
from enms.core.db import SessionFactory, session_scope
from enms.ml import metrics
from enms.predictions import repository
from enms.predictions.models import PredictionBatch, PredictionDaily, PredictionPoint
from enms.predictions.tasks import score_predictions
from enms.readings.models import EnergyReading
from enms.registry.models import ModelVersion


def _settings(settings: Settings, **monitoring: int) -> Settings:
    return settings.model_copy(update={"monitoring": MonitoringSettings(**monitoring)})


def _versions(factory: SessionFactory) -> list[ModelVersion]:
    with session_scope(factory) as session:
        return list(session.scalars(select(ModelVersion).order_by(ModelVersion.version)))


def _points(factory: SessionFactory, model_id: int) -> pd.DataFrame:
    with session_scope(factory) as session:
        return repository.points_frame(session, model_id=model_id)


def _count(factory: SessionFactory) -> int:
    with session_scope(factory) as session:
        return int(session.scalar(select(func.count()).select_from(PredictionPoint)) or 0)


@pytest.fixture
def machine_id(session_factory: SessionFactory, clock: FrozenClock) -> int:
    with session_scope(session_factory, write=True) as session:
        machine = import_demo_machine(session, clock, index=1, days=150)
    # The champion, and a challenger trained on a shorter window ending at the same time.
    train(session_factory, clock, machine.id, "baseline", "2025-03-01")
    train(session_factory, clock, machine.id, "baseline", "2025-03-01", start="2025-01-20")
    return machine.id


def test_champion_and_challenger_score_every_reading_once_and_continue(
    session_factory: SessionFactory, clock: FrozenClock, settings: Settings, machine_id: int
) -> None:
    champion, challenger = _versions(session_factory)
    hole = (datetime(2025, 3, 3, 10, tzinfo=UTC), datetime(2025, 3, 3, 15, tzinfo=UTC))
    with session_scope(session_factory, write=True) as session:
        session.execute(  # five readings whose drivers never arrived
            update(EnergyReading)
            .where(EnergyReading.ts >= hole[0], EnergyReading.ts < hole[1])
            .values(outdoor_temp_c=None, production_units=None, operating_hours=None)
        )
    first = score_predictions(
        factory=session_factory, settings=_settings(settings, score_batch_days=10), clock=clock
    )
    assert first["versions"] == 2
    assert first["errors"] == []
    assert first["missing_drivers"] == 2 * 5  # counted for both versions, not hidden
    a, b = _points(session_factory, champion.id), _points(session_factory, challenger.id)
    assert len(a) == 10 * 24 - 5
    assert a.index.equals(b.index)  # shadow scoring: both versions see every reading
    assert not a.index.isin(pd.date_range(*hole, freq="h", inclusive="left")).any()
    assert a.index.min() == pd.Timestamp("2025-03-01", tz="UTC")
    assert a.index.max() == pd.Timestamp("2025-03-10 23:00", tz="UTC")
    assert (a["origin"] == a.index).all()
    assert a["actual"].notna().all()
    assert a["lower"].isna().all()  # the baseline gives no prediction interval
    assert not np.allclose(a["predicted"], b["predicted"])  # two different models

    second = score_predictions(
        factory=session_factory, settings=_settings(settings, score_batch_days=10), clock=clock
    )
    assert second["points_written"] == 2 * 10 * 24  # continues at 2025-03-11, no overlap
    a2 = _points(session_factory, champion.id)
    assert a2.index.is_unique
    assert a2.index[len(a)] == pd.Timestamp("2025-03-11", tz="UTC")

    caught_up = _settings(settings, score_batch_days=400)
    score_predictions(factory=session_factory, settings=caught_up, clock=clock)
    total = _count(session_factory)
    again = score_predictions(factory=session_factory, settings=caught_up, clock=clock)
    assert again["points_written"] == 0
    assert _count(session_factory) == total
    with session_scope(session_factory) as session:
        newest = session.scalar(select(func.max(EnergyReading.ts)))
        drivers = session.scalars(select(PredictionBatch.drivers_used)).first()
    assert newest is not None
    assert _points(session_factory, champion.id).index.max() == pd.Timestamp(newest)
    assert drivers  # the baseline's driver columns, recorded on its batches


def test_rollup_sums_equal_raw_metrics_and_survive_retention(
    session_factory: SessionFactory, clock: FrozenClock, settings: Settings, machine_id: int
) -> None:
    champion = _versions(session_factory)[0]
    plain = _settings(settings, score_batch_days=400)
    score_predictions(factory=session_factory, settings=plain, clock=clock)
    raw = _points(session_factory, champion.id)
    y, p = raw["actual"].to_numpy(), raw["predicted"].to_numpy()
    with session_scope(session_factory) as session:
        daily = pd.read_sql(
            select(PredictionDaily).where(PredictionDaily.model_id == champion.id),
            session.connection(),
        )
    assert set(daily["lead_hours"]) == {0}
    n = daily["n"].sum()
    assert n == len(raw)
    assert daily["sum_abs_error"].sum() / n == pytest.approx(metrics.mae(y, p), rel=1e-9)
    assert np.sqrt(daily["sum_sq_error"].sum() / n) == pytest.approx(metrics.rmse(y, p), rel=1e-9)
    assert daily["sum_error"].sum() / n == pytest.approx(float(np.mean(y - p)), rel=1e-9)
    day = raw[pd.DatetimeIndex(raw.index).floor("D") == pd.Timestamp("2025-04-02", tz="UTC")]
    row = daily[pd.to_datetime(daily["day"], utc=True) == pd.Timestamp("2025-04-02", tz="UTC")]
    mape = metrics.mape(day["actual"].to_numpy(), day["predicted"].to_numpy())
    assert float(row["sum_abs_pct_error"].iloc[0] / row["n_pct"].iloc[0]) == pytest.approx(mape)

    # Retention: raw points before the cutoff go, the rollup stays (and a re-run is a no-op).
    # The cutoff is anchored on the version's newest logged target when the clock is later
    # (the frozen clock is, like a history imported or a demo replayed long after its dates).
    kept = _settings(settings, score_batch_days=400, retention_days=30)
    newest = pd.DatetimeIndex(raw.index).max()
    assert newest < pd.Timestamp(clock.now())
    cutoff = newest - pd.Timedelta(days=30)
    result = score_predictions(factory=session_factory, settings=kept, clock=clock)
    assert result["pruned_points"] == 2 * int((raw.index < cutoff).sum()) > 0
    left = _points(session_factory, champion.id)
    assert left.index.min() >= cutoff
    assert len(left) == int((raw.index >= cutoff).sum())
    with session_scope(session_factory) as session:
        after = pd.read_sql(
            select(PredictionDaily).where(PredictionDaily.model_id == champion.id),
            session.connection(),
        )
    assert after["n"].sum() == n  # the rollup of pruned days survives
    assert after["sum_sq_error"].sum() == pytest.approx(daily["sum_sq_error"].sum())
    rerun = score_predictions(factory=session_factory, settings=kept, clock=clock)
    assert rerun["points_written"] == 0
    assert rerun["pruned_points"] == 0


def test_a_detector_logs_expected_energy_score_and_alarm(
    session_factory: SessionFactory, clock: FrozenClock, settings: Settings, machine_id: int
) -> None:
    train(session_factory, clock, machine_id, "anomaly", "2025-03-01")
    score_predictions(
        factory=session_factory, settings=_settings(settings, score_batch_days=400), clock=clock
    )
    with session_scope(session_factory) as session:
        detector = session.scalars(
            select(ModelVersion).where(ModelVersion.model_type == "anomaly")
        ).one()
        daily = pd.read_sql(
            select(PredictionDaily).where(PredictionDaily.model_id == detector.id),
            session.connection(),
        )
    points = _points(session_factory, detector.id)
    assert len(points) > 0
    assert points["score"].notna().all()
    flagged = points["flagged"].astype(bool)
    assert flagged.any()  # the demo machine has injected spikes
    assert not flagged.all()
    # predicted is the detector's expected energy (kWh), not its score
    residual = (points["actual"] - points["predicted"]).abs()
    assert residual.median() < 0.5 * points["actual"].abs().median()
    assert daily["n_flagged"].sum() == int(flagged.sum())
