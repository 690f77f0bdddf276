"""Scenario ``trigger_burst``: 50 concurrent retrain triggers while the machine's job runs.

A real ``enms serve`` application (uvicorn, in a thread of this process) on a SQLite *file*
and on PostgreSQL. One machine has a running anomaly job whose heartbeat writes in a loop —
in this process through the server's own engine (as the in-process consumer does) and from a
second engine (as a worker process does). Then 50 clients, each on its own connection, send
``POST /api/v1/model-performance/retrain/trigger`` for the machine's baseline at once.

Reported: p50 and p99 latency of the burst next to the p50 of the same trigger sent alone
on the idle server (same run), the number of 5xx answers (target 0) and the jobs created
(exactly one; the others are told which job is in progress). The test suite runs the same
burst (``tests/core/test_trigger_burst.py``) and asserts on it.
"""

from __future__ import annotations

import socket
import statistics
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import uvicorn
from fastapi import FastAPI, Request
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session

from benchmarks.harness import Row
from enms.api.app import create_app
from enms.api.deps import get_session
from enms.core import schema
from enms.core.clock import SystemClock
from enms.core.config import QueueSettings, Settings
from enms.core.db import (
    REQUEST_GATE_OPTION,
    WRITE_GATE_OPTION,
    SessionFactory,
    create_db_engine,
    create_session_factory,
    session_scope,
)
from enms.core.secrets import instance_secret_for
from enms.core.timewindow import Window
from enms.demo.generator import generate_plant
from enms.readings import parsing
from enms.readings import service as readings
from enms.readings.schemas import MachineCreate
from enms.training import lifecycle
from enms.training import service as training
from enms.training.models import TrainingJob

NAME = "trigger_burst"
TRIGGER = "/api/v1/model-performance/retrain/trigger"
POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@dataclass
class BurstResult:
    """What the clients got back, and what the database holds afterwards."""

    statuses: list[int] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)  # clients that got no answer
    triggered: int = 0  # answers saying a job was created
    baseline_jobs: int = 0  # baseline jobs of the machine in the database
    machine_jobs: int = 0  # all jobs of the machine
    running_job_id: int = 0
    beats: int = 0  # heartbeat writes committed while the burst ran
    heartbeat_errors: list[str] = field(default_factory=list)

    def quantile(self, q: float) -> float:
        """Latency quantile in milliseconds."""
        cut = statistics.quantiles(self.latencies, n=100, method="inclusive")
        return 1000 * (min(self.latencies) if q <= 0 else cut[round(q * 100) - 1])


def prepare_machine(factory: SessionFactory, *, days: int = 60) -> int:
    """A machine with ``days`` of the demo plant's hourly readings; its id."""
    source = generate_plant(seed=7, days=days, freq="h")[0]
    csv = source.readings.rename_axis("timestamp").to_csv(date_format="%Y-%m-%dT%H:%M:%SZ")
    with session_scope(factory, write=True) as session:
        machine = readings.create_machine(
            session=session,
            clock=SystemClock(),
            data=MachineCreate(name=source.name, timezone=source.timezone),
        )
        target = readings.get_machine(session=session, machine_id=machine.id)
        readings.import_readings(session=session, machine=target, parsed=parsing.parse_csv(csv))
        return machine.id


def start_running_job(factory: SessionFactory, machine_id: int, worker: str) -> int:
    """A job of the machine in state ``running`` held by ``worker``."""
    with session_scope(factory, write=True) as session:
        job = training.trigger(
            session=session,
            machine_id=machine_id,
            model_type="anomaly",
            trigger_type="manual",
            reason="fitting while the burst arrives",
            requested_by="bench",
            window=Window.parse(None, None),
            hyperparameters={},
            clock=SystemClock(),
            enqueue=lambda _id: None,
        )
    assert job.training_job_id is not None
    with session_scope(factory, write=True) as session:
        claimed = lifecycle.claim(
            session=session, job_id=job.training_job_id, worker=worker, clock=SystemClock()
        )
        assert claimed
    return job.training_job_id


