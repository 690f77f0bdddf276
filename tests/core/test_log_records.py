"""The console's records: JSON lines, the request id, credentials redacted (no database)."""

from __future__ import annotations

import io
import logging
import math
from collections.abc import Iterator
from datetime import datetime

import pytest
from tests.console import configured_console, json_lines

from enms.core.config import Settings
from enms.core.log_records import JsonFormatter, RedactSecrets, RequestIdFilter, redact
from enms.core.logs import UVICORN_LOGGERS
from enms.core.request_context import bound_request_id, current_request_id


@pytest.fixture
def console() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    """A logger whose records go through a JSON handler with both filters, into a buffer."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    handler.addFilter(RedactSecrets())
    logger = logging.getLogger("enms.test.console")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    yield logger, stream
    logger.removeHandler(handler)
    logger.propagate = True


def test_a_record_is_one_json_line_with_the_standard_fields(
    console: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = console
    logger.warning("imported %d rows\ninto %s", 3, "F1")
    (entry,) = json_lines(stream)
    assert entry == {
        "time": entry["time"],
        "level": "WARNING",
        "logger": "enms.test.console",
        "message": "imported 3 rows\ninto F1",
    }
    assert stream.getvalue().count("\n") == 1  # the newline is escaped inside the object
    stamp = str(entry["time"])
    assert stamp.endswith("Z")
    assert datetime.fromisoformat(stamp).utcoffset() is not None


def test_the_request_id_is_there_inside_a_request_only(
    console: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = console
    with bound_request_id("req-7"):
        logger.info("inside")
    logger.info("outside")
    assert current_request_id() is None
    inside, outside = json_lines(stream)
    assert inside["request_id"] == "req-7"
    assert "request_id" not in outside


def test_json_serialisable_extras_are_fields_and_others_are_left_out(
    console: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = console
    logger.info(
        "scored",
        extra={
            "machine": "F1",
            "rows": 24,
            "window": {"from": "2025-01-01", "days": [1, 2]},
            "engine": object(),
            "ratio": math.nan,
            "level": "an extra never hides a standard field",
        },
    )
    (entry,) = json_lines(stream)
    assert entry["machine"] == "F1"
    assert entry["rows"] == 24
    assert entry["window"] == {"from": "2025-01-01", "days": [1, 2]}
    assert "engine" not in entry
    assert "ratio" not in entry
    assert entry["level"] == "INFO"


def test_an_exception_is_a_formatted_string_field(
    console: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = console
    try:
        raise ValueError("no such machine")
    except ValueError:
        logger.exception("import failed")
    (entry,) = json_lines(stream)
    assert entry["message"] == "import failed"
    exc = entry["exc_info"]
    assert isinstance(exc, str)
    assert exc.startswith("Traceback (most recent call last):")
    assert exc.rstrip().endswith("ValueError: no such machine")


def test_credentials_are_redacted_in_messages_tracebacks_and_extras(
    console: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = console
    logger.info("header %s", "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig")
    logger.info("upstream said: bearer tok_ABC123== is expired")
    logger.info("connecting with host=db user=enms password=hunter2 port=5432")
    logger.info("settings %s", {"smtp_password": "hunter2", "port": 25})
    logger.info("url %s", "postgresql+psycopg://enms:hunter2@db.example/enms")
    logger.info("request", extra={"headers": "authorization: Basic ZW5tczpodW50ZXIy"})
    try:
        raise RuntimeError("login failed for password=hunter2")
    except RuntimeError:
        logger.exception("boom")
    text = stream.getvalue()
    for secret in ("eyJhbGciOiJIUzI1NiJ9", "tok_ABC123", "hunter2", "ZW5tczpodW50ZXIy"):
        assert secret not in text
    entries = json_lines(stream)
    assert entries[0]["message"] == "header Authorization: ***"
    assert entries[1]["message"] == "upstream said: bearer *** is expired"
    assert entries[2]["message"] == "connecting with host=db user=enms password=*** port=5432"
    assert entries[3]["message"] == "settings {'smtp_password': '***', 'port': 25}"
    assert entries[4]["message"] == "url postgresql+psycopg://enms:***@db.example/enms"
    assert entries[5]["headers"] == "authorization: ***"
    assert "RuntimeError: login failed for password=***" in str(entries[6]["exc_info"])


def test_redaction_leaves_ordinary_text_alone() -> None:
    for text in (
        "password reset requested for 3 users",
        "GET /api/v1/machines/7 answered 200 in 3 ms",
        "sqlite:///data/enms.db upgraded to 2026_01_10_x",
        "the secret key was generated into .enms/secret_key (mode 0600)",
    ):
        assert redact(text) == text


def test_a_text_format_may_name_the_request_id() -> None:
    settings = Settings(log_format="%(request_id)s %(levelname)s %(message)s")
    with configured_console(settings) as stream:
        log = logging.getLogger("enms.test.text")
        log.info("outside password=hunter2")
        with bound_request_id("abc"):
            log.info("inside")
    assert stream.getvalue().splitlines() == ["- INFO outside password=***", "abc INFO inside"]


def test_uvicorn_loggers_propagate_to_the_one_handler() -> None:
    error = logging.getLogger("uvicorn.error")
    saved = error.level, error.handlers[:], error.propagate
    # What uvicorn's default logging config leaves behind (a server run earlier in-process).
    error.setLevel(logging.WARNING)
    error.handlers[:] = [logging.NullHandler()]
    error.propagate = False
    try:
        with configured_console(Settings(log_format="json")) as stream:
            error.info("Application startup complete.")
            assert all(logging.getLogger(name).propagate for name in UVICORN_LOGGERS)
    finally:
        error.setLevel(saved[0])
        error.handlers[:] = saved[1]
        error.propagate = saved[2]
    (entry,) = json_lines(stream)
    assert (entry["logger"], entry["message"]) == ("uvicorn.error", "Application startup complete.")
