"""``enms drift check``: one JSON document with ``--json``, a readable summary without."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from click.testing import CliRunner
from tests.drift.test_check import COMPRESSOR, expected_energy, import_machine, log_points
from tests.evaluation.test_evaluate import _train

from enms.cli import main
from enms.core.cli_context import AppContext
from enms.core.clock import FrozenClock
from enms.core.config import Settings
from enms.core.db import SessionFactory
from enms.core.timewindow import Window
from enms.drift.commands import drift_group
from enms.drift.schemas import DriftCheckRead


def test_json_is_one_document_and_text_a_summary(
    session_factory: SessionFactory, clock: FrozenClock, settings: Settings
) -> None:
    machine_id = import_machine(session_factory, clock, index=COMPRESSOR)
    _train(session_factory, clock, machine_id, "baseline", "2025-04-01")
    frame = expected_energy(
        session_factory, machine_id, "baseline", Window.parse("2025-04-07", "2025-04-21")
    )
    log_points(
        session_factory,
        clock,
        machine_id,
        "baseline",
        pd.DataFrame({"predicted": frame["expected"], "actual": frame["energy_kwh"] * 1.12}),
    )
    app = AppContext(
        overrides={"database_url": settings.database_url, "data_dir": str(settings.data_dir)}
    )
    args = ["check", "baseline", "--machine", "Compressor C1"]
    window = ["--current-from", "2025-04-07", "--current-to", "2025-04-21"]
    as_json = CliRunner().invoke(drift_group, [*args, *window, "--json"], obj=app)
    assert as_json.exit_code == 0, as_json.output
    result = DriftCheckRead.model_validate(json.loads(as_json.stdout))  # exactly one document
    assert result.id is not None
    assert result.current_start.isoformat() == "2025-04-07T00:00:00+00:00"
    assert result.drift_details["degradation"]["energy"]["degraded"] is True
    assert "checking the baseline champion" in as_json.stderr
    human = CliRunner().invoke(
        drift_group, [*args, *window, "--version", "1", "--reference-from", "2025-02-01"], obj=app
    )
    assert human.exit_code == 0, human.output
    lines = human.stdout.splitlines()
    assert lines[0].startswith("baseline v1, current 2025-04-07 00:00 .. 2025-04-21 00:00 UTC:")
    assert any(line.strip().startswith("data drift:") for line in lines)
    assert any(line.strip().startswith("concept drift:") for line in lines)
    assert any("Compressor C1 uses " in line for line in lines)
    assert any("performance: DEGRADED" in line for line in lines)


def test_errors_exit_1_with_the_message(
    session_factory: SessionFactory,
    clock: FrozenClock,
    settings: Settings,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import_machine(session_factory, clock, index=COMPRESSOR)
    monkeypatch.setenv("ENMS_DATA_DIR", str(settings.data_dir))
    base = ["--database-url", settings.database_url, "drift", "check", "baseline"]
    cases = [
        (["--machine", "Nope"], "Nope"),
        (["--machine", "Compressor C1"], "no baseline champion yet: train one"),
    ]
    for extra, message in cases:
        with pytest.raises(SystemExit) as exit_:
            main([*base, *extra])
        assert exit_.value.code == 1
        out = capsys.readouterr()
        assert out.out == ""
        assert "error: " in out.err  # after the progress line, on stderr
        assert message in out.err.split("error: ", 1)[1]
