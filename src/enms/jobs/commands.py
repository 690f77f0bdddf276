"""``enms worker``: a queue consumer process (scale-out with ``ENMS_QUEUE_URL=redis://…``)."""

from __future__ import annotations

import logging

import click

from enms.core import schema
from enms.core.cli_context import AppContext, pass_app, progress


@click.command("worker")
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=None,
    help="Worker threads (default ENMS_QUEUE__WORKERS).",
)
@pass_app
def worker(app: AppContext, workers: int | None) -> None:
    """Run background jobs (training, periodic jobs) from the queue until stopped."""
    from enms.jobs.consumer import run_worker, startup_recovery
    from enms.jobs.runtime import create_runtime

    logging.basicConfig(
        level=app.settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    schema.require_current(app.engine)
    rt = create_runtime(app.settings, app.engine, app.clock)
    startup_recovery(rt)
    from enms.jobs.queue import embedded_queue_path

    queue = app.settings.queue_url or f"SQLite {embedded_queue_path(app.settings)}"
    progress(
        f"enms worker on {queue}, database {app.engine.url.render_as_string(hide_password=True)}"
    )
    run_worker(rt, workers=workers)
