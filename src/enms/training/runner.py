"""Run one training job: claim → load → fit in a child process → register.

The worker thread claims the job (taking a lease), reads its inputs in one short read
transaction, and starts a child process (multiprocessing ``forkserver``) that fits, validates
and refits with no database access (:mod:`enms.training.fit`). While the child works, the
thread renews the lease every ``ENMS_TRAINING__HEARTBEAT_SECONDS`` and records the stages the
child reports. A cancel request, the timeout (``ENMS_TRAINING__TIMEOUT_MINUTES``), a lost lease
or the end of a drain's grace period terminates the child's process group (SIGTERM, then
SIGKILL after ``ENMS_TRAINING__KILL_AFTER_SECONDS``) and only then ends the job, so the
(machine, model type) slot frees only when no fit runs any more. Registration is one short
write transaction that first re-checks the job is still ours, so a cancelled, timed-out or
killed job never leaves a version behind. Every version is registered with the promotion
gate's verdicts (:func:`enms.promotion.gate.registration_gate`).
"""

from __future__ import annotations

import dataclasses
import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pandas as pd

from enms.core.clock import Clock
from enms.core.config import PromotionSettings, TrainingSettings
from enms.core.db import SessionFactory, session_scope
from enms.core.errors import DomainError
from enms.ml.base import ModelError
from enms.ml.registry import get_model_class
from enms.promotion.gate import registration_gate
from enms.readings import service as readings
from enms.registry import artifacts
from enms.registry import service as registry
from enms.training import lifecycle
from enms.training.fit import FitRequest, FitResult, interval, model_report
from enms.training.models import TrainingJob
from enms.training.params import build_params
from enms.training.process import FitProcess, FitProcessDied

log = logging.getLogger(__name__)
StageHook = Callable[[int, str], None]
ChildHook = Callable[[int, int], None]
#: Kept for callers of the contract's name (the report merged into ``metrics_in_sample``).
_model_report = model_report
#: How often a supervising worker reads its job's row for a cancel request.
CANCEL_POLL_SECONDS = 1.0
#: Least time between two progress writes of one job (stages in between are only read).
PROGRESS_WRITE_SECONDS = 1.0


