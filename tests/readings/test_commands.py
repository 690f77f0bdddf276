"""The CLI as a user runs it: a real `enms` process on a real SQLite file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.factories import readings_csv


def enms(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run ``enms ARGS`` with its database in ``tmp_path``."""
    env = os.environ | {"ENMS_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}"}
    return subprocess.run(
        [sys.executable, "-m", "enms.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        check=False,
        timeout=120,
    )


def test_machines_and_import_round_trip(tmp_path: Path) -> None:
    assert enms(tmp_path, "db", "upgrade").returncode == 0
    added = enms(tmp_path, "machines", "add", "Press 3", "--type", "press", "--json")
    assert added.returncode == 0, added.stderr
    assert json.loads(added.stdout)["name"] == "Press 3"

    csv = tmp_path / "readings.csv"
    csv.write_text(readings_csv(periods=100) + "2025-01-01T05:00:00,1,1,1,false,1\n")
    imported = enms(tmp_path, "import", "readings", str(csv), "--machine", "Press 3", "--json")
    assert imported.returncode == 0, imported.stderr
    summary = json.loads(imported.stdout)  # exactly one JSON document on stdout
    assert (summary["rows_read"], summary["rows_written"]) == (101, 100)
    assert summary["duplicates_in_file"] == 1

    listed = json.loads(enms(tmp_path, "machines", "list", "--json").stdout)
    assert [(m["name"], m["readings_count"]) for m in listed] == [("Press 3", 100)]
    human = enms(tmp_path, "machines", "list")
    assert "Press 3" in human.stdout
    assert "100" in human.stdout


def test_failures_exit_non_zero_naming_the_problem(tmp_path: Path) -> None:
    enms(tmp_path, "db", "upgrade")
    enms(tmp_path, "machines", "add", "Oven")
    bad = tmp_path / "bad.csv"
    bad.write_text("timestamp,energy_kwh\n2025-01-01,1\n2025-01-01T01:00,-2\n")
    result = enms(tmp_path, "import", "readings", str(bad), "--machine", "Oven", "--json")
    assert result.returncode == 1
    assert result.stdout == ""
    assert "line 3, column energy_kwh: '-2' is negative" in result.stderr
    unknown = enms(tmp_path, "import", "readings", str(bad), "--machine", "Ovne")
    assert unknown.returncode == 1
    assert "no machine named 'Ovne'; known machines: Oven" in unknown.stderr
    dup = enms(tmp_path, "machines", "add", "Oven")
    assert dup.returncode == 1
    assert "already exists" in dup.stderr


def test_commands_refuse_a_missing_or_stale_database_and_print_the_fix(tmp_path: Path) -> None:
    missing = enms(tmp_path, "serve", "--port", "8999")
    assert missing.returncode == 1
    assert "cli.db does not exist; create it with `enms db upgrade`" in missing.stderr
    assert not (tmp_path / "cli.db").exists()  # nothing created behind the user's back
    assert enms(tmp_path, "db", "upgrade", "--revision", "0001").returncode == 0
    for command in (["serve", "--port", "8999"], ["machines", "list"]):
        stale = enms(tmp_path, *command)
        assert stale.returncode == 1
        assert "is at schema revision 0001" in stale.stderr
        assert "run `enms db upgrade`" in stale.stderr
        assert "Traceback" not in stale.stderr
