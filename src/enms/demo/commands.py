"""``enms demo``: build the synthetic demo plant and serve it.

The plant goes into ``--db FILE`` (SQLite) when given, else into the configured database
(``ENMS_DATABASE_URL`` or ``--database-url``, PostgreSQL too) when one is set, else into
``enms-demo.db``. A database that holds anything but an earlier demo is never touched.
"""

from __future__ import annotations

import os
import shlex
import shutil
import sys
import time
from datetime import timedelta
from pathlib import Path

import click

from enms.core.cli_context import AppContext, pass_app, progress


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
@pass_app
def demo(
    app: AppContext,
    db_path: Path | None,
    seed: int,
    days: int,
    host: str | None,
    port: int | None,
    no_serve: bool,
) -> None:
    """Create a demo plant (8+ machines, a year of readings) and serve its dashboard."""
    from enms.api.commands import run_server
    from enms.demo import service

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
    started = time.perf_counter()
    engine, summary = service.build(
        target,
        seed=seed,
        days=days,
        clock=app.clock,
        batch_size=app.settings.imports.batch_size,
        report=progress,
        reopen_hint=f"{env}{command}{prefix} serve",
    )
    progress(
        f"demo database {where} ready: {summary.machines} machines, "
        f"{summary.readings:,} readings in {time.perf_counter() - started:.1f} s"
    )
    if no_serve:
        progress(f"serve it with: {env}{command}{prefix} serve")
        return
    app.overrides["database_url"] = summary.database_url
    app._settings = None
    app._engine = engine
    _start_training(app, f"{env}{command}{prefix}")
    run_server(app, host or app.settings.server.host, port or app.settings.server.port)


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


def _start_training(app: AppContext, enms: str) -> None:
    """Queue the first training round; the server's worker threads run it."""
    from enms.bootstrap import runtime_for
    from enms.demo.training import HELD_BACK, ProgressReporter, trigger_all
    from enms.jobs.queue import embedded_queue_path

    # A fresh demo database starts with a fresh queue (old messages name old job ids).
    queue_file = embedded_queue_path(app.settings)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{queue_file}{suffix}").unlink(missing_ok=True)
    rt = runtime_for(app)
    job_ids, cutoff = trigger_all(
        app.session_factory, app.clock, rt.enqueue_training, report=progress
    )
    until = f" on readings before {cutoff:%Y-%m-%d}" if cutoff else ""
    progress(
        f"queued {len(job_ids)} training jobs (4 model types x every machine){until}; "
        f"they run in the background — watch them on the dashboard or with `{enms} jobs list`"
    )
    hint = None
    if cutoff is not None:
        hint = (
            f"try: {enms} evaluate baseline "
            f'--machine "Compressor C1" --from {cutoff:%Y-%m-%d} --to '
            f"{cutoff + HELD_BACK + timedelta(days=1):%Y-%m-%d}"
        )
    ProgressReporter(app.session_factory, job_ids, progress, final_hint=hint).start()