def consumer_id() -> str:
    """A new random id for a consumer process: ``host:pid:random``. Built when a runtime or
    run context is created (never at import, so a forked process gets its own)."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


@dataclass(frozen=True)
class RunContext:
    """What a consumer process provides to every job it runs."""

    factory: SessionFactory
    settings: TrainingSettings
    clock: Clock
    worker: str = field(default_factory=consumer_id)
    on_stage: StageHook | None = None
    #: Called with (job id, child PID) once the fitting process started (tests, logs).
    on_child: ChildHook | None = None
    #: Set when the consumer drains (SIGTERM): running jobs get ``grace_seconds`` to end,
    #: then are handed back to the queue through ``enqueue``.
    draining: threading.Event | None = None
    grace_seconds: float = 30.0
    enqueue: lifecycle.Enqueue | None = None
    memory_mb: int | None = None
    #: The promotion gate's settings: every new version is registered with its verdicts.
    promotion: PromotionSettings = field(default_factory=PromotionSettings)


class _Stop(Exception):
    """The job must stop; ``status`` says how it ends (None: someone else already ended it,
    "pending": hand it back to the queue)."""

    def __init__(self, status: str | None, message: str) -> None:
        super().__init__(message)
        self.status = status


class _Lost(Exception):
    """The job was cancelled, timed out or handed to another worker while registering."""


@dataclass
class _Run:
    """One attempt at a job: which job, which worker holds it, when it must be done."""

    job_id: int
    worker: str
    deadline: datetime
    #: When the job's row was last written by this attempt (monotonic clock).
    written_at: float = field(default_factory=time.monotonic)


def run_job(job_id: int, ctx: RunContext) -> str:
    """Run job ``job_id`` if this worker wins it; return how it ended."""
    worker = f"{ctx.worker}:{threading.get_ident()}"
    if ctx.draining is not None and ctx.draining.is_set():
        # Taken from the queue just as this consumer began to drain: leave it to another.
        if ctx.enqueue is not None:
            ctx.enqueue(job_id)
        return "handed_back"
    with session_scope(ctx.factory, write=True) as session:
        won = lifecycle.claim(
            session=session,
            job_id=job_id,
            worker=worker,
            clock=ctx.clock,
            lease_seconds=ctx.settings.lease_seconds,
        )
    if not won:
        return "skipped"
    run = _Run(job_id, worker, ctx.clock.now() + timedelta(minutes=ctx.settings.timeout_minutes))
    lease = _Lease(run, ctx)
    lease.start()
    try:
        t0 = time.perf_counter()
        request, name = _load(run, ctx)
        t1 = time.perf_counter()
        result = _Supervisor(run, ctx).fit(request)
        t2 = time.perf_counter()
        _register(run, ctx, request, result)
        log.info(
            "job %s: %s for machine %r completed (load %.2f s, fit process %.2f s, "
            "register %.2f s)",
            job_id,
            request.model_type,
            name,
            t1 - t0,
            t2 - t1,
            time.perf_counter() - t2,
        )
        return "completed"
    except _Lost:
        return _settle_lost(ctx, run)
    except _Stop as stop:
        log.warning("job %s: %s", job_id, stop)
        if stop.status == "pending":
            return _hand_back(ctx, run, str(stop))
        if stop.status is not None:
            _finish(ctx, run, stop.status, str(stop))
        return stop.status or "stopped"
    except (ModelError, DomainError) as exc:
        _finish(ctx, run, "failed", str(exc))
        return "failed"
    except Exception as exc:  # a bug must still end the job, with its cause
        log.exception("training job %s crashed", job_id)
        _finish(ctx, run, "failed", f"{type(exc).__name__}: {exc}")
        return "failed"
    finally:
        lease.stop()


class _Lease:
    """Renews the job's lease every ``heartbeat_seconds`` from claim to end, on its own
    thread, so loading, starting the fitting process or registering never lets it lapse."""

    def __init__(self, run: _Run, ctx: RunContext) -> None:
        self._run = run
        self._ctx = ctx
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"lease-{run.job_id}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join(timeout=10)

    def _beat(self) -> None:
        while not self._stopped.wait(self._ctx.settings.heartbeat_seconds):
            try:
                with session_scope(self._ctx.factory, write=True) as session:
                    lifecycle.heartbeat(
                        session=session,
                        job_id=self._run.job_id,
                        worker=self._run.worker,
                        clock=self._ctx.clock,
                        lease_seconds=self._ctx.settings.lease_seconds,
                    )
            except Exception:  # the next beat retries; the lease covers a few misses
                log.exception("lease renewal of job %s failed", self._run.job_id)


def _load(run: _Run, ctx: RunContext) -> tuple[FitRequest, str]:
    """Read the job's inputs (readings, parameters, the champion) in one read transaction."""
    _progress(ctx, run, "loading data", 5.0)
    with session_scope(ctx.factory) as session:
        job = session.get(TrainingJob, run.job_id)
        assert job is not None
        machine = readings.get_machine(session=session, machine_id=job.machine_id)
        frame = readings.training_frame(
            session=session, machine_id=machine.id, start=job.data_start, end=job.data_end
        )
        model_type, overrides = job.model_type, dict(job.hyperparameters)
        timezone, metadata, name = machine.timezone, dict(machine.metadata_), machine.name
        country, planned = machine.country, tuple(machine.planned_drivers or ())
        data_start = job.data_start
        current = registry.champion(session=session, machine_id=machine.id, model_type=model_type)
        # An external champion (trained elsewhere) has no artifact to compare against.
        stored = secret = None
        if current is not None and current.origin == "enms":
            stored, secret = (
                artifacts.StoredArtifact.of(session, current),
                artifacts.secret_of(session),
            )
        champion_end = current.training_end if current is not None else None
        champion_version = current.version if current is not None else None
    # Verified and unpickled outside the read transaction (model work holds no transaction).
    champion = artifacts.load(stored, secret) if stored is not None and secret is not None else None
    frame = _default_window(frame, data_start, ctx.settings.default_window_days)
    params = build_params(
        get_model_class(model_type),
        timezone=timezone,
        country=country,
        planned_drivers=planned,
        metadata=metadata,
        overrides=overrides,
    )
    if len(frame) < 2:
        raise _Stop(
            "failed",
            f"machine {name!r} has {len(frame)} readings in the training window; "
            "import readings first",
        )
    request = FitRequest(
        job_id=run.job_id,
        model_type=model_type,
        params=params,
        frame=frame,
        holdout_fraction=ctx.settings.holdout_fraction,
        champion=champion,
        champion_end=champion_end,
        champion_version=champion_version,
        memory_mb=ctx.memory_mb if ctx.memory_mb is not None else ctx.settings.fit_memory_mb,
    )
    return request, name


