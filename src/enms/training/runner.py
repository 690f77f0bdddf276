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
from typing import Any

import numpy as np
import pandas as pd

from enms.core.clock import Clock
from enms.core.config import TrainingSettings
from enms.core.db import SessionFactory, session_scope
from enms.core.errors import DomainError
from enms.ml.base import EnergyModel, ModelError
from enms.ml.registry import get_model_class
from enms.ml.scoring import improvement, score
from enms.readings import service as readings
from enms.registry import artifacts
from enms.registry import service as registry
from enms.training import service as jobs
from enms.training.params import build_params

log = logging.getLogger(__name__)
StageHook = Callable[[int, str], None]


class _Lost(Exception):
    """The job was cancelled, timed out or handed to another worker while registering."""


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
    run = _Run(job_id, worker, ctx.clock.now() + timedelta(minutes=ctx.settings.timeout_minutes))
    beat = _Heartbeat(run, ctx)
    beat.start()
    try:
        return _stages(run, ctx)
    except _Lost:
        return _settle_lost(ctx, run)
    except _Stop as stop:
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
        beat.stop()


@dataclass(frozen=True)
class _Run:
    """One attempt at a job: which job, which worker holds it, when it must be done."""

    job_id: int
    worker: str
    deadline: datetime


def _finish(ctx: RunContext, run: _Run, status: str, error: str | None) -> None:
    with session_scope(ctx.factory, write=True) as session:
        jobs.finish(
            session=session,
            job_id=run.job_id,
            status=status,
            clock=ctx.clock,
            error=error,
            worker=run.worker,
        )


def _settle_lost(ctx: RunContext, run: _Run) -> str:
    """The registration lost its race (and was rolled back): end the job if it is still ours."""
    with session_scope(ctx.factory, write=True) as session:
        state = jobs.state(session=session, job_id=run.job_id)
        if state.held_by(run.worker) and state.cancel_requested:
            jobs.finish(
                session=session,
                job_id=run.job_id,
                status="cancelled",
                clock=ctx.clock,
                error="cancelled while registering; nothing was registered",
                worker=run.worker,
            )
            return "cancelled"
    return "stopped"


def _boundary(ctx: RunContext, run: _Run, stage: str, percent: float) -> None:
    if ctx.on_stage is not None:
        ctx.on_stage(run.job_id, stage)
    if ctx.clock.now() >= run.deadline:
        raise _Stop("timed_out", _timeout_message(ctx.settings))
    with session_scope(ctx.factory, write=True) as session:
        state = jobs.progress(
            session=session,
            job_id=run.job_id,
            worker=run.worker,
            stage=stage,
            percent=percent,
            clock=ctx.clock,
        )
    if not state.held_by(run.worker):
        raise _Stop(None, f"job is {state.status} (held by {state.worker})")
    if state.cancel_requested:
        raise _Stop("cancelled", f"cancelled during {stage}; nothing was registered")


def _timeout_message(settings: TrainingSettings) -> str:
    return (
        f"ran longer than the {settings.timeout_minutes:g}-minute timeout "
        "(ENMS_TRAINING__TIMEOUT_MINUTES); nothing was registered"
    )


def _stages(run: _Run, ctx: RunContext) -> str:
    job_id = run.job_id
    started = time.perf_counter()
    _boundary(ctx, run, "loading data", 5.0)
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

    _boundary(ctx, run, "fitting", 20.0)
    candidate = cls(**params).fit(frame[frame.index < split])

    _boundary(ctx, run, "validating", 50.0)
    holdout = score(candidate, frame, start=split)
    with session_scope(ctx.factory) as session:
        current = registry.champion(session=session, machine_id=machine_id, model_type=model_type)
        champion_model = artifacts.load_model(current) if current is not None else None
        champion_end = current.training_end if current is not None else None
    gain = _gain(champion_model, champion_end, candidate, frame, split)

    # Validated, the model is fitted again on the whole window, so the version in service
    # has seen every season and the newest readings (CalTRACK's full-year baseline).
    _boundary(ctx, run, "refitting", 65.0)
    fit_started = time.perf_counter()
    model = cls(**params).fit(frame)
    fit_seconds = time.perf_counter() - fit_started
    in_sample = None if model_type.startswith("forecast_") else score(model, frame)

    _boundary(ctx, run, "registering", 90.0)
    artifact = model.to_bytes()
    new = registry.NewVersion(
        machine_id=machine_id,
        model_type=model_type,
        artifact=artifact,
        artifact_sha256=artifacts.sha256_of(artifact),
        hyperparameters=model.get_params(),
        training_start=frame.index[0].to_pydatetime(),
        training_end=(frame.index[-1] + _interval(frame)).to_pydatetime(),
        training_rows=len(frame),
        training_data_sha256=_data_hash(frame),
        metrics_in_sample=(in_sample.as_dict() if in_sample else {}) | _model_report(model),
        metrics_holdout=holdout.as_dict()
        | {
            "validation_fit_until": split.isoformat(),
            "validated_until": (frame.index[-1] + _interval(frame)).isoformat(),
        },
        ashrae14=getattr(model, "ashrae14_", None),
        training_job_id=job_id,
        fit_seconds=fit_seconds,
        created_by=requested_by,
    )
    with session_scope(ctx.factory, write=True) as session:
        number = registry.register_version(session=session, new=new, clock=ctx.clock).version
        # The conditional running → completed (still ours, no cancel requested) decides any
        # race with a cancel, a timeout or a recovery; losing it rolls the version back.
        if not jobs.finish(
            session=session,
            job_id=job_id,
            status="completed",
            clock=ctx.clock,
            model_version=number,
            improvement=gain,
            worker=run.worker,
        ):
            raise _Lost()

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


