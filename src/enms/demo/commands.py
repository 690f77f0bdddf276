"""``enms demo``: build the synthetic demo plant and serve it.

The plant goes into ``--db FILE`` (SQLite) when given, else into the configured database
(``ENMS_DATABASE_URL`` or ``--database-url``, PostgreSQL too) when one is set, else into
``enms-demo.db``. A database that holds anything but an earlier demo is never touched.

The first training round covers the plant's first two months. When serving with the replay
on (``ENMS_DEMO__REPLAY``, default; ``--no-replay`` turns it off) the database starts with
those two months only and :mod:`enms.demo.replay` brings the rest of the year in, day by
day, once the server answers and the round has ended; without it the whole year is imported
at once.
"""

from __future__ import annotations

import os
import shlex
import shutil
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from enms.core.cli_context import AppContext, pass_app, progress
from enms.core.clock import Clock

if TYPE_CHECKING:
    from enms.demo.service import DemoSummary
    from enms.demo.training import ProgressReporter


@click.command("demo")
@click.option(
    "--db",
    "db_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="SQLite file to (re)create (default: the configured ENMS_DATABASE_URL if set, "
    "else enms-demo.db); an existing non-demo database is never touched.",
)
@click.option(
    "--seed",
    type=int,
    default=42,
    show_default=True,
    help="Random seed: the same seed gives the same plant.",
)
@click.option(
    "--days",
    type=click.IntRange(28, 3 * 366),
    default=365,
    show_default=True,
    help="Days of readings per machine.",
)
@click.option("--host", default=None, help="Interface to bind (default ENMS_SERVER__HOST).")
@click.option("--port", type=int, default=None, help="Port (default ENMS_SERVER__PORT, 8001).")
@click.option("--no-serve", is_flag=True, help="Build the database, then exit.")
@click.option(
    "--no-replay",
    is_flag=True,
    help="Import the whole year at once instead of replaying the months after the first "
    "training window day by day in the background (ENMS_DEMO__REPLAY=false).",
)
@click.option(
    "--resume",
    is_flag=True,
    help="Serve the existing demo database instead of rebuilding it, and carry on "
    "replaying where the last run stopped (no new training round).",
)
@pass_app
def demo(
    app: AppContext,
    db_path: Path | None,
    seed: int,
    days: int,
    host: str | None,
    port: int | None,
    no_serve: bool,
    no_replay: bool,
    resume: bool,
) -> None:
    """Create a demo plant (8+ machines, a year of readings) and serve its dashboard.

    The first versions train on the first two months; the rest of the year then arrives
    day by day in the background (scored, evaluated and drift-checked as it comes).
    """
    from enms.api.commands import run_server
    from enms.auth.gate import is_loopback
    from enms.demo import service

    if host and not is_loopback(host) and not (no_serve or resume):
        raise click.ClickException(
            f"refusing to serve a new demo on {host}: it has no user or API key yet, so anyone "
            "on the network could do anything. Build it with --no-serve, add an admin "
            "(`enms users add NAME --role admin`), then `enms demo --resume --host "
            f"{host}` — or leave --host out for single-user desk mode on 127.0.0.1."
        )
    target: Path | str
    env, prefix = "", ""
    if db_path is not None:
        target, where = db_path.resolve(), str(db_path)
        env = f"ENMS_DATABASE_URL={shlex.quote(f'sqlite:///{db_path}')} "
    elif "database_url" in app.settings.model_fields_set:
        target = app.settings.database_url
        where = _shown(target)
        # the environment or .env reach the next command too; an option must be repeated
        prefix = _option_prefix(app)
    else:
        target, where = Path("enms-demo.db").resolve(), "enms-demo.db"
        env = "ENMS_DATABASE_URL=sqlite:///enms-demo.db "
    command = enms_command()
    if resume:
        _resume(app, target, where, host, port, replay=app.settings.demo.replay and not no_replay)
        return
    replay = app.settings.demo.replay and not (no_replay or no_serve)
    started = time.perf_counter()
    engine, summary = service.build(
        target,
        seed=seed,
        days=days,
        clock=app.clock,
        batch_size=app.settings.imports.batch_size,
        report=progress,
        reopen_hint=f"{env}{command}{prefix} demo --resume",
        replay=replay,
    )
    later = (
        f" (up to {summary.training_end:%Y-%m-%d}; the other {summary.pending:,} arrive with "
        "the replay)"
        if summary.pending and summary.training_end
        else ""
    )
    progress(
        f"demo database {where} ready: {summary.machines} machines, "
        f"{summary.readings:,} readings{later} in {time.perf_counter() - started:.1f} s"
    )
    if no_serve:
        progress(f"serve it with: {env}{command}{prefix} serve")
        return
    app.overrides["database_url"] = summary.database_url
    app._settings = None
    app._engine = engine
    if replay:
        _pause_wall_clock_monitoring(app)
    enms = f"{env}{command}{prefix}"
    cutoff = summary.training_end if summary.pending else None
    reporter = _start_training(app, enms, summary, hint_at_end=cutoff is None)
    host, port = host or app.settings.server.host, port or app.settings.server.port
    if cutoff is None:  # nothing to replay: the whole plant is in the database
        run_server(app, host, port, view_clock=_plant_clock(app, None))
        return
    from enms.bootstrap import runtime_for
    from enms.demo.replay import Replay, server_answers
    from enms.demo.training import HINT_WINDOW

    runner = Replay.from_database(
        factory=app.session_factory,
        settings=app.settings,
        report=progress,
        hint=(cutoff + HINT_WINDOW, _evaluate_hint(enms, cutoff)),
        # automatic retrains go to the server's consumers
        enqueue=runtime_for(app).enqueue_training,
    )
    progress(
        "the replay of the rest of the year starts once the server answers and the first "
        f"training round has ended (ENMS_DEMO__REPLAY_SECONDS_PER_DAY="
        f"{app.settings.demo.replay_seconds_per_day:g}; --no-replay to import it at once)"
    )
    runner.start(ready=lambda: reporter.finished.is_set() and server_answers(host, port))
    try:
        run_server(app, host, port, view_clock=_plant_clock(app, runner.clock))
    finally:
        runner.stop()


def _plant_clock(app: AppContext, replay: Clock | None) -> Clock:
    """The dashboard's "now" for the demo plant (:mod:`enms.demo.viewclock`)."""
    from enms.demo.viewclock import PlantClock, newest_reading

    return PlantClock(replay, newest_reading(app.session_factory))


def _pause_wall_clock_monitoring(app: AppContext) -> None:
    """The replay runs the monitoring jobs itself, on the replayed clock; the server's own
    schedule would run them on the wall clock (a year later than the replayed readings:
    nothing new to score, and an alert reported clear on a replayed day would count as clear
    for a year at once). So this server pauses them (``ENMS_SCHEDULE__PAUSED``)."""
    from enms.jobs.tasks import MONITORING_JOBS

    schedule = app.settings.schedule
    paused = sorted({*schedule.paused, *MONITORING_JOBS})
    app._settings = app.settings.model_copy(
        update={"schedule": schedule.model_copy(update={"paused": paused})}
    )


def _resume(
    app: AppContext,
    target: Path | str,
    where: str,
    host: str | None,
    port: int | None,
    *,
    replay: bool,
) -> None:
    """Serve an existing demo database and go on replaying the days it does not have yet."""
    from enms.api.commands import run_server
    from enms.core import schema
    from enms.demo import service
    from enms.demo.replay import Replay, server_answers
    from enms.demo.training import round_running

    engine, url = service.open_demo(target)
    schema.require_current(engine)
    app.overrides["database_url"] = url
    app._settings = None
    app._engine = engine
    host, port = host or app.settings.server.host, port or app.settings.server.port
    progress(f"resuming the demo in {where}")
    if not replay:
        run_server(app, host, port, view_clock=_plant_clock(app, None))
        return
    _pause_wall_clock_monitoring(app)
    factory = app.session_factory
    from enms.bootstrap import runtime_for

    runner = Replay.from_database(
        factory=factory,
        settings=app.settings,
        report=progress,
        enqueue=runtime_for(app).enqueue_training,
    )
    # An interrupted first round is recovered and finished by the server's consumers first.
    runner.start(ready=lambda: server_answers(host, port) and not round_running(factory))
    try:
        run_server(app, host, port, view_clock=_plant_clock(app, runner.clock))
    finally:
        runner.stop()


def enms_command() -> str:
    """How to run enms again from this shell: ``enms`` when that is on PATH and is this
    installation, else the path this process was started by (e.g. ``.venv/bin/enms``), else
    ``python -m enms.cli`` with this interpreter."""
    argv0 = sys.argv[0] if sys.argv else ""
    started_as = Path(argv0)
    if started_as.name == "enms" and started_as.exists():
        on_path = shutil.which("enms")
        if on_path is not None and Path(on_path).resolve() == started_as.resolve():
            return "enms"
        shown = argv0 if os.sep in argv0 else f".{os.sep}{argv0}"
        return shlex.quote(shown)
    return f"{shlex.quote(sys.executable)} -m enms.cli"


def _shown(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def _option_prefix(app: AppContext) -> str:
    """The ``--database-url`` this command was given, for hints that must reach it too."""
    url = app.overrides.get("database_url")
    return f" --database-url {shlex.quote(_shown(url))}" if isinstance(url, str) else ""


def _evaluate_hint(enms: str, cutoff: datetime) -> str:
    """An ``enms evaluate`` command on the four weeks after the first training window."""
    from enms.demo.training import HINT_WINDOW

    return (
        f'try: {enms} evaluate baseline --machine "Compressor C1" --from {cutoff:%Y-%m-%d} '
        f"--to {cutoff + HINT_WINDOW:%Y-%m-%d}"
    )


def _start_training(
    app: AppContext, enms: str, summary: DemoSummary, *, hint_at_end: bool
) -> ProgressReporter:
    """Queue the first training round (on the first two months); the server's worker
    threads run it. Returns the reporter, whose ``finished`` is set when the round ends."""
    from enms.bootstrap import runtime_for
    from enms.demo.training import ProgressReporter, trigger_all
    from enms.jobs.queue import embedded_queue_path

    # A fresh demo database starts with a fresh queue (old messages name old job ids).
    queue_file = embedded_queue_path(app.settings)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{queue_file}{suffix}").unlink(missing_ok=True)
    rt = runtime_for(app)
    job_ids, cutoff = trigger_all(
        app.session_factory,
        app.clock,
        rt.enqueue_training,
        report=progress,
        until=summary.training_end,
    )
    until = f" on readings before {cutoff:%Y-%m-%d}" if cutoff else ""
    progress(
        f"queued {len(job_ids)} training jobs (4 model types x every machine){until}; "
        f"they run in the background — watch them on the dashboard or with `{enms} jobs list`"
    )
    hint = _evaluate_hint(enms, cutoff) if cutoff is not None and hint_at_end else None
    reporter = ProgressReporter(app.session_factory, job_ids, progress, final_hint=hint)
    reporter.start()
    return reporter
