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
    refuse_open_network(app, host)
    web = create_app(
        app.settings, engine=app.engine, clock=app.clock, view_clock=view_clock, bind_host=host
    )
    log = logging.getLogger("enms.api")
    if not web.state.auth_gate.enforced():
        announce(
            app.settings,
            log,
            "desk mode: no user or API key exists, so the API and dashboard are open to anyone "
            "on this machine; `enms users add NAME --role admin` or `enms keys create` turns "
            "authentication on",
        )
    announce(
        app.settings,
        log,
        f"enms serving {app.engine.url.render_as_string(hide_password=True)} "
        f"on http://{host}:{port}  (dashboard /, API docs /docs)",
    )
    uvicorn.run(web, host=host, port=port, **uvicorn_options(app.settings))


def refuse_open_network(app: AppContext, host: str) -> None:
    """Refuse to listen beyond this machine while nobody could log in: an open enms on a
    plant network would let whoever reaches the port promote, delete and import."""
    from enms.auth.gate import is_loopback
    from enms.auth.service import has_credentials
    from enms.core.db import session_scope

    if is_loopback(host):
        return
    with session_scope(app.session_factory) as session:
        if has_credentials(session):
            return
    raise click.ClickException(
        f"refusing to listen on {host}: no user or API key exists, so anyone on the network "
        "could do anything. Create an admin first — `enms users add NAME --role admin` (for "
        "the dashboard) or `enms keys create --name NAME --role admin` (for scripts) — or "
        "bind to 127.0.0.1 for single-user desk mode."
    )
