"""Run one training job: load → fit → validate → register, with progress and heartbeats.

Long work (fitting) happens outside any database transaction. A heartbeat thread writes
``heartbeat_at`` every ``ENMS_TRAINING__HEARTBEAT_SECONDS`` and ends the job ``timed_out``
when it overruns ``ENMS_TRAINING__TIMEOUT_MINUTES``. At every stage boundary the job re-reads
its row: a cancel request ends it ``cancelled``; a status changed by someone else (timeout,
recovery) ends it quietly. Registration is one transaction that first re-checks the job is
still running, so a cancelled, timed-out or killed job never leaves a version behind.
"""

from __future__ import annotations

import hashlib
import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import pandas as pd

from enms.core.clock import Clock
from enms.core.config import TrainingSettings
from enms.core.db import SessionFactory, session_scope
from enms.core.errors import DomainError
from enms.ml.base import ModelError
from enms.ml.registry import get_model_class
from enms.ml.scoring import Score, improvement, score
from enms.readings import service as readings
from enms.registry import artifacts
from enms.registry import service as registry
from enms.training import service as jobs
from enms.training.params import build_params

log = logging.getLogger(__name__)
StageHook = Callable[[int, str], None]


class _Stop(Exception):
    """The job must stop at this boundary; ``status`` says how it ends (None: already ended)."""

    def __init__(self, status: str | None, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class RunContext:
    """What a worker process provides to every job it runs."""

    factory: SessionFactory
    settings: TrainingSettings
    clock: Clock
    worker: str = f"{socket.gethostname()}:{os.getpid()}"
    on_stage: StageHook | None = None


def run_job(job_id: int, ctx: RunContext) -> str:
    """Run job ``job_id`` if this worker wins it; return how it ended."""
    worker = f"{ctx.worker}:{threading.get_ident()}"
    with session_scope(ctx.factory, write=True) as session:
        if not jobs.claim(session=session, job_id=job_id, worker=worker, clock=ctx.clock):
            return "skipped"
    deadline = ctx.clock.now() + timedelta(minutes=ctx.settings.timeout_minutes)
    beat = _Heartbeat(job_id, ctx, deadline)
    beat.start()
    try:
        return _stages(job_id, ctx, deadline)
    except _Stop as stop:
        if stop.status is not None:
            _finish(ctx, job_id, stop.status, str(stop))
        return stop.status or "stopped"
    except (ModelError, DomainError) as exc:
        _finish(ctx, job_id, "failed", str(exc))
        return "failed"
    except Exception as exc:  # a bug must still end the job, with its cause
        log.exception("training job %s crashed", job_id)
        _finish(ctx, job_id, "failed", f"{type(exc).__name__}: {exc}")
        return "failed"
    finally:
        beat.stop()


def _finish(ctx: RunContext, job_id: int, status: str, error: str | None) -> None:
    with session_scope(ctx.factory, write=True) as session:
        jobs.finish(session=session, job_id=job_id, status=status, clock=ctx.clock, error=error)


def _boundary(ctx: RunContext, job_id: int, stage: str, percent: float, deadline: datetime) -> None:
    if ctx.on_stage is not None:
        ctx.on_stage(job_id, stage)
    if ctx.clock.now() >= deadline:
        raise _Stop("timed_out", _timeout_message(ctx.settings))
    with session_scope(ctx.factory, write=True) as session:
        state = jobs.progress(
            session=session, job_id=job_id, stage=stage, percent=percent, clock=ctx.clock
        )
    if state.status != "running":
        raise _Stop(None, f"job is {state.status}")
    if state.cancel_requested:
        raise _Stop("cancelled", f"cancelled during {stage}; nothing was registered")


def _timeout_message(settings: TrainingSettings) -> str:
    return (
        f"ran longer than the {settings.timeout_minutes:g}-minute timeout "
        "(ENMS_TRAINING__TIMEOUT_MINUTES); nothing was registered"
    )


def _stages(job_id: int, ctx: RunContext, deadline: datetime) -> str:
    started = time.perf_counter()
    _boundary(ctx, job_id, "loading data", 5.0, deadline)
    with session_scope(ctx.factory) as session:
        job = jobs.get_job(session=session, job_id=job_id)
        machine = readings.get_machine(session=session, machine_id=job.machine_id)
        frame = readings.training_frame(
            session=session, machine_id=machine.id, start=job.data_start, end=job.data_end
        )
        model_type, overrides = job.model_type, dict(job.hyperparameters)
        requested_by, timezone = job.requested_by, machine.timezone
        machine_id, machine_name = machine.id, machine.name
        metadata, data_start = dict(machine.metadata_), job.data_start
    frame = _default_window(frame, data_start, ctx.settings.default_window_days)
    cls = get_model_class(model_type)
    params = build_params(cls, timezone=timezone, metadata=metadata, overrides=overrides)
    if len(frame) < 2:
        raise _Stop(
            "failed",
            f"machine {machine_name!r} has {len(frame)} readings in the "
            "training window; import readings first",
        )
    split = _holdout_start(frame, ctx.settings.holdout_fraction)

    _boundary(ctx, job_id, "fitting", 20.0, deadline)
    fit_started = time.perf_counter()
    model = cls(**params).fit(frame[frame.index < split])
    fit_seconds = time.perf_counter() - fit_started

    _boundary(ctx, job_id, "validating", 70.0, deadline)
    holdout = score(model, frame, start=split)
    in_sample = (
        score(model, frame[frame.index < split]) if not model_type.startswith("forecast_") else None
    )
    with session_scope(ctx.factory) as session:
        current = registry.champion(session=session, machine_id=machine_id, model_type=model_type)
        champion_model = artifacts.load_model(current) if current is not None else None
    gain = _gain(champion_model, frame, split, holdout)

    _boundary(ctx, job_id, "registering", 90.0, deadline)
    artifact = model.to_bytes()
    new = registry.NewVersion(
        machine_id=machine_id,
        model_type=model_type,
        artifact=artifact,
        artifact_sha256=artifacts.sha256_of(artifact),
        hyperparameters=model.get_params() | {"holdout_start": split.isoformat()},
        training_start=frame.index[0].to_pydatetime(),
        training_end=(frame.index[-1] + _interval(frame)).to_pydatetime(),
        training_rows=int((frame.index < split).sum()),
        training_data_sha256=_data_hash(frame),
        metrics_in_sample=in_sample.as_dict() if in_sample else {},
        metrics_holdout=holdout.as_dict(),
        ashrae14=getattr(model, "ashrae14_", None),
        training_job_id=job_id,
        fit_seconds=fit_seconds,
        created_by=requested_by,
    )
    with session_scope(ctx.factory, write=True) as session:
        state = jobs.state(session=session, job_id=job_id)
        if state.status != "running" or state.cancel_requested:
            raise _Stop(
                "cancelled" if state.cancel_requested and state.status == "running" else None,
                "stopped before registering",
            )
        number = registry.register_version(session=session, new=new, clock=ctx.clock).version
        jobs.finish(
            session=session,
            job_id=job_id,
            status="completed",
            clock=ctx.clock,
            model_version=number,
            improvement=gain,
        )
    log.info(
        "job %s: %s v%s for machine %s in %.1f s",
        job_id,
        model_type,
        number,
        machine_name,
        time.perf_counter() - started,
    )
    return "completed"


def _default_window(frame: pd.DataFrame, start: object, days: int) -> pd.DataFrame:
    if start is not None or frame.empty:
        return frame
    since = frame.index[-1] - pd.Timedelta(days=days) + _interval(frame)
    kept: pd.DataFrame = frame.loc[frame.index >= since]
    return kept


def _interval(frame: pd.DataFrame) -> pd.Timedelta:
    if len(frame) < 2:
        return pd.Timedelta(0)
    return pd.Timedelta(pd.Series(frame.index).diff().median())


def _holdout_start(frame: pd.DataFrame, fraction: float) -> pd.Timestamp:
    position = int(len(frame) * (1.0 - fraction))
    return pd.Timestamp(frame.index[min(max(position, 1), len(frame) - 1)])


def _gain(champion: object, frame: pd.DataFrame, split: pd.Timestamp, new: Score) -> float | None:
    if champion is None:
        return None
    try:
        theirs = score(champion, frame, start=split)  # type: ignore[arg-type]
    except ModelError:
        return None
    return improvement(new, theirs)


def _data_hash(frame: pd.DataFrame) -> str:
    digest = hashlib.sha256(pd.util.hash_pandas_object(frame, index=True).to_numpy().tobytes())
    return digest.hexdigest()


class _Heartbeat:
    """Background thread: heartbeats, and the timeout while a stage is busy."""

    def __init__(self, job_id: int, ctx: RunContext, deadline: datetime) -> None:
        self._job_id = job_id
        self._ctx = ctx
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"heartbeat-{job_id}", daemon=True)
        self._deadline = deadline

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stopped.wait(self._ctx.settings.heartbeat_seconds):
            try:
                with session_scope(self._ctx.factory, write=True) as session:
                    if self._ctx.clock.now() >= self._deadline:
                        jobs.finish(
                            session=session,
                            job_id=self._job_id,
                            status="timed_out",
                            clock=self._ctx.clock,
                            error=_timeout_message(self._ctx.settings),
                        )
                        return
                    jobs.heartbeat(session=session, job_id=self._job_id, clock=self._ctx.clock)
            except Exception:  # the next beat retries; a dead DB is reported by the job itself
                log.exception("heartbeat of job %s failed", self._job_id)
