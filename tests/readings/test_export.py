"""`enms export readings`: CSV in the import format; export → import gives identical readings."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
from pandas.testing import assert_frame_equal
from tests.factories import make_machine
from tests.readings.test_commands import enms

from enms.core.clock import FrozenClock
from enms.core.db import SessionFactory, session_scope
from enms.core.timewindow import Window
from enms.readings import export, parsing, repository, service


def _awkward_csv() -> str:
    """Readings with every kind of column, missing values and floats that need all digits."""
    rng = np.random.default_rng(11)
    ts = pd.date_range("2025-06-01", periods=200, freq="15min", tz="UTC")
    frame = pd.DataFrame(
        {
            "timestamp": [t.isoformat() for t in ts],
            "energy_kwh": rng.uniform(0, 50, len(ts)) / 3.0,
            "outdoor_temp_c": np.where(
                rng.random(len(ts)) < 0.1, np.nan, rng.normal(15, 5, len(ts))
            ),
            "operating_hours": 0.25,
            "line_speed": np.where(rng.random(len(ts)) < 0.2, np.nan, rng.uniform(1, 2, len(ts))),
            "is_anomaly": rng.choice(["true", "false", ""], len(ts)),
        }
    )
    frame.loc[5, "timestamp"] = "2025-06-01T01:15:00.250000+00:00"  # sub-second
    return frame.to_csv(index=False)


def test_export_then_import_into_a_new_machine_reproduces_the_readings(
    session_factory: SessionFactory, clock: FrozenClock
) -> None:
    with session_scope(session_factory) as s:
        source = make_machine(s, clock, name="Source")
        copy = make_machine(s, clock, name="Copy")
        target = service.get_machine(session=s, machine_id=source.id)
        service.import_readings(session=s, machine=target, parsed=parsing.parse_csv(_awkward_csv()))
    out = io.StringIO()
    with session_scope(session_factory) as s:
        target = service.get_machine(session=s, machine_id=source.id)
        summary = export.write_csv(
            session=s, machine=target, window=Window(None, None), out=out, chunk=37
        )
    assert summary.rows == 200
    assert summary.columns == [
        "timestamp",
        "energy_kwh",
        "outdoor_temp_c",
        "operating_hours",
        "line_speed",
        "is_anomaly",
    ]
    with session_scope(session_factory) as s:
        target = service.get_machine(session=s, machine_id=copy.id)
        service.import_readings(session=s, machine=target, parsed=parsing.parse_csv(out.getvalue()))
    with session_scope(session_factory) as s:
        original = repository.readings_frame(s, source.id, None, None)
        again = repository.readings_frame(s, copy.id, None, None)
    assert len(original) == 200
    assert_frame_equal(original, again, check_exact=True)


def test_export_a_window_with_the_cli_and_import_it_back(tmp_path: Path) -> None:
    assert enms(tmp_path, "db", "upgrade").returncode == 0
    for name in ("A", "B"):
        assert enms(tmp_path, "machines", "add", name).returncode == 0
    csv = tmp_path / "in.csv"
    csv.write_text(_awkward_csv())
    assert enms(tmp_path, "import", "readings", str(csv), "--machine", "A").returncode == 0
    exported = enms(
        tmp_path,
        "export", "readings", "--machine", "A", "--from", "2025-06-01T12:00",
        "-o", "out.csv", "--json",
    )  # fmt: skip
    assert exported.returncode == 0, exported.stderr
    assert json.loads(exported.stdout)["rows"] == 200 - 48
    to_stdout = enms(tmp_path, "export", "readings", "--machine", "A", "--to", "2025-06-01T01:00")
    assert to_stdout.stdout.splitlines()[0].startswith("timestamp,energy_kwh,")
    assert len(to_stdout.stdout.splitlines()) == 1 + 4
    assert "exported 4 readings" in to_stdout.stderr
    back = enms(tmp_path, "import", "readings", "out.csv", "--machine", "B", "--json")
    assert back.returncode == 0, back.stderr
    assert json.loads(back.stdout)["inserted"] == 152


def test_cli_deletes_ask_first(tmp_path: Path) -> None:
    assert enms(tmp_path, "db", "upgrade").returncode == 0
    assert enms(tmp_path, "machines", "add", "Old press").returncode == 0
    csv = tmp_path / "in.csv"
    csv.write_text(_awkward_csv())
    assert enms(tmp_path, "import", "readings", str(csv), "--machine", "Old press").returncode == 0

    unbounded = enms(tmp_path, "readings", "delete", "--machine", "Old press", "--yes")
    assert unbounded.returncode == 2
    assert "give --from and/or --to" in unbounded.stderr
    window = ("--machine", "Old press", "--from", "2025-06-01", "--to", "2025-06-01T02:00")
    refused = enms(tmp_path, "readings", "delete", *window)  # stdin is not a yes
    assert refused.returncode != 0
    assert "delete 8 readings of 'Old press'" in refused.stderr
    trimmed = enms(tmp_path, "readings", "delete", *window, "--yes", "--json")
    assert trimmed.returncode == 0, trimmed.stderr
    assert json.loads(trimmed.stdout)["deleted"] == 8

    kept = enms(tmp_path, "machines", "delete", "Old press")
    assert kept.returncode != 0
    assert "energy_readings" in kept.stderr
    gone = enms(tmp_path, "machines", "delete", "Old press", "--yes", "--json")
    assert gone.returncode == 0, gone.stderr
    assert json.loads(gone.stdout)["deleted"]["energy_readings"] == 192
    listed = enms(tmp_path, "machines", "list", "--json")
    assert json.loads(listed.stdout) == []
