"""Console logging for the long-running commands (`enms serve`, `enms worker`).

``ENMS_LOG_LEVEL`` sets the level of enms's loggers, ``ENMS_LOG_FORMAT`` the line format
(with a timestamp by default; ``%(request_id)s`` names the HTTP request, ``-`` outside one)
or ``json`` for one JSON object per line (see :mod:`enms.core.log_records`), and
``ENMS_SERVER__ACCESS_LOG`` whether uvicorn writes one line per HTTP request (off by default:
the console is for what enms does, not for every poll of the dashboard). Chatty libraries are
held at WARNING unless the level is DEBUG. Every record, uvicorn's included, goes through one
stderr handler that adds the request id and redacts credentials.
"""

from __future__ import annotations

import logging
from typing import Any, TextIO

import click

from enms.core.config import Settings
from enms.core.log_records import JsonFormatter, RedactSecrets, RequestIdFilter

#: Libraries whose INFO lines repeat on every request or task and say nothing new:
#: Alembic announces its context on every schema check (each ``/health``), Huey every task
#: start and end (enms's job log lines say more), cmdstanpy every Prophet fit.
QUIET_LOGGERS = ("alembic", "huey", "cmdstanpy")
#: uvicorn's loggers: with ``log_config=None`` it adds no handlers, so they propagate to ours.
UVICORN_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "uvicorn.asgi")
JSON_FORMAT = "json"


def json_lines(settings: Settings) -> bool:
    """True when ``ENMS_LOG_FORMAT=json``: every console line is one JSON object."""
    return settings.log_format.strip().lower() == JSON_FORMAT


def configure_logging(settings: Settings, *, stream: TextIO | None = None) -> logging.Handler:
    """Send log records to ``stream`` (stderr) as ``settings.log_format`` lines — or JSON
    objects — at ``settings.log_level``; return the handler."""
    handler = logging.StreamHandler(stream)
    formatter = JsonFormatter() if json_lines(settings) else logging.Formatter(settings.log_format)
    handler.setFormatter(formatter)
    handler.addFilter(RequestIdFilter())
    handler.addFilter(RedactSecrets())
    logging.basicConfig(level=settings.log_level, handlers=[handler], force=True)
    # A Python warning would otherwise be a bare multi-line text on stderr between JSON lines.
    logging.captureWarnings(json_lines(settings))
    for name in UVICORN_LOGGERS:
        # Undo whatever an earlier uvicorn logging config left (its own handlers, no
        # propagation, a level of its own); `uvicorn.run` then sets the same level again.
        uvicorn_logger = logging.getLogger(name)
        uvicorn_logger.handlers.clear()
        uvicorn_logger.propagate = True
        uvicorn_logger.setLevel(logging.NOTSET)
        uvicorn_logger.disabled = False
    if settings.log_level != "DEBUG":
        for name in QUIET_LOGGERS:
            logging.getLogger(name).setLevel(logging.WARNING)
    return handler


def announce(settings: Settings, logger: logging.Logger, message: str) -> None:
    """A start-up line (where a server listens, which queue a worker consumes): as is on
    stderr, or as an INFO record when lines are JSON, so that every line still parses."""
    if json_lines(settings):
        logger.info(message)
    else:
        click.echo(message, err=True)


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """Keyword arguments for ``uvicorn.run``: its loggers go through the root handler set up
    by :func:`configure_logging` (same format, timestamps), the access log only when asked."""
    return {
        "log_config": None,
        "log_level": settings.log_level.lower(),
        "access_log": settings.server.access_log,
    }