class Heartbeats:
    """Writers that heartbeat a running job in a loop until stopped (real write contention)."""

    def __init__(self, factories: list[SessionFactory], job_id: int, worker: str) -> None:
        self._stop = threading.Event()
        self._beats = [0] * len(factories)
        self._errors: list[BaseException] = []
        self._threads = [
            threading.Thread(target=self._loop, args=(i, f, job_id, worker), daemon=True)
            for i, f in enumerate(factories)
        ]

    def _loop(self, index: int, factory: SessionFactory, job_id: int, worker: str) -> None:
        percent = 20.0
        while not self._stop.is_set():
            try:
                with session_scope(factory, write=True) as session:
                    lifecycle.heartbeat(
                        session=session,
                        job_id=job_id,
                        worker=worker,
                        clock=SystemClock(),
                        stage="fitting",
                        percent=percent,
                    )
                self._beats[index] += 1
                percent = 20.0 + (self._beats[index] % 30)
            except Exception as exc:  # reported by stop()
                self._errors.append(exc)
                return

    def __enter__(self) -> Heartbeats:
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        for t in self._threads:
            t.join()

    @property
    def beats(self) -> int:
        """Heartbeats committed so far."""
        return sum(self._beats)

    @property
    def errors(self) -> list[BaseException]:
        """Heartbeats that failed (each writer stops at its first failure)."""
        return list(self._errors)


