"""``enms worker``: a queue consumer process (scale-out with ``ENMS_QUEUE_URL=redis://…``).

It runs the queue's worker threads, the periodic scheduler and the watchdog. SIGTERM (or
Ctrl-C) drains it: no new jobs, running ones get ``ENMS_QUEUE__GRACE_SECONDS`` to finish,
then are handed back to the queue; a second signal stops at once (leases then recover the
jobs on another worker).
"""

from __future__ import annotations

import logging

import click

from enms.core.cli_context import AppContext, pass_app
from enms.core.logs import announce, configure_logging


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
    from enms.jobs.consumer import run_worker
    from enms.jobs.runtime import Runtime, RuntimeBuilder, builder_from_click, describe

    configure_logging(app.settings)
    build: RuntimeBuilder = builder_from_click()
    rt: Runtime = build(app)
    where = describe(rt)
    announce(
        app.settings,
        logging.getLogger("enms.jobs"),
        f"enms worker {where['consumer']} on {where['queue']}, database {where['database']} "
        f"(SIGTERM drains within {rt.settings.queue.grace_seconds:g} s)",
    )
    run_worker(rt, workers=workers)
