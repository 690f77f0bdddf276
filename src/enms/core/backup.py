"""Backup and restore of the database named by ``ENMS_DATABASE_URL`` (``enms db backup`` and
``enms db restore``).

SQLite: SQLite's online backup (:meth:`sqlite3.Connection.backup`) copies every page in one
step under one read transaction, so the copy is the database as of one commit, consistent
while the server and workers go on writing (WAL lets them; nobody waits for the backup). The
copy is checked (``PRAGMA quick_check``), made a self-contained file (rollback journal, no
``-wal`` beside it) and moved into place only when complete. A restore copies a backup into
the configured file the same way, and refuses to overwrite a non-empty database unless
forced.

PostgreSQL: ``pg_dump --format=custom`` (itself one consistent snapshot, taken without
blocking writers) and ``pg_restore --clean --if-exists --no-owner`` in a single transaction
(a failed restore changes nothing). The client tools must be on ``PATH`` and at least as new
as the server. A password in the URL reaches them as ``PGPASSWORD`` in their environment,
never on their command line (which every user of the host can read).

The job queue is not backed up: the database is the record of every job, and the watchdog
enqueues again any pending job no queue message names. The instance secret (``ENMS_SECRET_KEY``
or ``ENMS_DATA_DIR/secret_key``) is not in the database; without it the restored model
versions cannot be loaded, so keep it with the backups.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import time
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import inspect
from sqlalchemy.engine import URL, make_url

from enms.core.db import create_db_engine
from enms.core.errors import Conflict, DomainError, InvalidInput, NotFound
from enms.core.log_records import redact

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_CUSTOM_MAGIC = b"PGDMP"


class BackupFailed(DomainError):
    """The backup or restore tool failed, or is missing."""

    code = "backup_failed"


@dataclass(frozen=True)
class BackupResult:
    """What a backup or restore did (``command``: the client tool's argv, no password)."""

    database: str
    path: str
    dialect: str
    method: str
    size_bytes: int
    seconds: float
    command: list[str] | None = None


def backup(*, database_url: str, path: Path) -> BackupResult:
    """Write a consistent backup of the database at ``database_url`` to ``path``."""
    url, target, started = make_url(database_url), Path(path), time.monotonic()
    if target.is_dir():
        raise InvalidInput(f"{target} is a directory; name the backup file to write")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial-{os.getpid()}")
    try:
        if url.get_backend_name() == "sqlite":
            source = _sqlite_file(url)
            if not source.exists():
                raise NotFound(f"the database file {source} does not exist; nothing to back up")
            if target.resolve() == source.resolve():
                raise InvalidInput(f"{target} is the database itself; back up to another file")
            _sqlite_copy(source, partial, self_contained=True)
            method, command = "sqlite online backup", None
        else:
            command = [
                _tool("pg_dump"),
                "--format=custom",
                "--no-password",
                f"--file={partial}",
                f"--dbname={_libpq_uri(url)}",
            ]
            _run(command, url)
            method = "pg_dump --format=custom"
        os.replace(partial, target)
    finally:
        for leftover in (partial, *_sidecars(partial)):
            leftover.unlink(missing_ok=True)
    return BackupResult(
        database=url.render_as_string(hide_password=True),
        path=str(target),
        dialect=url.get_backend_name(),
        method=method,
        size_bytes=target.stat().st_size,
        seconds=round(time.monotonic() - started, 3),
        command=command,
    )


def restore(*, database_url: str, path: Path, force: bool = False) -> BackupResult:
    """Restore the backup at ``path`` into the database at ``database_url``; a database that
    already holds tables is only overwritten with ``force``."""
    url, source, started = make_url(database_url), Path(path), time.monotonic()
    if not source.is_file():
        raise NotFound(f"no backup file at {source}")
    with source.open("rb") as file:
        head = file.read(len(SQLITE_MAGIC))
    if url.get_backend_name() == "sqlite":
        if not head.startswith(SQLITE_MAGIC):
            raise InvalidInput(f"{source} is not a SQLite backup{_kind_hint(head)}")
        target = _sqlite_file(url)
        if target.exists() and target.stat().st_size > 0 and not force:
            raise Conflict(
                f"the database file {target} exists and is not empty; restoring replaces "
                "everything in it: stop enms serve and enms worker, then pass --force"
            )
        if target.exists() and target.resolve() == source.resolve():
            raise InvalidInput(f"{source} is the database itself; nothing to restore")
        target.parent.mkdir(parents=True, exist_ok=True)
        _sqlite_copy(source, target, self_contained=False)
        method, command = "sqlite online backup", None
    else:
        if not head.startswith(PG_CUSTOM_MAGIC):
            raise InvalidInput(f"{source} is not a pg_dump custom-format file{_kind_hint(head)}")
        _refuse_non_empty_postgres(url, force)
        command = [
            _tool("pg_restore"),
            "--clean",
            "--if-exists",
            "--no-owner",
            "--single-transaction",
            "--exit-on-error",
            "--no-password",
            f"--dbname={_libpq_uri(url)}",
            str(source),
        ]
        _run(command, url)
        method = "pg_restore --clean --if-exists --no-owner"
    return BackupResult(
        database=url.render_as_string(hide_password=True),
        path=str(source),
        dialect=url.get_backend_name(),
        method=method,
        size_bytes=source.stat().st_size,
        seconds=round(time.monotonic() - started, 3),
        command=command,
    )


def _sqlite_file(url: URL) -> Path:
    if url.database in (None, "", ":memory:"):
        raise InvalidInput("an in-memory SQLite database cannot be backed up or restored")
    return Path(url.database)


def _sqlite_copy(source: Path, target: Path, *, self_contained: bool) -> None:
    """Copy every page of ``source`` into ``target`` in one step (one read transaction)."""
    try:
        with (
            closing(sqlite3.connect(source, timeout=30)) as src,
            closing(sqlite3.connect(target, timeout=30)) as dst,
        ):
            src.backup(dst)  # pages=-1: all at once, so concurrent commits cannot restart it
            check = dst.execute("PRAGMA quick_check").fetchone()
            if check is None or check[0] != "ok":
                raise BackupFailed(f"the copy of {source} failed its integrity check: {check}")
            if self_contained:
                # The copy inherits WAL mode; a backup file should stand alone.
                dst.execute("PRAGMA journal_mode=DELETE")
    except sqlite3.Error as exc:
        raise BackupFailed(f"copying {source} to {target} failed: {exc}") from exc


def _sidecars(path: Path) -> list[Path]:
    return [path.with_name(path.name + suffix) for suffix in ("-wal", "-shm", "-journal")]


def _refuse_non_empty_postgres(url: URL, force: bool) -> None:
    if force:
        return
    engine = create_db_engine(url.render_as_string(hide_password=False))
    try:
        tables = inspect(engine).get_table_names()
    finally:
        engine.dispose()
    if tables:
        raise Conflict(
            f"the database {url.render_as_string(hide_password=True)} already holds "
            f"{len(tables)} tables; restoring replaces them: stop enms serve and enms worker, "
            "then pass --force (or restore into a new, empty database)"
        )


def _libpq_uri(url: URL) -> str:
    """``url`` as a libpq connection URI without its password."""
    # URL.set() leaves a field alone when given None; _replace really drops the password.
    bare = url._replace(drivername="postgresql", password=None)
    return bare.render_as_string(hide_password=False)


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupFailed(
            f"{name} is not installed (not found on PATH); install the PostgreSQL client "
            "tools of the server's major version or newer (Debian/Ubuntu: apt install "
            "postgresql-client) or put their directory on PATH"
        )
    return found


def _run(command: list[str], url: URL) -> None:
    env = dict(os.environ)
    if url.password is not None:
        env["PGPASSWORD"] = str(url.password)
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode == 0:
        return
    tool = Path(command[0]).name
    said = redact(done.stderr.strip() or done.stdout.strip() or "(no output)")
    hint = ""
    if "version mismatch" in said or "unsupported version" in said:
        hint = f"; {tool} must be at least as new as the server (or the dump): see `{tool} -V`"
    raise BackupFailed(f"{tool} failed (exit {done.returncode}): {said}{hint}")


def _kind_hint(head: bytes) -> str:
    if head.startswith(SQLITE_MAGIC):
        return " (it is a SQLite backup: restore it with a sqlite:/// ENMS_DATABASE_URL)"
    if head.startswith(PG_CUSTOM_MAGIC):
        return " (it is a PostgreSQL dump: restore it with a postgresql:// ENMS_DATABASE_URL)"
    return " (a plain SQL dump is restored with psql -f FILE)"
