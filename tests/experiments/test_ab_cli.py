"""``enms abtest start|list|results|stop`` on the real CLI and database: the same documents
as the API with ``--json``, readable text otherwise, one ``error:`` line and exit 1 for a
refused request (a second running test, an unknown version)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from enms.cli import cli, main
from enms.core.clock import FrozenClock
from enms.core.config import Settings
from enms.core.db import SessionFactory
from tests.experiments.ab_setup import make_pair


def test_start_list_results_stop(
    settings: Settings,
    session_factory: SessionFactory,
    clock: FrozenClock,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("ENMS_DATA_DIR", str(settings.data_dir))
    make_pair(session_factory, clock, name="Air Compressor")
    base = ["--database-url", settings.database_url, "abtest"]

    def invoke(*args: str) -> str:
        result = CliRunner().invoke(cli, [*base, *args])
        assert result.exit_code == 0, result.output
        return result.stdout

    started = json.loads(
        invoke(
            "start",
            "baseline",
            "--machine",
            "Air Compressor",
            "--split",
            "0.3",
            "--days",
            "5",
            "--fixed",
            "--json",
        )
    )
    assert (started["model_a_version"], started["model_b_version"]) == (1, 2)
    assert (started["traffic_split"], started["sequential"]) == (0.3, False)
    test_id = started["id"]
    table = invoke("list", "--status", "running").splitlines()
    assert table[0].split()[:2] == ["ID", "STATUS"]
    assert table[1].split()[:4] == [str(test_id), "running", "Air", "Compressor"]
    assert started["machine_name"] == "Air Compressor"
    report = invoke("results", str(test_id))
    assert report.startswith(f"A/B test {test_id} (Air Compressor baseline v1 vs v2): running")
    results = json.loads(invoke("results", str(test_id), "--json"))
    assert [a["n"] for a in results["arms"]] == [0, 0]
    assert results["verdict"] == "running"

    for args, message in (
        (["start", "baseline", "--machine", "Air Compressor"], "already has a running A/B test"),
        (["start", "baseline", "--machine", "Air Compressor", "--b", "9"], "no baseline version 9"),
    ):
        with pytest.raises(SystemExit) as exit_info:
            main([*base, *args])
        assert exit_info.value.code == 1
        assert message in capsys.readouterr().err
    stopped = json.loads(invoke("stop", str(test_id), "--reason", "demo", "--json"))
    assert (stopped["status"], stopped["stop_reason"]) == ("stopped", "demo")
    assert invoke("list", "--status", "running").strip() == "no A/B tests"
