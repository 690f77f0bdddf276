"""``enms serve``: the web server (API, dashboard).

The web stack is imported when the command runs, so `enms --help` stays quick.
"""

from __future__ import annotations

import logging

import click

from enms.core import schema
from enms.core.cli_context import AppContext, pass_app
from enms.core.clock import Clock


@click.command("serve")
@click.option("--host", default=None, help="Interface to bind (ENMS_SERVER__HOST).")
@click.option("--port", type=int, default=None, help="Port (ENMS_SERVER__PORT, default 8001).")
@pass_app
def serve(app: AppContext, host: str | None, port: int | None) -> None:
    """Start the API and dashboard; refuses to start on an out-of-date schema."""
    settings = app.settings
    schema.require_current(app.engine)
    run_server(app, host or settings.server.host, port or settings.server.port)


def run_server(app: AppContext, host: str, port: int, *, view_clock: Clock | None = None) -> None:
    """Serve the application for ``app``'s settings until interrupted (``view_clock``: the
    dashboard's "now", see :func:`enms.api.app.create_app`)."""
    import uvicorn

    from enms.api.app import create_app
    from enms.core.logs import announce, configure_logging, uvicorn_options

    configure_logging(app.settings)
    web = create_app(app.settings, engine=app.engine, clock=app.clock, view_clock=view_clock)
    announce(
        app.settings,
        logging.getLogger("enms.api"),
        f"enms serving {app.engine.url.render_as_string(hide_password=True)} "
        f"on http://{host}:{port}  (dashboard /, API docs /docs)",
    )
    uvicorn.run(web, host=host, port=port, **uvicorn_options(app.settings))
