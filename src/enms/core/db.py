"""Engine factory, the SQLite write gate, and the one transaction scope owned by the caller.

The database URL comes from ``Settings.database_url`` (``ENMS_DATABASE_URL``). Repositories
and services only ``flush()``; the request dependency, CLI command or task that started
the work commits through :func:`session_scope`.

On SQLite only one connection writes at a time. Left to SQLite, competing writers poll with
growing sleeps (``busy_timeout``) in no particular order, so under a burst some wait past the
timeout and fail with "database is locked" while late-comers get through. Within one process
writers therefore queue at a :class:`WriteGate` (first come, first served) before they issue
``BEGIN IMMEDIATE``, and leave it when their transaction ends; ``busy_timeout`` still covers
writers in *other* processes (a CLI import beside ``enms serve``). PostgreSQL has no gate.

A session factory may carry the instance secret (:mod:`enms.core.secrets`), so whoever opens
a unit of work on this instance can sign and verify model artifacts with it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from enms.core.secrets import InstanceSecret

log = logging.getLogger(__name__)
SessionFactory = sessionmaker[Session]
IMMEDIATE_OPTION = "enms_begin_immediate"
WRITE_GATE_OPTION = "enms_write_gate"
SECRET_INFO = "enms_instance_secret"
_AFTER_COMMIT = "enms_after_commit"
#: How long a writer waits at the gate before giving up (the single writer is slow, not dead).
DEFAULT_WRITE_WAIT_SECONDS = 120.0


class WriteGateTimeout(TimeoutError):
    """A writer waited longer than the gate allows (someone holds the write lock for long)."""


class WriteGate:
    """A first-come-first-served lock for a SQLite engine's writing units of work.

    Not re-entrant: a thread that already writes and opens a second writing unit of work
    would wait for itself (SQLite would make it wait for itself too), so that is refused
    at once with an error naming the mistake.
    """

    def __init__(self, *, wait_seconds: float = DEFAULT_WRITE_WAIT_SECONDS) -> None:
        self._cond = threading.Condition()
        self._queue: deque[object] = deque()
        self._owner: int | None = None
        self._wait_seconds = wait_seconds

    @property
    def waiting(self) -> int:
        """Writers queued right now (for diagnostics and tests)."""
        with self._cond:
            return len(self._queue)

    def acquire(self) -> None:
        """Wait for this writer's turn (in arrival order)."""
        me = threading.get_ident()
        ticket = object()
        with self._cond:
            if self._owner == me:
                raise RuntimeError(
                    "this thread already holds a writing unit of work on this SQLite database; "
                    "a nested one would wait for itself (finish the first one before)"
                )
            self._queue.append(ticket)
            deadline = time.monotonic() + self._wait_seconds
            while self._owner is not None or self._queue[0] is not ticket:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    self._queue.remove(ticket)
                    self._cond.notify_all()
                    raise WriteGateTimeout(
                        f"waited {self._wait_seconds:g} s for the database's write lock; "
                        "another unit of work holds it for long"
                    )
                self._cond.wait(remaining)
            self._queue.popleft()
            self._owner = me

    def release(self) -> None:
        """Hand the gate to the next writer in line."""
        with self._cond:
            self._owner = None
            self._cond.notify_all()

    @contextmanager
    def held(self) -> Iterator[None]:
        """``with gate.held():`` — for writers that do not go through :func:`session_scope`."""
        self.acquire()
        try:
            yield
        finally:
            self.release()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets the web server's readers proceed while a worker thread writes.
    cursor.execute("PRAGMA journal_mode=WAL")
    # SQLite ignores foreign keys unless asked, per connection.
    cursor.execute("PRAGMA foreign_keys=ON")
    # Wait for a writer in another process instead of failing at once with "database is
    # locked" (writers in this process queue at the write gate first).
    cursor.execute("PRAGMA busy_timeout=30000")
    # With WAL, NORMAL is still crash-safe (a power cut may lose the last commits, not corrupt).
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def create_db_engine(
    url: str, *, echo: bool = False, write_wait_seconds: float = DEFAULT_WRITE_WAIT_SECONDS
) -> Engine:
    """Create an engine for ``url`` with the per-dialect settings enms relies on.

    A SQLite engine carries its :class:`WriteGate` (see :func:`write_gate`).
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            echo=echo,
            connect_args={"timeout": 30},
            execution_options={WRITE_GATE_OPTION: WriteGate(wait_seconds=write_wait_seconds)},
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        # pysqlite's own transaction handling defers BEGIN; emit it ourselves so a
        # transaction's reads and writes are one unit (SQLAlchemy's documented recipe).
        event.listen(engine, "connect", _disable_pysqlite_begin)
        event.listen(engine, "begin", _emit_begin)
        return engine
    return create_engine(url, echo=echo, pool_pre_ping=True)


def write_gate(engine: Engine) -> WriteGate | None:
    """The engine's write gate (None on PostgreSQL, where writers need none)."""
    gate = engine.get_execution_options().get(WRITE_GATE_OPTION)
    return gate if isinstance(gate, WriteGate) else None


def _disable_pysqlite_begin(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None


def _emit_begin(conn: Any) -> None:
    # A writing unit of work takes SQLite's write lock up front (BEGIN IMMEDIATE): a deferred
    # transaction that reads and then writes fails at once with SQLITE_BUSY when another
    # writer committed in between, whereas IMMEDIATE waits its turn.
    immediate = conn.get_execution_options().get(IMMEDIATE_OPTION)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def create_session_factory(
    engine: Engine, *, secret: InstanceSecret | None = None
) -> SessionFactory:
    """Sessions that keep loaded attributes after commit (responses are built afterwards).

    ``secret`` is the instance secret artifacts are signed with; a factory without one can
    do everything except register or load a model version.
    """
    return sessionmaker(bind=engine, expire_on_commit=False, info={SECRET_INFO: secret})


def instance_secret(session: Session) -> InstanceSecret | None:
    """The instance secret the session's factory was built with, if any."""
    secret = session.info.get(SECRET_INFO)
    return secret if isinstance(secret, InstanceSecret) else None


@contextmanager
def session_scope(factory: SessionFactory, *, write: bool = False) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error, always close.

    ``write=True`` marks a unit of work that will write: on SQLite it queues at the engine's
    write gate, then takes the write lock at the start (see :func:`_emit_begin`) and holds
    both until it commits or rolls back; PostgreSQL is unaffected. Keep such units short —
    never fit or score a model inside one. Callbacks registered with :func:`after_commit`
    run once the commit has succeeded (e.g. enqueueing a task that must see the committed row).
    """
    session = factory()
    bind = session.get_bind()
    gate = write_gate(bind) if write and isinstance(bind, Engine) else None
    if gate is not None:
        try:
            gate.acquire()
        except BaseException:
            session.close()
            raise
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
        if gate is not None:
            gate.release()
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
