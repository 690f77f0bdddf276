"""The unit of work: commit or roll back, after-commit callbacks, SQLite pragmas."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import Engine, event, text
from sqlalchemy.exc import OperationalError

from enms.core.db import (
    WRITE_GATE_OPTION,
    SessionFactory,
    WriteGate,
    WriteGateTimeout,
    after_commit,
    create_db_engine,
    create_session_factory,
    session_scope,
    write_gate,
)


def test_after_commit_runs_only_after_a_commit_and_survives_a_failing_callback(
    tmp_path: Path,
) -> None:
    factory = create_session_factory(create_db_engine(f"sqlite:///{tmp_path / 'u.db'}"))
    ran: list[str] = []
    with session_scope(factory, write=True) as session:
        session.execute(text("CREATE TABLE t (x INTEGER)"))
        after_commit(session, lambda: ran.append("committed"))
    assert ran == ["committed"]

    def failing_unit_of_work() -> None:
        with session_scope(factory, write=True) as session:
            session.execute(text("INSERT INTO t VALUES (1)"))
            after_commit(session, lambda: ran.append("never"))
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        failing_unit_of_work()
    assert ran == ["committed"]

    def broken() -> None:
        raise ConnectionError("queue down")

    with session_scope(factory, write=True) as session:
        session.execute(text("INSERT INTO t VALUES (2)"))
        after_commit(session, broken)
        after_commit(session, lambda: ran.append("still runs"))
    assert ran == ["committed", "still runs"]
    with session_scope(factory) as session:
        assert session.execute(text("SELECT x FROM t")).scalars().all() == [2]


def test_sqlite_pragmas(tmp_path: Path) -> None:
    engine = create_db_engine(f"sqlite:///{tmp_path / 'p.db'}")
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 30000


def _fast_failing_engine(path: Path) -> Engine:
    """An engine whose connections give up after 1 ms of SQLite-level waiting, so any two
    writers that reach SQLite at once fail with "database is locked"."""
    engine = create_db_engine(f"sqlite:///{path}")
    event.listen(engine, "connect", lambda conn, _r: conn.execute("PRAGMA busy_timeout=1"))
    return engine


def _hammer(factory: SessionFactory, threads: int = 40, rounds: int = 15) -> list[BaseException]:
    """``threads`` x ``rounds`` read-then-write units of work at once; the errors raised."""
    with session_scope(factory, write=True) as session:
        session.execute(text("CREATE TABLE IF NOT EXISTS counter (n INTEGER NOT NULL)"))
        session.execute(text("CREATE TABLE IF NOT EXISTS log (thread INTEGER, n INTEGER)"))
        session.execute(text("DELETE FROM counter"))
        session.execute(text("DELETE FROM log"))
        session.execute(text("INSERT INTO counter VALUES (0)"))
    errors: list[BaseException] = []
    barrier = threading.Barrier(threads)

    def writer(index: int) -> None:
        barrier.wait()
        for _ in range(rounds):
            try:
                with session_scope(factory, write=True) as session:
                    n = session.execute(text("SELECT n FROM counter")).scalar_one()
                    session.execute(text("UPDATE counter SET n = :n"), {"n": n + 1})
                    session.execute(text("INSERT INTO log VALUES (:t, :n)"), {"t": index, "n": n})
            except OperationalError as exc:  # collected and asserted by the caller
                errors.append(exc)

    workers = [threading.Thread(target=writer, args=(i,)) for i in range(threads)]
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    return errors


def test_many_threads_write_at_once_without_database_is_locked(tmp_path: Path) -> None:
    """40 threads x 15 read-then-write units of work on one SQLite file, with SQLite's own
    wait cut to 1 ms: the gate queues them, so none fails and none is lost. The same load
    with the gate taken off is the reference: there SQLite turns writers away."""
    engine = _fast_failing_engine(tmp_path / "w.db")
    ungated = engine.execution_options(**{WRITE_GATE_OPTION: None})
    refused = _hammer(create_session_factory(ungated))
    assert refused  # typically ~500 of 600 on this machine
    assert all("database is locked" in str(e) for e in refused)
    factory = create_session_factory(engine)
    assert _hammer(factory) == []
    with session_scope(factory) as session:
        assert session.execute(text("SELECT n FROM counter")).scalar_one() == 600
        seen = session.execute(text("SELECT n FROM log ORDER BY n")).scalars().all()
        assert seen == list(range(600))  # serialised: every unit of work saw the one before


def test_the_write_gate_serves_writers_in_arrival_order() -> None:
    gate = WriteGate()
    gate.acquire()  # held by the main thread while writers line up
    order: list[int] = []

    def writer(index: int) -> None:
        with gate.held():
            order.append(index)

    threads = []
    for i in range(10):
        thread = threading.Thread(target=writer, args=(i,))
        thread.start()
        threads.append(thread)
        while gate.waiting < i + 1:  # the next one arrives only after this one queued
            threading.Event().wait(0.001)
    gate.release()
    for t in threads:
        t.join()
    assert order == list(range(10))


def test_a_writer_that_waits_too_long_gives_up_with_a_clear_error(tmp_path: Path) -> None:
    engine = create_db_engine(f"sqlite:///{tmp_path / 'n.db'}", write_wait_seconds=0.2)
    factory = create_session_factory(engine)
    with session_scope(factory, write=True) as outer:
        outer.execute(text("SELECT 1"))  # the gate is taken at the first statement
        with (
            pytest.raises(WriteGateTimeout, match="nested inside it"),
            session_scope(factory, write=True) as inner,
        ):
            inner.execute(text("SELECT 1"))
    gate = write_gate(engine)
    assert gate is not None
    assert gate.waiting == 0  # the one that gave up left the queue
    with session_scope(factory, write=True) as session:  # and the gate still works
        session.execute(text("SELECT 1"))


def test_postgresql_engines_have_no_gate() -> None:
    engine = create_db_engine("postgresql+psycopg://u@127.0.0.1:1/none")
    assert write_gate(engine) is None
