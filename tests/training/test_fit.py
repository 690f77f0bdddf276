"""The child side of a job, called directly: champion comparison rules, and the memory limit
enforced in a real fitting process."""

from __future__ import annotations

import pandas as pd
import pytest
from tests.factories import import_demo_machine, trigger_job

from enms.core.clock import FrozenClock
from enms.core.config import TrainingSettings
from enms.core.db import SessionFactory, session_scope
from enms.demo.generator import generate_plant
from enms.ml.baseline import BaselineModel
from enms.training import service
from enms.training.fit import FitRequest, fit_validate_refit
from enms.training.runner import RunContext, run_job


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    readings: pd.DataFrame = generate_plant(seed=3, days=120, freq="h")[1].readings
    return readings


def _request(frame: pd.DataFrame, champion: BaselineModel | None) -> FitRequest:
    return FitRequest(
        job_id=1,
        model_type="baseline",
        params={},
        frame=frame,
        holdout_fraction=0.2,
        champion=champion,
        champion_end=None,
        champion_version=1 if champion is not None else None,
    )


def test_a_champion_that_cannot_score_makes_the_comparison_not_comparable(
    frame: pd.DataFrame,
) -> None:
    # The champion was fitted with a driver column the new readings no longer have.
    with_driver = frame.assign(steam_flow=frame["energy_kwh"].rolling(3, min_periods=1).mean())
    champion = BaselineModel(drivers=("steam_flow",)).fit(with_driver)
    stages: list[str] = []
    result = fit_validate_refit(_request(frame, champion), lambda s, _p: stages.append(s))
    comparison = result.metrics_holdout["comparison"]
    assert comparison["status"] == "not_comparable"
    assert "cannot be scored" in comparison["reason"]
    assert "steam_flow" in comparison["reason"]
    assert comparison["champion_version"] == 1
    assert result.improvement is None
    assert stages == ["fitting", "validating", "refitting"]
    assert result.artifact  # the retrain itself succeeded


def test_without_a_champion_there_is_nothing_to_compare(frame: pd.DataFrame) -> None:
    result = fit_validate_refit(_request(frame, None), lambda _s, _p: None)
    assert result.metrics_holdout["comparison"] == {"status": "no_champion"}
    assert result.improvement is None
    assert result.training_rows == len(frame)


def test_a_fit_over_its_memory_limit_fails_the_job_clearly(
    session_factory: SessionFactory, clock: FrozenClock
) -> None:
    with session_scope(session_factory, write=True) as session:
        machine_id = import_demo_machine(session, clock).id
        job_id = trigger_job(
            session, machine_id=machine_id, model_type="anomaly", clock=clock
        ).training_job_id
    assert job_id is not None
    ctx = RunContext(
        factory=session_factory, settings=TrainingSettings(fit_memory_mb=64), clock=clock
    )
    assert run_job(job_id, ctx) == "failed"
    with session_scope(session_factory) as session:
        job = service.get_job(session=session, job_id=job_id)
        assert "memory" in (job.error_message or ""), job.error_message
        assert job.model_version is None
