"""Engine factory, the SQLite write gate, and the one transaction scope owned by the caller.

The database URL comes from ``Settings.database_url`` (``ENMS_DATABASE_URL``). Repositories
and services only ``flush()``; the request dependency, CLI command or task that started
the work commits through :func:`session_scope`.

On SQLite only one connection writes at a time. Left to SQLite, competing writers poll with
growing sleeps (``busy_timeout``) in no particular order, so under a burst some wait past the
timeout and fail with "database is locked" while late-comers get through. Within one process
writers therefore queue at a :class:`WriteGate` (first come, first served) before they issue
``BEGIN IMMEDIATE``, and leave it when their transaction ends; ``busy_timeout`` still covers
writers in *other* processes (a CLI import beside ``enms serve``). PostgreSQL needs no gate;
there only web requests are admitted a bounded number at a time (see :func:`request_scope`).

A session factory may carry the instance secret (:mod:`enms.core.secrets`), so whoever opens
a unit of work on this instance can sign and verify model artifacts with it.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any, TypeVar

import anyio
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from enms.core.secrets import InstanceSecret
from enms.core.write_gate import DEFAULT_WRITE_WAIT_SECONDS, WriteGate, WriteGateTimeout

__all__ = ["WriteGate", "WriteGateTimeout"]
log = logging.getLogger(__name__)
_T = TypeVar("_T")
SessionFactory = sessionmaker[Session]
IMMEDIATE_OPTION = "enms_begin_immediate"
WRITE_GATE_OPTION = "enms_write_gate"
SECRET_INFO = "enms_instance_secret"
_AFTER_COMMIT = "enms_after_commit"
_TICKET_OPTION = "enms_gate_ticket"
REQUEST_GATE_OPTION = "enms_request_gate"
#: Writing web requests admitted at once on PostgreSQL (below the 40 handler threads and the
#: pool's 15 connections, so the request they may wait for always finds both).
DEFAULT_REQUEST_WRITERS = 8


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
    url: str,
    *,
    echo: bool = False,
    write_wait_seconds: float = DEFAULT_WRITE_WAIT_SECONDS,
    request_writers: int = DEFAULT_REQUEST_WRITERS,
) -> Engine:
    """Create an engine for ``url`` with the per-dialect settings enms relies on.

    A SQLite engine carries its :class:`WriteGate` (see :func:`write_gate`); a PostgreSQL
    engine a gate admitting ``request_writers`` writing web requests at a time (see
    :func:`request_scope`), which nothing else uses.
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
    admission = WriteGate(capacity=request_writers, wait_seconds=write_wait_seconds)
    return create_engine(
        url, echo=echo, pool_pre_ping=True, execution_options={REQUEST_GATE_OPTION: admission}
    )


def write_gate(engine: Engine) -> WriteGate | None:
    """The engine's write gate (None on PostgreSQL, where writers need none)."""
    gate = engine.get_execution_options().get(WRITE_GATE_OPTION)
    return gate if isinstance(gate, WriteGate) else None


def _request_gate(engine: Engine) -> WriteGate | None:
    gate = engine.get_execution_options().get(REQUEST_GATE_OPTION)
    return gate if isinstance(gate, WriteGate) else None


