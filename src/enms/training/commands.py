"""``enms train`` and ``enms jobs …``.

``enms train --wait`` with the embedded queue runs the job in this process (a server need not
be running; the fit still runs in a child process); with a Redis queue it enqueues and follows
the job until it ends. The queue comes from the runtime the ``enms`` group's bootstrap builds
(:data:`RUNTIME_KEY` in the click context), so this stage never imports the job queue. Heavy
modules are imported inside the commands so `enms --help` stays quick.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import TYPE_CHECKING, Any, Protocol, cast

import click

from enms.core.cli_context import AppContext, emit, json_option, pass_app, progress
from enms.core.db import session_scope
from enms.core.errors import DomainError
from enms.core.model_types import MODEL_TYPE_NAMES
from enms.core.timewindow import Window
from enms.training.schemas import FINAL_STATUSES, JobRead

if TYPE_CHECKING:
    from enms.training.runner import RunContext

#: Key of the runtime builder in the root click context's ``meta`` (set by ``enms.cli``).
RUNTIME_KEY = "enms.build_runtime"


class QueuePort(Protocol):
    """What these commands need from the process's runtime."""

    def enqueue_training(self, job_id: int) -> None: ...
    def queue_ready(self) -> bool: ...
    def workers(self) -> int: ...
    def run_context(self) -> RunContext: ...


def _runtime(app: AppContext) -> QueuePort:
    context = click.get_current_context()
    build = context.find_root().meta.get(RUNTIME_KEY)
    if build is None:
        raise click.UsageError("no runtime wiring: run this command through `enms`")
    return cast(QueuePort, build(app))


class JobEnded(DomainError):
    """A job the user waited for did not complete."""

    code = "job_not_completed"


@click.command("train")
@click.argument("model_type", type=click.Choice(MODEL_TYPE_NAMES))
@click.option("--machine", required=True, help="Machine name.")
@click.option("--from", "data_from", default=None, help="Training window start (ISO 8601).")
@click.option("--to", "data_to", default=None, help="Training window end, exclusive.")
@click.option("--reason", default=None, help="Why (kept in the training history).")
@click.option("--wait", is_flag=True, help="Wait for the job; print the version and metrics.")
@json_option
@pass_app
def train(
    app: AppContext,
    model_type: str,
    machine: str,
    data_from: str | None,
    data_to: str | None,
    reason: str | None,
    wait: bool,
    as_json: bool,
) -> None:
    """Train MODEL_TYPE for a machine on its readings (default: the last 365 days)."""
    from enms.readings import service as readings
    from enms.training import service

    rt = _runtime(app)
    embedded = app.settings.queue_url is None
    inline = wait and embedded
    enqueue = (lambda _job_id: None) if inline else rt.enqueue_training
    window = Window.parse(data_from, data_to)
    with session_scope(app.session_factory, write=True) as session:
        target = readings.get_machine_by_name(session=session, name=machine)
        result = service.trigger(
            session=session,
            machine_id=target.id,
            model_type=model_type,
            trigger_type="manual",
            reason=reason,
            requested_by="cli",
            window=window,
            hyperparameters={},
            clock=app.clock,
            enqueue=enqueue,
            queue_ready=None if inline else rt.queue_ready,
            workers=rt.workers(),
        )
    if not result.triggered or result.training_job_id is None:
        raise DomainError(f"not started: {result.reason}")
    job_id = result.training_job_id
    if not wait:
        if result.queue == "waiting_for_queue":
            progress(f"job {job_id} recorded; the queue is unreachable, it waits for it")
        elif embedded:
            progress(
                f"job {job_id} queued; `enms serve` or `enms worker` will run it "
                "(or use --wait to run it now)"
            )
        with session_scope(app.session_factory) as session:
            emit(service.read(service.get_job(session=session, job_id=job_id)), as_json, _job_line)
        return
    runner = _start_inline(rt, job_id) if inline else None
    job = _follow(app, job_id)
    if runner is not None:
        runner.join()
    emit(_outcome(app, job), as_json, _outcome_text)
    if job.training_status != "completed":
        raise JobEnded(f"job {job.id} {job.training_status}: {job.error_message}")


def _start_inline(rt: QueuePort, job_id: int) -> threading.Thread:
    from enms.training.runner import run_job

    thread = threading.Thread(target=run_job, args=(job_id, rt.run_context()), daemon=True)
    thread.start()
    return thread


def _follow(app: AppContext, job_id: int) -> JobRead:
    """Poll the job row until it ends, drawing progress on stderr."""
    from enms.training import service

    shown = -1.0
    with click.progressbar(
        length=100, label=f"job {job_id}", file=sys.stderr, show_percent=True
    ) as bar:
        while True:
            with session_scope(app.session_factory) as session:
                job = service.read(service.get_job(session=session, job_id=job_id))
            percent = job.progress_percent or 0.0
            if percent > shown:
                bar.label = f"job {job_id}: {job.progress_stage or job.training_status}"
                bar.update(int(percent - max(shown, 0.0)))
                shown = percent
            if job.training_status in FINAL_STATUSES:
                return job
            time.sleep(0.25)  # polling interval while another thread/worker does the work


def _outcome(app: AppContext, job: JobRead) -> dict[str, Any]:
    from enms.registry import service as registry

    out: dict[str, Any] = {"job": job.model_dump(mode="json"), "version": None}
    if job.model_version is not None:
        with session_scope(app.session_factory) as session:
            row = registry.get_version(
                session=session,
                machine_id=job.machine_id,
                model_type=job.model_type,
                version=job.model_version,
            )
            out["version"] = registry.read(session, row).model_dump(mode="json")
    return out


