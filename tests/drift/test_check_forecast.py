"""The drift check of a forecaster: judged on its day-ahead points from the log; residual
detectors and energy-grade degradation do not apply."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest
from tests.drift.test_check import COMPRESSOR, check, import_machine, log_points
from tests.factories import trigger_job

from enms.core.clock import FrozenClock
from enms.core.config import Settings, TrainingSettings
from enms.core.db import SessionFactory, session_scope
from enms.core.timewindow import Window
from enms.readings import service as readings
from enms.registry import artifacts
from enms.registry import service as registry
from enms.training.runner import RunContext, run_job


def test_a_forecaster_is_judged_on_its_day_ahead_points_not_by_residual_detectors(
    session_factory: SessionFactory, clock: FrozenClock, settings: Settings
) -> None:
    machine_id = import_machine(session_factory, clock, index=COMPRESSOR)
    with session_scope(session_factory, write=True) as session:
        job = trigger_job(  # a short, quick fit: validated on one week, one origin a day
            session,
            machine_id=machine_id,
            model_type="forecast_arima",
            clock=clock,
            window=Window.parse("2025-02-01", "2025-04-01"),
            hyperparameters={"validation_days": 7, "origin_every_hours": 24},
        )
    assert job.training_job_id is not None
    context = RunContext(factory=session_factory, settings=TrainingSettings(), clock=clock)
    assert run_job(job.training_job_id, context) == "completed"
    with session_scope(session_factory) as session:
        row = registry.get_version(
            session=session, machine_id=machine_id, model_type="forecast_arima"
        )
        stored, secret = artifacts.StoredArtifact.of(session, row), artifacts.secret_of(session)
        held_out_rmse = row.metrics_holdout["rmse"]
        frame = readings.training_frame(
            session=session,
            machine_id=machine_id,
            start=datetime(2025, 3, 1, tzinfo=UTC),
            end=datetime(2025, 4, 21, tzinfo=UTC),
        )
    model = artifacts.load(stored, secret)
    forecasts = model.forecast_from(  # type: ignore[attr-defined]
        frame, every=pd.Timedelta(days=1), start=pd.Timestamp("2025-04-07", tz="UTC")
    )
    day_ahead = pd.DataFrame(
        {
            "origin": forecasts["origin"],
            "predicted": forecasts["forecast"],
            "lower": forecasts["lower"],
            "upper": forecasts["upper"],
            "actual": frame["energy_kwh"].reindex(forecasts.index),
        }
    )
    # Forecasts issued two days earlier for the same targets are not day-ahead: left out.
    stale = day_ahead.assign(
        origin=day_ahead["origin"] - pd.Timedelta(days=2), predicted=day_ahead["predicted"] + 1e3
    )
    log_points(session_factory, clock, machine_id, "forecast_arima", pd.concat([day_ahead, stale]))

    result = check(
        session_factory,
        clock,
        settings,
        machine_id,
        ("2025-04-07", "2025-04-21"),
        model_type="forecast_arima",
    )
    found = result.drift_details["concept_drift"]
    assert found["applicable"] is False
    assert found["drift_detected"] is None
    assert "forecasters" in found["reason"]
    assert result.drift_details["degradation"]["energy"]["applicable"] is False
    performance = result.drift_details["degradation"]["performance"]
    assert performance["n"] == len(day_ahead) == 14 * 24
    assert performance["n_logged"] == 2 * 14 * 24
    errors = day_ahead["actual"] - day_ahead["predicted"]
    assert result.metrics["rmse"] == pytest.approx(float(np.sqrt((errors**2).mean())))
    assert result.metrics["skill"] is not None
    judged = {m["metric"]: m for m in performance["metrics"]}
    assert set(judged) == {"mape", "rmse", "mae", "skill"}
    assert judged["rmse"]["held_out"] == pytest.approx(held_out_rmse)
    assert judged["rmse"]["degraded"] == (result.metrics["rmse"] > 1.25 * held_out_rmse)
    assert result.drift_detected == result.drift_details["data_drift"]["drift_detected"]
