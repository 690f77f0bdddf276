"""Engine factory and the one transaction scope owned by the outermost caller.

The database URL comes from ``Settings.database_url`` (``ENMS_DATABASE_URL``). Repositories
and services only ``flush()``; the request dependency, CLI command or task that started
the work commits through :func:`session_scope`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger(__name__)
SessionFactory = sessionmaker[Session]
IMMEDIATE_OPTION = "enms_begin_immediate"
_AFTER_COMMIT = "enms_after_commit"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets the web server's readers proceed while a worker thread writes.
    cursor.execute("PRAGMA journal_mode=WAL")
    # SQLite ignores foreign keys unless asked, per connection.
    cursor.execute("PRAGMA foreign_keys=ON")
    # Wait for a competing writer instead of failing at once with "database is locked".
    cursor.execute("PRAGMA busy_timeout=30000")
    # With WAL, NORMAL is still crash-safe (a power cut may lose the last commits, not corrupt).
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def create_db_engine(url: str, *, echo: bool = False) -> Engine:
    """Create an engine for ``url`` with the per-dialect settings enms relies on."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, echo=echo, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        # pysqlite's own transaction handling defers BEGIN; emit it ourselves so a
        # transaction's reads and writes are one unit (SQLAlchemy's documented recipe).
        event.listen(engine, "connect", _disable_pysqlite_begin)
        event.listen(engine, "begin", _emit_begin)
        return engine
    return create_engine(url, echo=echo, pool_pre_ping=True)


def _disable_pysqlite_begin(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None


def _emit_begin(conn: Any) -> None:
    # A writing unit of work takes SQLite's write lock up front (BEGIN IMMEDIATE): a deferred
    # transaction that reads and then writes fails at once with SQLITE_BUSY when another
    # writer committed in between, whereas IMMEDIATE waits its turn (busy_timeout).
    immediate = conn.get_execution_options().get(IMMEDIATE_OPTION)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def create_session_factory(engine: Engine) -> SessionFactory:
    """Sessions that keep loaded attributes after commit (responses are built afterwards)."""
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def session_scope(factory: SessionFactory, *, write: bool = False) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error, always close.

    ``write=True`` marks a unit of work that will write, so SQLite takes its write lock at
    the start (see :func:`_emit_begin`); PostgreSQL is unaffected. Callbacks registered with
    :func:`after_commit` run once the commit has succeeded (e.g. enqueueing a task that must
    see the committed row).
    """
    session = factory()
    try:
        if write:
            session.connection(execution_options={IMMEDIATE_OPTION: True})
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        callbacks = session.info.pop(_AFTER_COMMIT, [])
        session.close()
    for callback in callbacks:
        try:
            callback()
        except Exception:  # the unit of work is committed; whoever relies on the
            # callback must also recover without it (e.g. a lost enqueue is redone by
            # the training watchdog), so report it and go on.
            log.exception("after-commit callback %r failed", callback)


def after_commit(session: Session, callback: Callable[[], None]) -> None:
    """Run ``callback`` after the unit of work owning ``session`` commits (never on rollback)."""
    session.info.setdefault(_AFTER_COMMIT, []).append(callback)
