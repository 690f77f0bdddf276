"""Console logging for the long-running commands (`enms serve`, `enms worker`).

``ENMS_LOG_LEVEL`` sets the level of enms's loggers, ``ENMS_LOG_FORMAT`` the line format
(with a timestamp by default) and ``ENMS_SERVER__ACCESS_LOG`` whether uvicorn writes one line
per HTTP request (off by default: the console is for what enms does, not for every poll
of the dashboard). Chatty libraries are held at WARNING unless the level is DEBUG.
"""

from __future__ import annotations

import logging
from typing import Any

from enms.core.config import Settings

#: Libraries whose INFO lines repeat on every request or task and say nothing new:
#: Alembic announces its context on every schema check (each ``/health``), Huey every task
#: start and end (enms's job log lines say more), cmdstanpy every Prophet fit.
QUIET_LOGGERS = ("alembic", "huey", "cmdstanpy")


def configure_logging(settings: Settings) -> None:
    """Send log records to stderr as ``settings.log_format`` lines at ``settings.log_level``."""
    logging.basicConfig(level=settings.log_level, format=settings.log_format, force=True)
    if settings.log_level != "DEBUG":
        for name in QUIET_LOGGERS:
            logging.getLogger(name).setLevel(logging.WARNING)


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """Keyword arguments for ``uvicorn.run``: its loggers go through the root handler set up
    by :func:`configure_logging` (same format, timestamps), the access log only when asked."""
    return {
        "log_config": None,
        "log_level": settings.log_level.lower(),
        "access_log": settings.server.access_log,
    }