def _outcome_text(out: dict[str, Any]) -> str:
    job, version = out["job"], out["version"]
    lines = [_job_line(JobRead.model_validate(job))]
    if version:
        lines.append(
            f"version {version['version']} ({', '.join(version['aliases']) or 'no alias'})"
            f", fitted in {version['fit_seconds']:.2f} s on {version['training_rows']:,} rows"
        )
        held = {
            k: v
            for k, v in version["metrics_holdout"].items()
            if isinstance(v, int | float) and not isinstance(v, bool)
        }
        lines.append("held-out: " + ", ".join(f"{k}={v:.4g}" for k, v in held.items()))
    return "\n".join(lines)


def _job_line(job: JobRead) -> str:
    extra = f" v{job.model_version}" if job.model_version else ""
    error = f" — {job.error_message}" if job.error_message else ""
    machine = repr(job.machine_name) if job.machine_name else f"machine {job.machine_id}"
    took = (
        f" in {job.training_duration_seconds:.1f} s"
        if job.training_duration_seconds is not None
        else ""
    )
    return f"job {job.id}: {job.model_type}{extra} for {machine} {job.training_status}{took}{error}"


def _job_detail(job: JobRead) -> str:
    window = (
        (f"{job.data_start:%Y-%m-%d %H:%M}" if job.data_start else "…")
        + " .. "
        + (f"{job.data_end:%Y-%m-%d %H:%M}" if job.data_end else "…")
    )
    lines = [
        _job_line(job),
        f"  trigger: {job.trigger_type} by {job.requested_by}"
        + (f" ({job.trigger_reason})" if job.trigger_reason else ""),
        f"  training window (UTC): {window}",
        f"  progress: {job.progress_stage or '-'} {job.progress_percent or 0:.0f} %, "
        f"attempt {job.attempts}",
    ]
    if job.performance_improvement is not None:
        lines.append(f"  improvement over the champion: {job.performance_improvement:+.1f} %")
    for a in job.attempt_history:
        ended = f"{a.ended_at:%Y-%m-%d %H:%M:%S}" if a.ended_at else "…"
        why = f": {a.error}" if a.error else ""
        lines.append(
            f"  attempt {a.attempt} on {a.worker}: {a.started_at:%Y-%m-%d %H:%M:%S} .. {ended} "
            f"{a.outcome or 'running'}{why}"
        )
    return "\n".join(lines)


@click.group("jobs")
def jobs_group() -> None:
    """List, show and cancel training jobs."""


@jobs_group.command("list")
@click.option("--machine", default=None, help="Only this machine (name).")
@click.option("--model-type", type=click.Choice(MODEL_TYPE_NAMES), default=None)
@click.option("--status", default=None, help="pending, running, completed, failed, …")
@click.option("--limit", type=int, default=50, show_default=True)
@json_option
@pass_app
def list_jobs(
    app: AppContext,
    machine: str | None,
    model_type: str | None,
    status: str | None,
    limit: int,
    as_json: bool,
) -> None:
    """Training history, newest first."""
    from enms.readings import service as readings
    from enms.training import service

    with session_scope(app.session_factory) as session:
        machine_id = (
            readings.get_machine_by_name(session=session, name=machine).id if machine else None
        )
        rows = service.list_jobs(
            session=session,
            machine_id=machine_id,
            model_type=model_type,
            status=status,
            limit=limit,
        )
        names = {m.id: m.name for m in readings.list_machines(session=session)}
    emit(
        rows,
        as_json,
        lambda rs: (
            "\n".join(
                [
                    f"{'JOB':>5}  {'MODEL TYPE':<17} {'MACHINE':<24} {'STATUS':<10} "
                    f"{'STAGE':<14} {'CREATED (UTC)':<16}  VERSION",
                    *(
                        f"{j.id:>5}  {j.model_type:<17} "
                        f"{names.get(j.machine_id, j.machine_id)!s:<24} "
                        f"{j.training_status:<10} {(j.progress_stage or ''):<14} "
                        f"{j.created_at:%Y-%m-%d %H:%M}"
                        + (f"  v{j.model_version}" if j.model_version else "")
                        for j in rs
                    ),
                ]
            )
            if rs
            else "no training jobs"
        ),
    )


@jobs_group.command("show")
@click.argument("job_id", type=int)
@json_option
@pass_app
def show(app: AppContext, job_id: int, as_json: bool) -> None:
    """One job with its progress and outcome."""
    from enms.training import service

    with session_scope(app.session_factory) as session:
        job = service.read(service.get_job(session=session, job_id=job_id))
    emit(job, as_json, _job_detail)


@jobs_group.command("cancel")
@click.argument("job_id", type=int)
@json_option
@pass_app
def cancel(app: AppContext, job_id: int, as_json: bool) -> None:
    """Cancel a pending job, or stop a running one (its fit is terminated within seconds)."""
    from enms.training import service

    with session_scope(app.session_factory, write=True) as session:
        job = service.cancel(session=session, job_id=job_id, clock=app.clock)
    emit(
        job,
        as_json,
        lambda j: (
            _job_line(j)
            + (" (its worker stops the fit within seconds)" if j.cancel_requested else "")
        ),
    )