@contextmanager
def serving(app: FastAPI, *, quiet: bool = False) -> Iterator[str]:
    """Run ``app`` under uvicorn in a thread on a free loopback port; yield its base URL
    (``quiet``: without logging each failed request's traceback)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(
            app, log_level="critical" if quiet else "warning", lifespan="on", access_log=False
        )
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    started = threading.Event()
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("uvicorn stopped before it started serving")
        started.wait(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(30)
        sock.close()


def burst(base_url: str, machine_id: int, clients: int) -> BurstResult:
    """``clients`` concurrent triggers, each on its own connection, released together."""
    result = BurstResult()
    barrier = threading.Barrier(clients)
    lock = threading.Lock()
    body = {"machine_id": machine_id, "model_type": "baseline", "requested_by": "burst"}

    def client() -> None:
        with httpx.Client(base_url=base_url, timeout=120) as http:
            barrier.wait()
            started = time.perf_counter()
            try:
                answer = http.post(TRIGGER, json=body)
            except httpx.HTTPError as exc:
                with lock:
                    result.failures.append(f"{type(exc).__name__}: {exc}")
                return
            elapsed = time.perf_counter() - started
        with lock:
            result.statuses.append(answer.status_code)
            result.latencies.append(elapsed)
            if answer.status_code < 300 and answer.json().get("triggered"):
                result.triggered += 1
            elif answer.status_code >= 500:
                result.failures.append(f"{answer.status_code}: {answer.text[:200]}")

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return result


def seed_style(app: FastAPI, engine: Engine, settings: Settings) -> FastAPI:
    """``app`` with requests handled as before this change (the same-run reference): a sync
    dependency that opens ``BEGIN IMMEDIATE`` on entry, no write gate, no admission limit."""
    ungated = engine.execution_options(**{WRITE_GATE_OPTION: None, REQUEST_GATE_OPTION: None})
    factory = create_session_factory(ungated, secret=instance_secret_for(settings))

    def old_get_session(request: Request) -> Iterator[Session]:
        write = request.method not in ("GET", "HEAD")
        with session_scope(factory, write=write) as session:
            if write:
                session.connection()  # the write lock was taken up front
            yield session

    app.dependency_overrides[get_session] = old_get_session
    return app


def run_burst(
    engine: Engine, settings: Settings, *, clients: int = 50, before: bool = False
) -> BurstResult:
    """The whole scenario on a migrated, empty database behind ``engine`` (``before``: with
    requests handled as before this change)."""
    secret = instance_secret_for(settings)
    factory = create_session_factory(engine, secret=secret)
    machine_id = prepare_machine(factory)
    worker = "fitter:1"
    job_id = start_running_job(factory, machine_id, worker)
    other_process = create_db_engine(settings.database_url)
    settings = settings.model_copy(update={"queue": QueueSettings(in_process=False)})
    app = create_app(settings, engine=engine)
    if before:
        app = seed_style(app, engine, settings)
    try:
        with (
            serving(app, quiet=before) as url,
            Heartbeats(
                [factory, create_session_factory(other_process, secret=secret)], job_id, worker
            ) as beats,
        ):
            result = burst(url, machine_id, clients)
            result.beats = beats.beats
        if beats.errors:
            result.heartbeat_errors.extend(str(e)[:200] for e in beats.errors)
    finally:
        other_process.dispose()
    with session_scope(factory) as session:
        count = select(func.count()).select_from(TrainingJob)
        mine = count.where(TrainingJob.machine_id == machine_id)
        result.machine_jobs = session.scalar(mine) or 0
        result.baseline_jobs = session.scalar(mine.where(TrainingJob.model_type == "baseline")) or 0
    result.running_job_id = job_id
    return result


def idle_latency(engine: Engine, settings: Settings, *, requests: int = 20) -> float:
    """Median latency (ms) of one trigger at a time on an idle server (the reference)."""
    factory = create_session_factory(engine, secret=instance_secret_for(settings))
    with session_scope(factory) as session:
        machine_id = session.scalar(text("SELECT min(id) FROM machines"))
    settings = settings.model_copy(update={"queue": QueueSettings(in_process=False)})
    times = []
    with serving(create_app(settings, engine=engine)) as url, httpx.Client(base_url=url) as http:
        for _ in range(requests):
            started = time.perf_counter()
            http.post(TRIGGER, json={"machine_id": machine_id, "model_type": "baseline"})
            times.append(time.perf_counter() - started)
    return 1000 * statistics.median(times)


def _rows(
    dialect: str, now: BurstResult, before: BurstResult, idle_ms: float, clients: int
) -> list[Row]:
    note = (
        f"{now.beats} heartbeat writes during the burst, {len(now.heartbeat_errors)} failed "
        f"(before: {len(before.heartbeat_errors)} failed)"
    )
    return [
        Row(NAME, f"{dialect}: {clients} triggers p50", now.quantile(0.5), "ms",
            "idle p50", idle_ms, higher_is_better=False, note=note),
        Row(NAME, f"{dialect}: {clients} triggers p99", now.quantile(0.99), "ms",
            "idle p50", idle_ms, higher_is_better=False),
        Row(NAME, f"{dialect}: 5xx or unanswered", float(len(now.failures)), "answers",
            "before this change", float(len(before.failures)), target=0, target_on="value",
            higher_is_better=False,
            note=f"before: p99 {before.quantile(0.99):,.0f} ms" if before.latencies else ""),
        Row(NAME, f"{dialect}: jobs created", float(now.baseline_jobs), "jobs",
            "before this change", float(before.baseline_jobs), target=1, target_on="value",
            higher_is_better=False, note=f"{now.triggered} answers said triggered"),
    ]  # fmt: skip


def _postgres_database() -> str | None:
    try:
        admin = create_db_engine(POSTGRES_URL).execution_options(isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text('DROP DATABASE IF EXISTS "enms_bench_burst" WITH (FORCE)'))
            conn.execute(text('CREATE DATABASE "enms_bench_burst"'))
        admin.dispose()
    except Exception:
        return None
    return POSTGRES_URL.rsplit("/", 1)[0] + "/enms_bench_burst"


def run(*, quick: bool) -> list[Row]:
    """The burst on a SQLite file and (when reachable) on PostgreSQL, now and as before."""
    clients = 20 if quick else 50
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as tmp:
        urls = {"sqlite": f"sqlite:///{Path(tmp) / 'burst.db'}"}
        pg = _postgres_database()
        if pg is not None:
            urls["postgresql"] = pg
        for dialect, url in urls.items():
            results = []
            for before in (True, False):
                if dialect == "sqlite":
                    url = f"sqlite:///{Path(tmp) / f'burst-{before}.db'}"
                else:
                    url = _postgres_database() or url
                engine = create_db_engine(url)
                schema.upgrade(engine)
                settings = Settings(database_url=url, data_dir=Path(tmp) / "data")
                results.append(run_burst(engine, settings, clients=clients, before=before))
                idle = idle_latency(engine, settings)
                engine.dispose()
            rows.extend(_rows(dialect, results[1], results[0], idle, clients))
    return rows
