"""The real console logging of `enms serve` configured inside a test, into a buffer."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from enms.core.config import Settings
from enms.core.logs import QUIET_LOGGERS, UVICORN_LOGGERS, configure_logging


@contextmanager
def configured_console(settings: Settings) -> Iterator[io.StringIO]:
    """:func:`configure_logging` writing into the yielded buffer; afterwards the logging
    set-up is as it was (pytest's own capturing handlers included)."""
    stream = io.StringIO()
    root = logging.getLogger()
    level, handlers = root.level, root.handlers[:]
    named = {
        name: (lg.level, lg.handlers[:], lg.propagate, lg.disabled)
        for name in (*QUIET_LOGGERS, *UVICORN_LOGGERS)
        for lg in [logging.getLogger(name)]
    }
    handler = configure_logging(settings, stream=stream)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        for kept in handlers:
            root.addHandler(kept)
        root.setLevel(level)
        for name, (lg_level, lg_handlers, propagate, disabled) in named.items():
            lg = logging.getLogger(name)
            lg.setLevel(lg_level)
            lg.handlers[:] = lg_handlers
            lg.propagate = propagate
            lg.disabled = disabled
        logging.captureWarnings(False)


def json_lines(stream: io.StringIO) -> list[dict[str, Any]]:
    """Every line of ``stream`` parsed as one JSON object (fails on any other line)."""
    return [json.loads(line) for line in stream.getvalue().splitlines()]