def _gain(
    champion: EnergyModel | None,
    champion_end: datetime | None,
    candidate: EnergyModel,
    frame: pd.DataFrame,
    split: pd.Timestamp,
) -> float | None:
    """The candidate's improvement over the champion, in percent of the primary metric, on
    held-out readings *neither* was fitted on: the champion's own training data would flatter
    it, so readings before its training end are left out. None when nothing is left."""
    if champion is None:
        return None
    start = split if champion_end is None else max(split, pd.Timestamp(champion_end))
    if (frame.index >= start).sum() < 2:
        return None
    try:
        return improvement(
            score(candidate, frame, start=start), score(champion, frame, start=start)
        )
    except ModelError:
        return None


def _model_report(model: EnergyModel) -> dict[str, Any]:
    """What the fitted model says about itself, for ISO 50006 / DOE EnPI reporting: the
    coefficients with standard errors and p-values, and the fit summary (adjusted R²,
    balance points, ...), where the model type has them."""
    report: dict[str, Any] = {}
    coefficients = getattr(model, "coefficients_", None)
    if isinstance(coefficients, pd.DataFrame):
        table = coefficients.replace({np.nan: None})
        report["coefficients"] = {
            str(term): {str(k): _plain(v) for k, v in row.items()}
            for term, row in table.to_dict(orient="index").items()
        }
    summary = getattr(model, "summary_", None)
    if isinstance(summary, dict):
        report["summary"] = {str(k): _plain(v) for k, v in summary.items()}
    # Model-specific top-level report entries (e.g. ``training_window_check``,
    # ``sufficiency``, ``selection``, ``flags``), recorded as the model states them.
    extra = getattr(model, "report_", None)
    if isinstance(extra, dict):
        report.update({str(k): _plain(v) for k, v in extra.items()})
    return report


def _plain(value: Any) -> Any:
    """JSON-safe scalars and lists (numpy numbers, NaN → None)."""
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def _data_hash(frame: pd.DataFrame) -> str:
    digest = hashlib.sha256(pd.util.hash_pandas_object(frame, index=True).to_numpy().tobytes())
    return digest.hexdigest()


class _Heartbeat:
    """Background thread: heartbeats, and the timeout while a stage is busy."""

    def __init__(self, run: _Run, ctx: RunContext) -> None:
        self._job = run
        self._ctx = ctx
        self._stopped = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name=f"heartbeat-{run.job_id}", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stopped.wait(self._ctx.settings.heartbeat_seconds):
            try:
                with session_scope(self._ctx.factory, write=True) as session:
                    if self._ctx.clock.now() >= self._job.deadline:
                        jobs.finish(
                            session=session,
                            job_id=self._job.job_id,
                            status="timed_out",
                            clock=self._ctx.clock,
                            error=_timeout_message(self._ctx.settings),
                            worker=self._job.worker,
                        )
                        return
                    jobs.heartbeat(
                        session=session,
                        job_id=self._job.job_id,
                        worker=self._job.worker,
                        clock=self._ctx.clock,
                    )
            except Exception:  # the next beat retries; a dead DB is reported by the job itself
                log.exception("heartbeat of job %s failed", self._job.job_id)
