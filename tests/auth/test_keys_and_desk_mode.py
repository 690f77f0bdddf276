"""API keys and users from the CLI, desk mode and its end, and the refusal to serve an open
enms beyond loopback — on the real CLI, application and database."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from datetime import timedelta

import pytest
from click.testing import CliRunner, Result
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from enms.api.app import create_app
from enms.auth import service
from enms.auth.models import ApiKey, User
from enms.auth.roles import Role
from enms.cli import cli, main
from enms.core.clock import FrozenClock
from enms.core.config import Settings
from enms.core.db import session_scope

Invoke = Callable[..., Result]
Fail = Callable[..., str]


@pytest.fixture
def fail(settings: Settings, capsys: pytest.CaptureFixture[str]) -> Fail:
    """Run ``enms …`` as a user would (through ``main``); it must fail: its stderr."""

    def invoke(*args: str) -> str:
        with pytest.raises(SystemExit) as exit_:
            main(["--database-url", settings.database_url, *args])
        assert exit_.value.code not in (0, None), args
        err = capsys.readouterr().err
        assert "Traceback" not in err
        return err

    return invoke


@pytest.fixture
def run(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Invoke:
    monkeypatch.setenv("ENMS_DATA_DIR", str(settings.data_dir))

    def invoke(*args: str, input: str | None = None, ok: bool = True) -> Result:
        result = CliRunner().invoke(
            cli, ["--database-url", settings.database_url, *args], input=input
        )
        if ok:
            assert result.exit_code == 0, result.output
        return result

    return invoke


def _app(
    settings: Settings, engine: Engine, clock: FrozenClock, host: str = "127.0.0.1"
) -> TestClient:
    return TestClient(create_app(settings, engine=engine, clock=clock, bind_host=host))


def test_desk_mode_is_open_until_the_first_key_then_the_key_is_needed(
    run: Invoke, settings: Settings, engine: Engine, clock: FrozenClock
) -> None:
    with _app(settings, engine, clock) as client:
        me = client.get("/api/v1/whoami").json()
        assert me["desk_mode"] is True
        assert me["role"] == "admin"
        assert client.post("/api/v1/machines", json={"name": "Press 1"}).status_code == 201

        created = run("keys", "create", "--name", "ci-bot", "--role", "operator", "--json")
        key = json.loads(created.output)["key"]
        assert key.startswith("enms_")

        # The running server notices without a restart.
        assert client.get("/api/v1/machines").status_code == 401
        headers = {"Authorization": f"Bearer {key}"}
        assert client.get("/api/v1/whoami", headers=headers).json() == {
            "name": "key:ci-bot",
            "kind": "key",
            "role": "operator",
            "desk_mode": False,
        }
        assert (
            client.post("/api/v1/machines", json={"name": "Press 2"}, headers=headers).status_code
            == 201
        )
        # operator may not promote, delete or manage keys
        assert client.delete("/api/v1/machines/1", headers=headers).status_code == 403


def test_a_key_is_shown_once_stored_hashed_and_revocation_takes_effect_at_once(
    run: Invoke, settings: Settings, engine: Engine, clock: FrozenClock, session_factory: object
) -> None:
    created = run("keys", "create", "--name", "scada", "--role", "viewer")
    key = created.output.splitlines()[0]
    listed = run("keys", "list")
    assert "scada" in listed.output
    assert key not in listed.output
    listed_json = json.loads(run("keys", "list", "--json").output)
    assert "key" not in listed_json[0]
    assert "key_hash" not in listed_json[0]
    with session_scope(create_app(settings, engine=engine).state.session_factory) as session:
        row = session.scalars(select(ApiKey)).one()
        assert key not in row.key_hash
        assert row.key_hash.startswith("scrypt$")

    with _app(settings, engine, clock) as client:
        headers = {"Authorization": f"Bearer {key}"}
        assert client.get("/api/v1/machines", headers=headers).status_code == 200
        run("keys", "revoke", "scada")
        refused = client.get("/api/v1/machines", headers=headers)
        assert refused.status_code == 401
        assert "revoked" in refused.json()["error"]["message"]


def test_an_expired_key_is_refused_naming_the_expiry(
    fail: Fail, settings: Settings, engine: Engine, clock: FrozenClock
) -> None:
    past = fail("keys", "create", "--name", "old", "--role", "viewer", "--expires", "2020-01-01")
    assert "not in the future" in past
    with _app(settings, engine, clock) as client:
        with session_scope(client.app.state.session_factory, write=True) as session:  # type: ignore[attr-defined]
            _, token = service.create_key(
                session,
                name="temp",
                role=Role.viewer,
                created_by="test",
                now=clock.now(),
                expires_at=clock.now() + timedelta(hours=1),
            )
        headers = {"Authorization": f"Bearer {token}"}
        assert client.get("/api/v1/machines", headers=headers).status_code == 200
        clock.advance(timedelta(hours=2))
        refused = client.get("/api/v1/machines", headers=headers)
        assert refused.status_code == 401
        assert "expired" in refused.json()["error"]["message"]


def test_bad_cli_input_is_one_clear_error(
    run: Invoke, fail: Fail, monkeypatch: pytest.MonkeyPatch
) -> None:
    bad_role = fail("keys", "create", "--name", "x", "--role", "root")
    assert "root" in bad_role
    run("keys", "create", "--name", "dup", "--role", "viewer")
    dup = fail("keys", "create", "--name", "dup", "--role", "viewer")
    assert "exists already" in dup
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    short = fail("users", "add", "anna", "--role", "admin", "--password-stdin")
    assert "at least 10 characters" in short
    missing = fail("keys", "revoke", "nosuch")
    assert "no API key named 'nosuch'" in missing


def test_users_add_list_disable(run: Invoke, settings: Settings, engine: Engine) -> None:
    run(
        "users",
        "add",
        "anna",
        "--role",
        "operator",
        "--password-stdin",
        input="correct horse battery\n",
    )
    users = json.loads(run("users", "list", "--json").output)
    assert [(u["username"], u["role"], u["disabled_at"]) for u in users] == [
        ("anna", "operator", None)
    ]
    assert "password" not in json.dumps(users)
    with session_scope(create_app(settings, engine=engine).state.session_factory) as session:
        stored = session.scalars(select(User)).one().password_hash
        assert "correct horse" not in stored
        assert stored.startswith("scrypt$")
    run("users", "disable", "anna")
    assert "disabled" in run("users", "list").output


@pytest.mark.parametrize("host", ["0.0.0.0", "10.0.0.5"])
def test_serving_beyond_loopback_without_credentials_is_refused(fail: Fail, host: str) -> None:
    refused = fail("serve", "--host", host)
    assert "enms users add" in refused
    assert "enms keys create" in refused
    demo = fail("demo", "--host", host)
    assert "enms users add" in demo


def test_beyond_loopback_authentication_is_enforced_even_before_any_key(
    settings: Settings, engine: Engine, clock: FrozenClock
) -> None:
    with _app(settings, engine, clock, host="0.0.0.0") as client:
        assert client.get("/api/v1/machines").status_code == 401
        assert client.get("/health/live").status_code == 200