def _register(run: _Run, ctx: RunContext, request: FitRequest, result: FitResult) -> None:
    """One short write transaction: the version, and the job's conditional completion."""
    _progress(ctx, run, "registering", 90.0)
    with session_scope(ctx.factory) as session:
        job = session.get(TrainingJob, run.job_id)
        assert job is not None
        requested_by, machine_id = job.requested_by, job.machine_id
    new = registry.NewVersion(
        machine_id=machine_id,
        model_type=request.model_type,
        artifact=result.artifact,
        artifact_sha256=artifacts.sha256_of(result.artifact),
        hyperparameters=result.hyperparameters,
        training_start=result.training_start,
        training_end=result.training_end,
        training_rows=result.training_rows,
        training_data_sha256=result.training_data_sha256,
        metrics_in_sample=result.metrics_in_sample,
        metrics_holdout=result.metrics_holdout,
        ashrae14=result.ashrae14,
        training_job_id=run.job_id,
        fit_seconds=result.fit_seconds,
        created_by=requested_by,
    )
    # The gate judges the recorded figures (pure, quick): a version that fails is still
    # registered, flagged, and champion only when there is none.
    verdicts, gate_passed = registration_gate(new, ctx.promotion)
    new = dataclasses.replace(new, gate=verdicts, gate_passed=gate_passed)
    with session_scope(ctx.factory, write=True) as session:
        number = registry.register_version(session=session, new=new, clock=ctx.clock).version
        # The conditional running → completed (still ours, no cancel requested) decides any
        # race with a cancel, a timeout or a recovery; losing it rolls the version back.
        if not lifecycle.finish(
            session=session,
            job_id=run.job_id,
            status="completed",
            clock=ctx.clock,
            model_version=number,
            improvement=result.improvement,
            worker=run.worker,
        ):
            raise _Lost()


class _Supervisor:
    """Starts the fitting process and watches it: stages, cancel requests, stop conditions."""

    def __init__(self, run: _Run, ctx: RunContext) -> None:
        self._run = run
        self._ctx = ctx
        self._drain_started: float | None = None

    def fit(self, request: FitRequest) -> FitResult:
        """The child's result, or :class:`_Stop`; the child is gone when this returns."""
        child = FitProcess(request)
        if self._ctx.on_child is not None:
            self._ctx.on_child(self._run.job_id, child.pid)
        try:
            result = self._watch(child)
            child.finished()
            return result
        finally:
            child.stop(self._ctx.settings.kill_after_seconds)

    def _watch(self, child: FitProcess) -> FitResult:
        next_look = time.monotonic() + CANCEL_POLL_SECONDS
        while True:
            self._check_stop()
            if time.monotonic() >= next_look:
                # A read, not a write (the lease thread writes): a cancel stops the fit
                # within about a second whatever the heartbeat period.
                _look(self._ctx, self._run)
                next_look = time.monotonic() + CANCEL_POLL_SECONDS
            try:
                message = child.receive(min(next_look - time.monotonic(), 0.5))
            except FitProcessDied as exc:
                raise _Stop("failed", str(exc)) from None
            if message is None:
                continue
            kind = message[0]
            if kind == "stage":
                _progress(self._ctx, self._run, message[1], message[2])
            elif kind == "done":
                result: FitResult = message[1]
                return result
            elif kind == "crash":
                log.error("job %s: the fit crashed: %s", self._run.job_id, message[1])
                raise _Stop("failed", message[1].split("\n", 1)[0])
            else:
                raise _Stop("failed", message[1])

    def _check_stop(self) -> None:
        ctx, run = self._ctx, self._run
        if ctx.clock.now() >= run.deadline:
            raise _Stop("timed_out", _timeout_message(ctx.settings))
        if ctx.draining is not None and ctx.draining.is_set():
            if self._drain_started is None:
                self._drain_started = time.monotonic()
            if time.monotonic() - self._drain_started >= ctx.grace_seconds:
                raise _Stop(
                    "pending",
                    f"worker {run.worker} stopped (SIGTERM) and the fit did not end within "
                    f"the {ctx.grace_seconds:g} s grace period; handed back to the queue",
                )


