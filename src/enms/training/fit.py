"""The model work of a training job: fit, validate against the champion, refit — no database.

:func:`fit_validate_refit` is pure (a frame and parameters in, artifact bytes and metrics
out). :func:`child_main` runs it in the child process :mod:`enms.training.runner` starts for
every job, so cancel and timeout can stop a fit by terminating the process, fits on several
worker threads do not share one interpreter lock, and a model's global state (NumPy's RNG,
Stan's threads) stays inside one process. ``ENMS_TRAINING__FIT_MEMORY_MB`` caps the child's
address space.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import signal
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from multiprocessing.connection import Connection
from typing import Any

import numpy as np
import pandas as pd

from enms.core.errors import DomainError
from enms.ml.base import EnergyModel, ModelError
from enms.ml.registry import get_model_class
from enms.ml.scoring import improvement, score

Report = Callable[[str, float], None]


@dataclass(frozen=True)
class FitRequest:
    """Everything the child needs: the training frame, the parameters and the champion."""

    job_id: int
    model_type: str
    params: dict[str, Any]
    frame: pd.DataFrame
    holdout_fraction: float
    champion: EnergyModel | None = None
    champion_end: datetime | None = None
    champion_version: int | None = None
    memory_mb: int | None = None


@dataclass(frozen=True)
class FitResult:
    """What the parent registers."""

    artifact: bytes
    hyperparameters: dict[str, Any]
    training_start: datetime
    training_end: datetime
    training_rows: int
    training_data_sha256: str
    metrics_in_sample: dict[str, Any]
    metrics_holdout: dict[str, Any]
    ashrae14: Any
    improvement: float | None
    fit_seconds: float


def fit_validate_refit(request: FitRequest, report: Report) -> FitResult:
    """Fit on the head of the window, score the tail (and the champion), refit on all of it."""
    frame = request.frame
    cls = get_model_class(request.model_type)
    split = holdout_start(frame, request.holdout_fraction)
    report("fitting", 20.0)
    candidate = cls(**request.params).fit(frame[frame.index < split])
    report("validating", 50.0)
    holdout = score(candidate, frame, start=split)
    gain, comparison = _compare(request, candidate, split)
    # Validated, the model is fitted again on the whole window, so the version in service
    # has seen every season and the newest readings (CalTRACK's full-year baseline).
    report("refitting", 65.0)
    fit_started = time.perf_counter()
    model = cls(**request.params).fit(frame)
    fit_seconds = time.perf_counter() - fit_started
    in_sample = None if request.model_type.startswith("forecast_") else score(model, frame)
    end = frame.index[-1] + interval(frame)
    return FitResult(
        artifact=model.to_bytes(),
        hyperparameters=model.get_params(),
        training_start=frame.index[0].to_pydatetime(),
        training_end=end.to_pydatetime(),
        training_rows=len(frame),
        training_data_sha256=_data_hash(frame),
        metrics_in_sample=(in_sample.as_dict() if in_sample else {}) | model_report(model),
        metrics_holdout=holdout.as_dict()
        | {
            "validation_fit_until": split.isoformat(),
            "validated_until": end.isoformat(),
            "comparison": comparison,
        },
        ashrae14=getattr(model, "ashrae14_", None),
        improvement=gain,
        fit_seconds=fit_seconds,
    )


def _compare(
    request: FitRequest, candidate: EnergyModel, split: pd.Timestamp
) -> tuple[float | None, dict[str, Any]]:
    """The candidate's improvement over the champion, in percent of the primary metric, on
    held-out readings *neither* was fitted on (the champion's own training data would flatter
    it, so readings before its training end are left out), and how the comparison went.

    A champion that cannot be scored on these readings (a driver column it needs is gone, an
    artifact of another model version) makes the comparison "not comparable", never a
    failed retrain."""
    champion, frame = request.champion, request.frame
    if champion is None:
        return None, {"status": "no_champion"}
    base = {"champion_version": request.champion_version}
    end = request.champion_end
    start = split if end is None else max(split, pd.Timestamp(end))
    rows = int((frame.index >= start).sum())
    if rows < 2:
        reason = "the champion was trained on every held-out reading"
        return None, base | {"status": "not_comparable", "reason": reason, "rows": rows}
    try:
        gain = improvement(
            score(candidate, frame, start=start), score(champion, frame, start=start)
        )
    except (ModelError, ValueError, KeyError) as exc:
        # ModelError covers MissingColumns (a driver it needs is gone); ValueError and
        # KeyError are what older model code raises for the same condition.
        return None, base | {
            "status": "not_comparable",
            "reason": f"the champion cannot be scored on these readings: {exc}",
        }
    status = "compared" if gain is not None else "not_comparable"
    return gain, base | {"status": status, "since": start.isoformat(), "rows": rows}


def child_main(request: FitRequest, conn: Connection) -> None:
    """Entry point of the fitting process: stages and the outcome go back through ``conn``."""
    # Its own process group, so stopping it also stops what it started (Prophet's Stan
    # binary); and it goes when its parent does (a SIGKILLed worker leaves no fit behind).
    os.setsid()
    threading.Thread(target=_exit_with_parent, args=(conn,), daemon=True).start()
    try:
        _one_thread_per_fit()
        # OpenBLAS takes its work buffers at the first product and calls exit(1) when it
        # cannot: take them before the limit, so running out shows as a MemoryError.
        np.dot(np.ones((64, 64)), np.ones((64, 64)))
        _limit_memory(request.memory_mb)
        result = fit_validate_refit(request, lambda stage, pct: conn.send(("stage", stage, pct)))
        conn.send(("done", result))
    except MemoryError:
        # Lift the (soft) limit again: under it even sending the message can fail.
        _limit_memory(None)
        limit = f" of {request.memory_mb} MiB" if request.memory_mb else ""
        conn.send(
            ("error", f"the fit ran out of memory (limit{limit}, ENMS_TRAINING__FIT_MEMORY_MB)")
        )
    except (ModelError, DomainError) as exc:
        conn.send(("error", str(exc)))
    except Exception as exc:  # a bug: the parent logs it and fails the job with its cause
        conn.send(("crash", f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}"))
    finally:
        conn.close()


def noop() -> None:
    """The body of the warm-up child that makes the fork server load this module."""


def _exit_with_parent(conn: Connection) -> None:
    with contextlib.suppress(EOFError, OSError):
        conn.recv()  # the parent sends nothing: this returns when its end closes
    os.killpg(0, signal.SIGKILL)


def _limit_memory(megabytes: int | None) -> None:
    """Set the soft address-space limit (None: back to the hard limit, which stays as it
    was so the limit can be lifted to report the failure)."""
    import resource

    _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    soft = hard if megabytes is None else megabytes * 1024 * 1024
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def _one_thread_per_fit() -> None:
    # Parallelism comes from running fits in separate processes; BLAS threads on top of that
    # would oversubscribe the cores.
    from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

    threadpool_limits(1)


def interval(frame: pd.DataFrame) -> pd.Timedelta:
    """The typical spacing of the frame's readings."""
    if len(frame) < 2:
        return pd.Timedelta(0)
    return pd.Timedelta(pd.Series(frame.index).diff().median())


def holdout_start(frame: pd.DataFrame, fraction: float) -> pd.Timestamp:
    """The first held-out timestamp: the last ``fraction`` of the rows are held out."""
    position = int(len(frame) * (1.0 - fraction))
    return pd.Timestamp(frame.index[min(max(position, 1), len(frame) - 1)])


def model_report(model: EnergyModel) -> dict[str, Any]:
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
