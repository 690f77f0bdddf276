"""Acceptance: 50 concurrent triggers while a job of the same machine runs and heartbeats —
through a real uvicorn server on a SQLite file and on PostgreSQL: exactly one job, no 5xx,
every client answered. The scenario is the benchmark's (``benchmarks/scenarios/trigger_burst``),
which also reports its latency."""

from __future__ import annotations

from collections import Counter

from benchmarks.scenarios.trigger_burst import run_burst
from sqlalchemy import Engine

from enms.core.config import Settings


def test_fifty_concurrent_triggers_make_exactly_one_job_and_no_5xx(
    engine: Engine, settings: Settings
) -> None:
    result = run_burst(engine, settings, clients=50)
    assert result.failures == []
    assert len(result.statuses) == 50  # every client answered
    assert Counter(result.statuses) == {202: 1, 200: 49}
    assert result.triggered == 1
    assert result.baseline_jobs == 1
    assert result.machine_jobs == 2  # the running one and the new one
    assert result.beats > 0  # the job's heartbeat really wrote during the burst
    assert result.heartbeat_errors == []
