"""The periodic evaluation writes daily and weekly rows from known points in the log."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import select
from tests.registry.versions import baseline_artifact

from enms.core.clock import FrozenClock
from enms.core.config import Settings
from enms.core.db import SessionFactory, session_scope
from enms.evaluation import from_log
from enms.evaluation.models import PerformanceMetric
from enms.evaluation.periodic import performance_evaluation
from enms.ml.metrics import regression_report
from enms.predictions import repository as log
from enms.predictions.models import PredictionBatch, PredictionDaily
from enms.readings import parsing
from enms.readings import service as readings
from enms.readings.schemas import MachineCreate
from enms.registry import artifacts
from enms.registry import service as registry

NOW = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)  # a Monday
TRAINED = datetime(2025, 3, 1, tzinfo=UTC)
DAY = timedelta(days=1)


def _version(session, clock, machine_id: int, model_type: str) -> int:  # type: ignore[no-untyped-def]
    data = baseline_artifact()  # never loaded: the periodic evaluation runs no model
    row = registry.register_version(
        session=session,
        clock=clock,
        new=registry.NewVersion(
            machine_id=machine_id, model_type=model_type, artifact=data,
            artifact_sha256=artifacts.sha256_of(data), hyperparameters={},
            training_start=TRAINED - 20 * DAY, training_end=TRAINED, training_rows=480,
            training_data_sha256="x" * 64, metrics_in_sample={}, metrics_holdout={},
            ashrae14=None, training_job_id=None, fit_seconds=0.0, created_by="test",
        ),
    )  # fmt: skip
    return row.id


def _log(session, machine_id: int, model_id: int, model_type: str, frame: pd.DataFrame) -> None:  # type: ignore[no-untyped-def]
    batch = PredictionBatch(
        model_id=model_id, machine_id=machine_id, model_type=model_type, source="shadow",
        drivers_used=[], window_start=TRAINED, window_end=NOW, created_at=NOW,
    )  # fmt: skip
    assert log.insert_points(session, batch=batch, frame=frame) == len(frame)


@pytest.fixture
def plant(session_factory: SessionFactory) -> dict[str, object]:
    clock = FrozenClock(NOW)
    rng = np.random.default_rng(42)
    ts = pd.date_range("2025-02-20", "2025-03-10 12:00", freq="h", inclusive="left", tz="UTC")
    energy = np.round(rng.uniform(20, 40, len(ts)), 3)
    labels = rng.random(len(ts)) < 0.1
    csv = pd.DataFrame(
        {"energy_kwh": energy, "is_anomaly": np.where(labels, "true", "false")},
        index=ts.rename("timestamp"),
    ).to_csv(date_format="%Y-%m-%dT%H:%M:%SZ")
    actual = pd.Series(energy, index=ts)
    served = ts[ts >= pd.Timestamp(TRAINED)]
    with session_scope(session_factory, write=True) as s:
        machine = readings.create_machine(
            session=s, data=MachineCreate(name="Oven 2", timezone="UTC"), clock=clock
        )
        target = readings.get_machine(session=s, machine_id=machine.id)
        readings.import_readings(session=s, machine=target, parsed=parsing.parse_csv(csv))
        ids = {
            t: _version(s, clock, machine.id, t) for t in ("baseline", "forecast_arima", "anomaly")
        }
        challenger = _version(s, clock, machine.id, "baseline")
        y = actual[served].to_numpy().copy()
        predicted = y + rng.normal(0, 1.5, len(y))
        y[30:35] = np.nan  # five readings whose actual never arrived (on 2025-03-02)
        base = pd.DataFrame(
            {"predicted": predicted, "lower": predicted - 2, "upper": predicted + 2, "actual": y},
            index=served,
        )
        _log(s, machine.id, ids["baseline"], "baseline", base)
        _log(s, machine.id, challenger, "baseline", base.iloc[:48].assign(predicted=y[:48] + 1))
        # 2025-03-04 of the challenger survives only as its daily rollup (raw points pruned)
        pruned = base[(base.index >= "2025-03-04") & (base.index < "2025-03-05")].dropna()
        sums = from_log.rollup_sums(pruned)
        s.add(
            PredictionDaily(
                model_id=challenger, machine_id=machine.id, day=datetime(2025, 3, 4, tzinfo=UTC),
                lead_hours=0, extra={}, **{k: (int(v) if k.startswith("n") else v)
                                           for k, v in sums.items()},
            )
        )  # fmt: skip
        rows = []
        for origin in pd.date_range("2025-03-01", "2025-03-09", freq="D", tz="UTC"):
            for lead in range(1, 49):
                t = origin + pd.Timedelta(hours=lead)
                if t >= NOW:
                    break
                noise = rng.normal(0, 2) if lead <= 24 else 50.0  # beyond a day: never used
                guess = actual[t] + noise
                rows.append((t, origin, guess, guess - 3, guess + 3, actual[t]))
        fc = pd.DataFrame(rows, columns=["ts", "origin", "predicted", "lower", "upper", "actual"])
        _log(s, machine.id, ids["forecast_arima"], "forecast_arima", fc.set_index("ts"))
        flagged = rng.random(len(served)) < 0.12
        det = pd.DataFrame(
            {"predicted": actual[served].to_numpy(), "actual": actual[served].to_numpy(),
             "score": rng.random(len(served)), "flagged": flagged}, index=served,
        )  # fmt: skip
        _log(s, machine.id, ids["anomaly"], "anomaly", det)
    return {
        "clock": clock, "ids": ids, "challenger": challenger, "actual": actual,
        "labels": pd.Series(labels, index=ts), "base": base, "fc": fc, "det": det,
    }  # fmt: skip


def _rows(factory: SessionFactory) -> list[PerformanceMetric]:
    with session_scope(factory) as s:
        return list(s.scalars(select(PerformanceMetric).order_by(PerformanceMetric.id)))


def test_daily_and_weekly_rows_match_the_points_and_a_rerun_writes_nothing(
    session_factory: SessionFactory, settings: Settings, plant: dict[str, object]
) -> None:
    clock = plant["clock"]
    assert isinstance(clock, FrozenClock)
    counts = performance_evaluation(factory=session_factory, settings=settings, clock=clock)
    # days 03-01 .. 03-09; weeks from Monday 02-24 and 03-03 (the week of 03-10 is not over)
    # the challenger: two days of points, one day of rollup (and the weeks they fall in)
    assert counts["daily_rows"] == 3 * 9 + 2 + 1
    assert counts["weekly_rows"] == 3 * 2 + 2
    rows = _rows(session_factory)
    assert {r.drift_detected for r in rows} == {None}
    ids: dict[str, int] = plant["ids"]  # type: ignore[assignment]
    day = datetime(2025, 3, 2, tzinfo=UTC)

    def row(model_id: int, source: str, start: datetime) -> PerformanceMetric:
        found = [r for r in rows if (r.model_id, r.source, r.evaluation_start) == (
            model_id, source, start)]  # fmt: skip
        assert len(found) == 1
        return found[0]

    base: pd.DataFrame = plant["base"]  # type: ignore[assignment]
    got = row(ids["baseline"], "periodic_daily", day)
    part = base[(base.index >= day) & (base.index < day + DAY)].dropna()
    e = part["actual"] - part["predicted"]
    assert got.evaluation_end == day + DAY
    assert got.n_samples == 24 - 5
    assert got.details["n_dropped"] == 5
    assert got.rmse == pytest.approx(math.sqrt((e**2).mean()))
    assert got.mae == pytest.approx(e.abs().mean())
    assert got.nmbe == pytest.approx(100 * e.sum() / (len(e) * part["actual"].mean()))
    ss_tot = ((part["actual"] - part["actual"].mean()) ** 2).sum()
    assert got.r_squared == pytest.approx(1 - (e**2).sum() / ss_tot)
    inside = ((part["actual"] >= part["lower"]) & (part["actual"] <= part["upper"])).mean()
    assert got.details["interval_coverage"] == pytest.approx(inside)
    week = row(ids["baseline"], "periodic_weekly", datetime(2025, 3, 3, tzinfo=UTC))
    assert week.n_samples == 7 * 24
    assert week.evaluation_end == datetime(2025, 3, 10, tzinfo=UTC)

    from_rollup = row(plant["challenger"], "periodic_daily", datetime(2025, 3, 4, tzinfo=UTC))  # type: ignore[arg-type]
    part = base[(base.index >= "2025-03-04") & (base.index < "2025-03-05")].dropna()
    e = part["actual"] - part["predicted"]
    assert from_rollup.details["from"] == "prediction_daily rollup"
    assert from_rollup.n_samples == len(part)
    assert from_rollup.rmse == pytest.approx(math.sqrt((e**2).mean()))
    assert from_rollup.cv_rmse == pytest.approx(
        100 * math.sqrt((e**2).mean()) / part["actual"].mean()
    )

    fc: pd.DataFrame = plant["fc"]  # type: ignore[assignment]
    actual: pd.Series = plant["actual"]  # type: ignore[assignment]
    got = row(ids["forecast_arima"], "periodic_daily", day)
    lead = fc["ts"] - fc["origin"]
    ahead = fc[(fc["ts"] >= day) & (fc["ts"] < day + DAY) & (lead <= pd.Timedelta(hours=24))]
    assert len(ahead) == 24
    err = ahead["actual"] - ahead["predicted"]
    naive = actual.reindex(pd.DatetimeIndex(ahead["ts"]) - pd.Timedelta(days=7)).to_numpy()
    rmse_naive = math.sqrt(((ahead["actual"].to_numpy() - naive) ** 2).mean())
    assert got.n_samples == 24
    assert got.rmse == pytest.approx(math.sqrt((err**2).mean()))
    assert got.mape == pytest.approx(100 * (err.abs() / ahead["actual"]).mean())
    assert got.skill == pytest.approx(1 - math.sqrt((err**2).mean()) / rmse_naive)
    assert got.details["interval_coverage"] == pytest.approx(((err.abs()) <= 3).mean())

    det: pd.DataFrame = plant["det"]  # type: ignore[assignment]
    labels: pd.Series = plant["labels"]  # type: ignore[assignment]
    monday = datetime(2025, 3, 3, tzinfo=UTC)
    got = row(ids["anomaly"], "periodic_weekly", monday)
    part = det[(det.index >= monday) & (det.index < monday + 7 * DAY)]
    truth, flags = labels.reindex(part.index).to_numpy(), part["flagged"].to_numpy()
    tp = int((truth & flags).sum())
    assert got.details["alarm_rate"] == pytest.approx(flags.mean())
    assert truth.sum() > 0
    assert flags.sum() > 0
    assert got.precision == pytest.approx(tp / flags.sum())
    assert got.f1 == pytest.approx(2 * tp / (truth.sum() + flags.sum()))
    assert got.recall == pytest.approx(tp / truth.sum())

    again = performance_evaluation(factory=session_factory, settings=settings, clock=clock)
    assert (again["daily_rows"], again["weekly_rows"]) == (0, 0)
    assert len(_rows(session_factory)) == len(rows)


def test_metrics_from_the_daily_rollup_equal_those_from_the_points() -> None:
    rng = np.random.default_rng(3)
    ts = pd.date_range("2025-01-06", periods=7 * 96, freq="15min", tz="UTC")
    y = rng.uniform(50, 80, len(ts))
    p = y + rng.normal(1.0, 4.0, len(ts))
    points = pd.DataFrame({"actual": y, "predicted": p, "lower": p - 6, "upper": p + 6}, index=ts)
    days = [rollup for _, day in points.groupby(pd.DatetimeIndex(points.index).floor("D"))
            for rollup in [from_log.rollup_sums(day)]]  # fmt: skip
    got = from_log.metrics_from_rollup(days)
    raw = regression_report(y, p)
    assert got.n == len(ts)
    for key in ("r_squared", "rmse", "mae", "mape", "cv_rmse", "nmbe"):
        assert got.values[key] == pytest.approx(raw.values[key], rel=1e-9), key
    assert got.extra["interval_coverage"] == pytest.approx(
        from_log.baseline_metrics(points).extra["interval_coverage"]
    )
