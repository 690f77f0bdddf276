"""Scenario ``job_throughput``: baseline training jobs per minute through the job queue.

Runs N real baseline jobs (one hourly machine-year each, on SQLite) through the embedded
Huey queue consumed by 2 `enms worker` processes, and, as the same-run reference, N other
machines' identical jobs run one after another in the calling process without the queue
(``run_job`` in a loop — each fit in its child process, like every job). In each round both
sides train the same version number of equal machines, so they do the same work; the ratio
shows what the queue, its bookkeeping (claims, leases, progress, registration) and two
parallel worker processes gain or cost. Target (issue 8): at least 1.6× inline sequential.
A second row measures, in the same rounds, the speed-up 2 processes of pure arithmetic get on
this machine at that moment: on a shared machine it bounds what any 2-process queue reaches.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import select

from benchmarks.harness import Row
from enms.core import schema
from enms.core.clock import SystemClock
from enms.core.config import Settings
from enms.core.db import SessionFactory, create_db_engine, create_session_factory, session_scope
from enms.core.secrets import InstanceSecret
from enms.core.timewindow import Window
from enms.demo.generator import generate_plant
from enms.readings import parsing
from enms.readings import service as readings
from enms.readings.schemas import MachineCreate
from enms.training import service as training
from enms.training.models import TrainingJob
from enms.training.process import warm_up
from enms.training.runner import RunContext, run_job

NAME = "job_throughput"
WORKERS = 2


def _database(path: Path, machines: int) -> tuple[SessionFactory, list[int], str]:
    url = f"sqlite:///{path}"
    engine = create_db_engine(url)
    schema.upgrade(engine)
    factory = create_session_factory(engine, secret=InstanceSecret(data_dir=path.parent / "data"))
    plant = generate_plant(seed=5, days=365, freq="h")
    ids = []
    for i in range(machines):
        source = plant[i % len(plant)]
        csv = source.readings.rename_axis("timestamp").to_csv(date_format="%Y-%m-%dT%H:%M:%SZ")
        with session_scope(factory, write=True) as session:
            m = readings.create_machine(
                session=session,
                clock=SystemClock(),
                data=MachineCreate(name=f"{source.name} #{i}", timezone=source.timezone),
            )
            target = readings.get_machine(session=session, machine_id=m.id)
            readings.import_readings(session=session, machine=target, parsed=parsing.parse_csv(csv))
        ids.append(m.id)
    return factory, ids, url


def _trigger(
    factory: SessionFactory, machine_ids: list[int], enqueue: training.Enqueue
) -> list[int]:
    out = []
    for machine_id in machine_ids:
        with session_scope(factory, write=True) as session:
            result = training.trigger(
                session=session,
                machine_id=machine_id,
                model_type="baseline",
                trigger_type="manual",
                reason="benchmark",
                requested_by="bench",
                window=Window(None, None),
                hyperparameters={},
                clock=SystemClock(),
                enqueue=enqueue,
            )
        assert result.training_job_id is not None
        out.append(result.training_job_id)
    return out


def _wait(factory: SessionFactory, job_ids: list[int]) -> None:
    # One small query per poll: the benchmark must not steal the workers' CPU.
    while True:
        with session_scope(factory) as session:
            statuses = session.execute(
                select(TrainingJob.training_status).where(TrainingJob.id.in_(job_ids))
            ).scalars()
            open_or_done = list(statuses)
        if all(s not in ("pending", "running") for s in open_or_done):
            assert set(open_or_done) == {"completed"}, open_or_done
            return
        time.sleep(0.2)  # polling the worker processes


def _start_workers(url: str, data_dir: Path, logs: Path) -> list[subprocess.Popen[bytes]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ENMS_")} | {
        "ENMS_DATABASE_URL": url,
        "ENMS_DATA_DIR": str(data_dir),
        # The default set-up: each worker process runs ENMS_QUEUE__WORKERS (2) threads,
        # each supervising its own fitting process.
        "ENMS_LOG_LEVEL": "INFO",
    }
    procs = []
    for i in range(WORKERS):
        log = logs / f"worker-{i}.log"
        with log.open("wb") as out:
            procs.append(
                subprocess.Popen(
                    [sys.executable, "-m", "enms.cli", "worker"],
                    env=env,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            )
    # Ready when each has its fork server up (the inline side warms its own up too).
    deadline = time.monotonic() + 120
    while not all(
        "fork server for fits ready" in (logs / f"worker-{i}.log").read_text()
        for i in range(WORKERS)
    ):
        if time.monotonic() > deadline:
            raise RuntimeError("workers did not start: " + (logs / "worker-0.log").read_text())
        time.sleep(0.1)  # waiting for the worker processes to start
    return procs


def _spin(_: int) -> int:
    total = 0
    for i in range(3_000_000):
        total += i
    return total


def _cpu_ceiling() -> tuple[float, float]:
    """Seconds for 4 units of pure arithmetic one after another, and on 2 processes: what
    parallel speed-up this (possibly shared) machine offers right now."""
    import multiprocessing

    started = time.perf_counter()
    for i in range(4):
        _spin(i)
    sequential = time.perf_counter() - started
    with multiprocessing.get_context("spawn").Pool(WORKERS) as pool:
        pool.map(_spin, range(2))  # start-up outside the timing
        started = time.perf_counter()
        pool.map(_spin, range(4), chunksize=1)
        parallel = time.perf_counter() - started
    return sequential, parallel


def run(*, quick: bool) -> list[Row]:
    """Time ``40`` (quick: 8) baseline jobs through the queue and inline, in 3 (quick: 1)
    interleaved rounds; the row reports the round with the median ratio.

    Every round trains the next version of each machine on both sides (round 1: first
    versions; later rounds also compare with the champion), and the side that goes first
    alternates, so both sides meet the same background load (other processes on the
    machine) on average."""
    from enms.jobs.runtime import create_runtime

    n = 8 if quick else 40
    rounds = 1 if quick else 3
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        factory, machine_ids, url = _database(root / "bench.db", 2 * n)
        inline_ids, queued_ids = machine_ids[:n], machine_ids[n:]
        settings = Settings(database_url=url, data_dir=root / "data")
        warm_up()
        ctx = RunContext(factory=factory, settings=settings.training, clock=SystemClock())
        engine = create_db_engine(url)
        rt = create_runtime(settings, engine, SystemClock())
        workers = _start_workers(url, root / "data", root)

        def inline() -> float:
            jobs = _trigger(factory, inline_ids, lambda _j: None)
            started = time.perf_counter()
            for job_id in jobs:
                assert run_job(job_id, ctx) == "completed"
            return time.perf_counter() - started

        def queued() -> float:
            started = time.perf_counter()
            jobs = _trigger(factory, queued_ids, rt.enqueue_training)
            _wait(factory, jobs)
            return time.perf_counter() - started

        results: list[tuple[float, float]] = []
        ceilings: list[tuple[float, float]] = []
        try:
            for i in range(rounds):
                if i % 2 == 0:
                    results.append((inline(), queued()))
                else:
                    q = queued()
                    results.append((inline(), q))
                ceilings.append(_cpu_ceiling())
        finally:
            for proc in workers:
                proc.terminate()
            for proc in workers:
                proc.wait(60)
            engine.dispose()
            if os.environ.get("ENMS_BENCH_SHOW_LOGS"):
                for i in range(WORKERS):
                    print((root / f"worker-{i}.log").read_text(), file=sys.stderr)
    ratios = sorted(results, key=lambda r: r[0] / r[1])
    inline_s, queued_s = ratios[len(ratios) // 2]
    every = ", ".join(f"{i / q:.2f}" for i, q in results)
    ceiling = sorted(ceilings, key=lambda c: c[0] / c[1])[len(ceilings) // 2]
    return [
        Row(
            NAME,
            f"machine ceiling: pure arithmetic on {WORKERS} processes",
            4 / ceiling[1],
            "units/s",
            "sequential",
            4 / ceiling[0],
            note="the parallel speed-up the (shared) machine offered during the rounds: "
            + ", ".join(f"{s / p:.2f}" for s, p in ceilings),
        ),
        Row(
            NAME,
            f"baseline jobs, {WORKERS} `enms worker` processes (default 2 threads), "
            f"{n} machine-years",
            60 * n / queued_s,
            "jobs/min",
            "inline sequential",
            60 * n / inline_s,
            # 8 jobs in one round are a smoke run: start-up latency dominates, no target.
            target=None if quick else 1.6,
            note=f"SQLite, hourly machine-year per job; ratio per round: {every} (median shown)",
        ),
    ]
