"""The unit of work: commit or roll back, after-commit callbacks, SQLite pragmas."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from enms.core.db import after_commit, create_db_engine, create_session_factory, session_scope


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
