"""``enms demo``: build the synthetic demo plant in a fresh SQLite database and serve it."""

from __future__ import annotations

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
    default=Path("enms-demo.db"),
    show_default=True,
    help="SQLite file to (re)create; an existing non-demo database is never touched.",
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
    db_path: Path,
    seed: int,
    days: int,
    host: str | None,
    port: int | None,
    no_serve: bool,
) -> None:
    """Create a demo plant (8+ machines, a year of readings) and serve its dashboard."""
    from enms.api.commands import run_server
    from enms.demo import service

    started = time.perf_counter()
    engine, summary = service.build(
        db_path.resolve(),
        seed=seed,
        days=days,
        clock=app.clock,
        batch_size=app.settings.imports.batch_size,
        report=progress,
    )
    progress(
        f"demo database {db_path} ready: {summary.machines} machines, "
        f"{summary.readings:,} readings in {time.perf_counter() - started:.1f} s"
    )
    if no_serve:
        return
    app.overrides["database_url"] = summary.database_url
    app._settings = None
    app._engine = engine
    _start_training(app, db_path)
    run_server(app, host or app.settings.server.host, port or app.settings.server.port)


def _start_training(app: AppContext, db_path: Path) -> None:
    """Queue the first training round; the server's worker threads run it."""
    from enms.demo.training import HELD_BACK, ProgressReporter, trigger_all
    from enms.jobs.queue import embedded_queue_path
    from enms.jobs.runtime import create_runtime
    from enms.jobs.tasks import enqueue_training_on

    # A fresh demo database starts with a fresh queue (old messages name old job ids).
    queue_file = embedded_queue_path(app.settings)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{queue_file}{suffix}").unlink(missing_ok=True)
    rt = create_runtime(app.settings, app.engine, app.clock)
    job_ids, cutoff = trigger_all(app.session_factory, app.clock, enqueue_training_on(rt.huey))
    until = f" on readings before {cutoff:%Y-%m-%d}" if cutoff else ""
    progress(
        f"queued {len(job_ids)} training jobs (4 model types x every machine){until}; "
        "they run in the background — watch them on the dashboard or with `enms jobs list`"
    )
    hint = None
    if cutoff is not None:
        hint = (
            f"try: ENMS_DATABASE_URL=sqlite:///{db_path} enms evaluate baseline "
            f'--machine "Compressor C1" --from {cutoff:%Y-%m-%d} --to '
            f"{cutoff + HELD_BACK + timedelta(days=1):%Y-%m-%d}"
        )
    ProgressReporter(app.session_factory, job_ids, progress, final_hint=hint).start()
