"""`enms db backup` / `enms db restore`: refusals, missing tools, and the password kept off the
client tools' command line (a stand-in `pg_dump` at the outside edge records what it got)."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy.engine import make_url
from tests.conftest import create_scratch_postgres, drop_scratch_postgres

from enms.cli import cli, main
from enms.core import schema
from enms.core.db import create_db_engine


def _enms(*args: str) -> dict[str, object]:
    result = CliRunner().invoke(cli, [*args, "--json"])
    assert result.exit_code == 0, result.output
    document: dict[str, object] = json.loads(result.stdout)
    return document


def _fails(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    with pytest.raises(SystemExit) as exit_:
        main(list(args))
    assert exit_.value.code == 1
    err = capsys.readouterr().err
    assert err.startswith("error: "), err
    assert "Traceback" not in err
    return err


def _sqlite_db(path: Path) -> str:
    url = f"sqlite:///{path}"
    engine = create_db_engine(url)
    schema.upgrade(engine)
    engine.dispose()
    return url


def test_a_sqlite_restore_refuses_a_non_empty_database_unless_forced(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source, target = _sqlite_db(tmp_path / "a.db"), _sqlite_db(tmp_path / "b.db")
    backup = tmp_path / "backups" / "a.bak"
    done = _enms("--database-url", source, "db", "backup", str(backup))
    assert (done["dialect"], done["command"]) == ("sqlite", None)
    assert backup.read_bytes().startswith(b"SQLite format 3\x00")
    assert not list(backup.parent.glob("*-wal"))
    assert not list(backup.parent.glob(".*partial*"))
    err = _fails(capsys, "--database-url", target, "db", "restore", str(backup))
    assert "exists and is not empty" in err
    assert "--force" in err
    forced = _enms("--database-url", target, "db", "restore", str(backup), "--force")
    assert forced["up_to_date"] is True


def test_backup_and_restore_refuse_what_they_cannot_do(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = _sqlite_db(tmp_path / "a.db")
    err = _fails(capsys, "--database-url", url, "db", "backup", str(tmp_path / "a.db"))
    assert "is the database itself" in err
    err = _fails(
        capsys,
        "--database-url",
        f"sqlite:///{tmp_path / 'none.db'}",
        "db",
        "backup",
        str(tmp_path / "x.bak"),
    )
    assert "does not exist; nothing to back up" in err
    dump = tmp_path / "plant.dump"
    dump.write_bytes(b"PGDMP\x01\x0e\x00")
    err = _fails(
        capsys, "--database-url", f"sqlite:///{tmp_path / 'new.db'}", "db", "restore", str(dump)
    )
    assert "is not a SQLite backup (it is a PostgreSQL dump" in err
    assert not (tmp_path / "new.db").exists()


def test_without_pg_dump_the_error_says_what_to_install(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no PostgreSQL client tools on it
    err = _fails(
        capsys,
        "--database-url",
        "postgresql://enms@127.0.0.1:1/enms",
        "db",
        "backup",
        str(tmp_path / "x.dump"),
    )
    assert "pg_dump is not installed (not found on PATH)" in err
    assert "postgresql-client" in err


def _stand_in_pg_dump(bin_dir: Path, record: Path, *, exit_code: int = 0) -> None:
    """A `pg_dump` that records its argv and PGPASSWORD and writes a custom-format header."""
    bin_dir.mkdir()
    script = bin_dir / "pg_dump"
    script.write_text(
        "#!/bin/sh\n"
        f'printf "%s\\n" "$@" > "{record}.argv"\n'
        f'printf "%s" "$PGPASSWORD" > "{record}.password"\n'
        f"if [ {exit_code} -ne 0 ]; then\n"
        '  echo "pg_dump: error: aborting because of server version mismatch" >&2\n'
        f"  exit {exit_code}\n"
        "fi\n"
        'for arg in "$@"; do\n'
        '  case "$arg" in --file=*) printf PGDMP > "${arg#--file=}";; esac\n'
        "done\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)


def test_the_password_reaches_pg_dump_in_its_environment_not_its_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    record = tmp_path / "call"
    _stand_in_pg_dump(tmp_path / "bin", record)
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.delenv("PGPASSWORD", raising=False)
    url = "postgresql://enms:s3cret%40pw@db.example:5433/plant?sslmode=require"
    done = _enms("--database-url", url, "db", "backup", str(tmp_path / "plant.dump"))
    argv = (tmp_path / "call.argv").read_text().splitlines()
    assert record.with_suffix(".password").read_text() == "s3cret@pw"
    assert "s3cret" not in " ".join(argv)
    assert "s3cret" not in json.dumps(done)
    assert "--dbname=postgresql://enms@db.example:5433/plant?sslmode=require" in argv
    assert "--format=custom" in argv
    assert (tmp_path / "plant.dump").read_bytes() == b"PGDMP"
    assert done["database"] == "postgresql+psycopg://enms:***@db.example:5433/plant?sslmode=require"


def test_a_failed_pg_dump_names_the_fix_and_keeps_the_previous_backup(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _stand_in_pg_dump(tmp_path / "bin", tmp_path / "call", exit_code=1)
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    previous = tmp_path / "plant.dump"
    previous.write_bytes(b"PGDMP yesterday")
    err = _fails(
        capsys,
        "--database-url",
        "postgresql://enms@db.example/plant",
        "db",
        "backup",
        str(previous),
    )
    assert "pg_dump failed (exit 1): pg_dump: error: aborting because of server version" in err
    assert "must be at least as new as the server" in err
    assert previous.read_bytes() == b"PGDMP yesterday"
    assert [p.name for p in tmp_path.iterdir() if "partial" in p.name] == []


@pytest.mark.postgres
def test_a_postgres_backup_with_a_password_in_the_url_restores(
    postgres_server_url: str, tmp_path: Path
) -> None:
    source, target = (create_scratch_postgres(postgres_server_url) for _ in range(2))
    try:
        engine = create_db_engine(source)
        schema.upgrade(engine)
        engine.dispose()
        # The test server trusts local connections; the password only has to stay hidden.
        with_password = make_url(source).set(password="not-on-the-command-line")
        url = with_password.render_as_string(hide_password=False)
        done = _enms("--database-url", url, "db", "backup", str(tmp_path / "p.dump"))
        assert "not-on-the-command-line" not in json.dumps(done)
        assert (tmp_path / "p.dump").read_bytes().startswith(b"PGDMP")
        restored = _enms("--database-url", target, "db", "restore", str(tmp_path / "p.dump"))
        assert restored["up_to_date"] is True
    finally:
        for url in (source, target):
            drop_scratch_postgres(postgres_server_url, url)
