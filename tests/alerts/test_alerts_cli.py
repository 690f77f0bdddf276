"""``enms alerts list|show|ack|resolve|silence|silences|unsilence`` on the real CLI and
database: a readable table, one JSON document with ``--json``, one error line on failure."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from click.testing import CliRunner, Result

from enms.alerts.conditions import raise_condition
from enms.cli import cli, main
from enms.core.clock import FrozenClock
from enms.core.config import Settings
from enms.core.db import SessionFactory, session_scope
from tests.factories import make_machine

Invoke = Callable[..., Result]


@pytest.fixture
def run(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Invoke:
    monkeypatch.setenv("ENMS_DATA_DIR", str(settings.data_dir))

    def invoke(*args: str) -> Result:
        result = CliRunner().invoke(cli, ["--database-url", settings.database_url, "alerts", *args])
        assert result.exit_code == 0, result.output
        return result

    return invoke


def _seed(factory: SessionFactory, clock: FrozenClock) -> tuple[int, int]:
    with session_scope(factory, write=True) as session:
        machine_id = make_machine(session, clock).id
        make_machine(session, clock, name="Chiller 2")
        common = {"machine_id": machine_id, "details": {}, "now": clock.now()}
        warning = raise_condition(
            session,
            model_type="baseline",
            alert_type="drift",
            severity="warning",
            message="residuals drifted: mean shift of 9 % since 2026-01-10 " + "x" * 80,
            **common,  # type: ignore[arg-type]
        ).alert_id
        critical = raise_condition(
            session,
            model_type=None,
            alert_type="data_quality",
            severity="critical",
            message="the meter stopped sending 6 h ago",
            **common,  # type: ignore[arg-type]
        ).alert_id
    return warning, critical


def test_list_show_ack_resolve(
    run: Invoke, session_factory: SessionFactory, clock: FrozenClock
) -> None:
    invoke = run
    warning, critical = _seed(session_factory, clock)
    lines = invoke("list").stdout.splitlines()
    assert lines[0].split() == [
        "ID", "STATE", "SEVERITY", "MACHINE", "MODEL", "TYPE", "TYPE", "AGE", "OCC", "MESSAGE",
    ]  # fmt: skip
    assert lines[1].split()[:7] == [
        str(critical),
        "open",
        "critical",
        "Compressor",
        "1",
        "-",
        "data_quality",
    ]
    assert lines[2].split()[:7] == [
        str(warning),
        "open",
        "warning",
        "Compressor",
        "1",
        "baseline",
        "drift",
    ]
    assert lines[2].endswith("…")  # the long message is cut to the column
    assert len(lines) == 3
    assert invoke("list", "--machine", "Chiller 2").stdout.strip() == "no alerts"

    acked = invoke("ack", str(warning), "--by", "ana", "--note", "checking the valve")
    assert acked.stdout.strip() == f"alert {warning} acknowledged by ana"
    resolved = invoke("resolve", str(critical), "--by", "ben", "--note", "meter back", "--json")
    assert json.loads(resolved.stdout)["state"] == "resolved"
    assert [line.split()[0] for line in invoke("list").stdout.splitlines()[1:]] == [str(warning)]
    listed = json.loads(invoke("list", "--state", "resolved", "--json").stdout)
    assert [a["id"] for a in listed] == [critical]

    shown = invoke("show", str(warning)).stdout
    assert shown.splitlines()[0] == (
        f"alert {warning}: warning drift on Compressor 1, baseline — acknowledged"
    )
    assert "by ana: checking the valve" in shown
    history = shown.split("history:\n", 1)[1].splitlines()
    assert [line.split()[3] for line in history] == ["alert_opened", "acknowledged"]
    document = json.loads(invoke("show", str(critical), "--json").stdout)
    assert [e["rule"] for e in document["history"]] == ["alert_opened", "resolved_by_user"]


def test_silence_silences_unsilence(
    run: Invoke, session_factory: SessionFactory, clock: FrozenClock
) -> None:
    invoke = run
    warning, _ = _seed(session_factory, clock)
    made = invoke(
        "silence", "--machine", "Compressor 1", "--alert-type", "drift", "--hours", "2",
        "--reason", "valve work", "--by", "ana", "--json",
    )  # fmt: skip
    silence = json.loads(made.stdout)
    assert (silence["machine_name"], silence["alert_type"], silence["active"]) == (
        "Compressor 1",
        "drift",
        True,
    )
    table = invoke("silences").stdout.splitlines()
    assert table[0].split()[:4] == ["ID", "MACHINE", "MODEL", "TYPE"]
    assert table[1].split()[:4] == [str(silence["id"]), "Compressor", "1", "any"]
    assert "valve work" in table[1]
    assert f"{warning}" in invoke("list").stdout.split("(silenced)")[0].splitlines()[-1]
    assert invoke("unsilence", str(silence["id"]), "--by", "ben").stdout.strip() == (
        f"silence {silence['id']} ended"
    )
    assert invoke("silences").stdout.strip() == "no silences"
    assert "ended" in invoke("silences", "--all").stdout.splitlines()[1]


def test_errors_are_one_line_and_exit_1(
    settings: Settings,
    session_factory: SessionFactory,
    clock: FrozenClock,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ENMS_DATA_DIR", str(settings.data_dir))
    warning, _ = _seed(session_factory, clock)
    base = ["--database-url", settings.database_url, "alerts"]
    cases = [
        (["show", "999"], "error: no alert with id 999"),
        (["ack", "999", "--by", "ana"], "error: no alert with id 999"),
        (["list", "--machine", "Nope"], "error: no machine named 'Nope'"),
        (["silence", "--hours", "1", "--reason", "r", "--by", " "], "error: author: must not"),
        (["silence", "--until", "2020-01-01", "--reason", "r", "--by", "a"], "error: expires_at"),
        (["unsilence", "5"], "error: no alert silence with id 5"),
    ]
    for args, message in cases:
        with pytest.raises(SystemExit) as exit_:
            main([*base, *args])
        assert exit_.value.code == 1, args
        out = capsys.readouterr()
        assert out.out == ""
        assert out.err.startswith(message), (args, out.err)
        assert len(out.err.strip().splitlines()) == 1
        assert "Traceback" not in out.err
    with pytest.raises(SystemExit) as exit_:
        main([*base, "resolve", str(warning), "--by", "ana", "--note", "done"])
    assert exit_.value.code == 0
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_:
        main([*base, "resolve", str(warning), "--by", "ana", "--note", "done"])
    assert exit_.value.code == 1
    assert capsys.readouterr().err.startswith(f"error: alert {warning} is resolved")