def _disable_pysqlite_begin(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None


class _GateTicket:
    """One writing unit of work's place at the gate: taken at its first BEGIN, returned when
    the unit of work ends (see :func:`session_scope`)."""

    def __init__(self, gate: WriteGate) -> None:
        self.gate = gate
        self.held = False

    def take(self) -> None:
        if not self.held:
            self.gate.acquire()
            self.held = True

    def give_back(self) -> None:
        if self.held:
            self.held = False
            self.gate.release()


def _emit_begin(conn: Any) -> None:
    # A writing unit of work takes SQLite's write lock up front (BEGIN IMMEDIATE): a deferred
    # transaction that reads and then writes fails at once with SQLITE_BUSY when another
    # writer committed in between, whereas IMMEDIATE waits its turn — at the write gate first.
    options = conn.get_execution_options()
    ticket = options.get(_TICKET_OPTION)
    if isinstance(ticket, _GateTicket):
        ticket.take()
    conn.exec_driver_sql("BEGIN IMMEDIATE" if options.get(IMMEDIATE_OPTION) else "BEGIN")


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
def session_scope(
    factory: SessionFactory, *, write: bool = False, gate_now: bool = False
) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error, always close.

    ``write=True`` marks a unit of work that will write: on SQLite it queues at the engine's
    write gate and then takes the write lock (``BEGIN IMMEDIATE``, see :func:`_emit_begin`),
    holding both until it ends; PostgreSQL is unaffected. The gate is taken at the first
    statement, or on entry with ``gate_now`` (see :func:`request_scope`). Keep such units
    short — never fit or score a model inside one. Callbacks registered with
    :func:`after_commit` run once the commit has succeeded (e.g. enqueueing a task that must
    see the committed row).
    """
    ticket: _GateTicket | None = None
    engine = factory.kw.get("bind")
    if write and isinstance(engine, Engine):
        gate = write_gate(engine)
        options: dict[str, Any] = {IMMEDIATE_OPTION: True}
        if gate is not None:
            ticket = _GateTicket(gate)
            options[_TICKET_OPTION] = ticket
            if gate_now:
                ticket.take()
        session = factory(bind=engine.execution_options(**options))
    else:
        session = factory()
    try:
        if write and not isinstance(engine, Engine):  # bound to a connection: lock it now
            session.connection(execution_options={IMMEDIATE_OPTION: True})
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        callbacks = session.info.pop(_AFTER_COMMIT, [])
        session.close()
        if ticket is not None:
            ticket.give_back()
    for callback in callbacks:
        try:
            callback()
        except Exception:  # the unit of work is committed; whoever relies on the
            # callback must also recover without it (e.g. a lost enqueue is redone by
            # the training watchdog), so report it and go on.
            log.exception("after-commit callback %r failed", callback)


@asynccontextmanager
async def request_scope(factory: SessionFactory, *, write: bool = False) -> AsyncIterator[Session]:
    """A web request's unit of work (:func:`session_scope`), for an async dependency.

    Why not a plain sync dependency: the framework runs sync handlers *and their response
    serialisation* on one bounded thread pool (40 threads), and commits a request's unit of
    work only after serialising. Writers waiting inside that pool — for SQLite's write lock,
    or on PostgreSQL for a row another request inserted and has not committed — can fill it,
    and the writer they wait for then finds no thread to serialise its answer and commit:
    everything stalls until a timeout. So a writing request waits for its turn *before* its
    handler runs, on a thread of its own outside that pool: on SQLite at the write gate, on
    PostgreSQL at a gate admitting a bounded number of writing requests (fewer than the
    pool's threads and connections); and it commits on another such thread.
    """
    engine = factory.kw.get("bind")
    admission = _request_gate(engine) if write and isinstance(engine, Engine) else None
    if admission is not None:
        await _off_pool(admission.acquire)
    try:
        scope = session_scope(factory, write=write, gate_now=write)
        session = await _off_pool(scope.__enter__)
        try:
            yield session
        except BaseException as exc:
            if not await _off_pool(scope.__exit__, type(exc), exc, exc.__traceback__):
                raise
        else:
            await _off_pool(scope.__exit__, None, None, None)
    finally:
        if admission is not None:
            admission.release()


async def _off_pool(func: Callable[..., _T], *args: Any) -> _T:
    """Run ``func`` on a worker thread that does not count against the handlers' pool."""
    return await anyio.to_thread.run_sync(func, *args, limiter=anyio.CapacityLimiter(1))


def after_commit(session: Session, callback: Callable[[], None]) -> None:
    """Run ``callback`` after the unit of work owning ``session`` commits (never on rollback)."""
    session.info.setdefault(_AFTER_COMMIT, []).append(callback)