def _look(ctx: RunContext, run: _Run) -> None:
    with session_scope(ctx.factory) as session:
        state = lifecycle.state(session=session, job_id=run.job_id)
    _act_on(state, run, None)


def _act_on(state: lifecycle.JobState, run: _Run, stage: str | None) -> None:
    if not state.held_by(run.worker):
        raise _Stop(None, f"job is {state.status} (held by {state.worker})")
    if state.cancel_requested:
        during = f" during {stage}" if stage else ""
        raise _Stop("cancelled", f"cancelled{during}; the fit was stopped, nothing was registered")


def _progress(ctx: RunContext, run: _Run, stage: str, percent: float) -> None:
    """Record a stage (renewing the lease), then act on what the job's row says.

    A stage reached within :data:`PROGRESS_WRITE_SECONDS` of the last write is only read
    back, not written: a quick job then costs two writes (claim, registration), so parallel
    workers do not queue for the database's write lock (SQLite) between short fits."""
    if ctx.on_stage is not None:
        ctx.on_stage(run.job_id, stage)
    if ctx.clock.now() >= run.deadline:
        raise _Stop("timed_out", _timeout_message(ctx.settings))
    if time.monotonic() - run.written_at < PROGRESS_WRITE_SECONDS:
        _look(ctx, run)
        return
    run.written_at = time.monotonic()
    with session_scope(ctx.factory, write=True) as session:
        state = lifecycle.heartbeat(
            session=session,
            job_id=run.job_id,
            worker=run.worker,
            clock=ctx.clock,
            lease_seconds=ctx.settings.lease_seconds,
            stage=stage,
            percent=percent,
        )
    _act_on(state, run, stage)


def _finish(ctx: RunContext, run: _Run, status: str, error: str | None) -> None:
    with session_scope(ctx.factory, write=True) as session:
        lifecycle.finish(
            session=session,
            job_id=run.job_id,
            status=status,
            clock=ctx.clock,
            error=error,
            worker=run.worker,
        )


def _hand_back(ctx: RunContext, run: _Run, reason: str) -> str:
    with session_scope(ctx.factory, write=True) as session:
        lifecycle.hand_back(
            session=session,
            job_id=run.job_id,
            worker=run.worker,
            clock=ctx.clock,
            reason=reason,
            enqueue=ctx.enqueue or (lambda _job_id: None),
        )
    return "handed_back"


def _settle_lost(ctx: RunContext, run: _Run) -> str:
    """The registration lost its race (and was rolled back): end the job if it is still ours."""
    with session_scope(ctx.factory, write=True) as session:
        state = lifecycle.state(session=session, job_id=run.job_id)
        if state.held_by(run.worker) and state.cancel_requested:
            lifecycle.finish(
                session=session,
                job_id=run.job_id,
                status="cancelled",
                clock=ctx.clock,
                error="cancelled while registering; nothing was registered",
                worker=run.worker,
            )
            return "cancelled"
    return "stopped"


def _timeout_message(settings: TrainingSettings) -> str:
    return (
        f"ran longer than the {settings.timeout_minutes:g}-minute timeout "
        "(ENMS_TRAINING__TIMEOUT_MINUTES); the fit was stopped, nothing was registered"
    )


def _default_window(frame: pd.DataFrame, start: object, days: int) -> pd.DataFrame:
    if start is not None or frame.empty:
        return frame
    since = frame.index[-1] - pd.Timedelta(days=days) + interval(frame)
    kept: pd.DataFrame = frame.loc[frame.index >= since]
    return kept
