"""``enms keys …``, ``enms users …`` and ``enms audit``: access control from the shell.

The CLI works on the database directly (whoever can run it on the server's machine with its
settings is its operator), so it is how the first admin key or user is made; creations are
credited to ``cli:<login name>``. A key is printed once, on stdout, and never again.
"""

from __future__ import annotations

import getpass
import sys
from datetime import datetime

import click

from enms.auth import service
from enms.auth.roles import Role
from enms.auth.schemas import AuditRead, KeyCreated, KeyRead, UserRead
from enms.core import audit as audit_log
from enms.core.cli_context import AppContext, emit, json_option, pass_app
from enms.core.db import session_scope
from enms.core.timewindow import Window, parse_instant

ROLE = click.Choice([r.value for r in Role])


def _cli_actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def _when(at: datetime | None) -> str:
    return at.strftime("%Y-%m-%d %H:%M") if at is not None else "—"


@click.group("keys")
def keys_group() -> None:
    """API keys for scripts, workers and other services (Authorization: Bearer <key>)."""


@keys_group.command("create")
@click.option("--name", required=True, help="Unique name, e.g. ci-bot.")
@click.option("--role", required=True, type=ROLE, help="viewer, operator or admin.")
@click.option("--expires", default=None, help="Optional expiry (ISO 8601, e.g. 2027-06-30).")
@json_option
@pass_app
def create_key(app: AppContext, name: str, role: str, expires: str | None, as_json: bool) -> None:
    """Create a key and print it once (store it now: only its hash is kept)."""
    expires_at = parse_instant(expires, field="--expires") if expires else None
    with session_scope(app.session_factory, write=True) as session:
        key, token = service.create_key(
            session,
            name=name,
            role=Role(role),
            created_by=_cli_actor(),
            now=app.clock.now(),
            expires_at=expires_at,
        )
        created = KeyCreated.model_validate(
            {**KeyRead.model_validate(key).model_dump(), "key": token}
        )
    emit(
        created,
        as_json,
        lambda c: (
            f"{c.key}\n"
            + click.style(
                f"API key {c.name!r} ({c.role.value}) created; it is shown only this once.",
                fg="yellow",
            )
        ),
    )


@keys_group.command("list")
@json_option
@pass_app
def list_keys(app: AppContext, as_json: bool) -> None:
    """Every key with its role, creator and last use (never the keys themselves)."""
    with session_scope(app.session_factory) as session:
        keys = [KeyRead.model_validate(k) for k in service.list_keys(session)]
    emit(keys, as_json, _keys_table)


def _keys_table(keys: list[KeyRead]) -> str:
    if not keys:
        return "no API keys (create one: enms keys create --name NAME --role ROLE)"
    lines = [f"{'name':<24} {'role':<9} {'created':<17} {'by':<20} {'last used':<17} state"]
    for k in keys:
        state = (
            "revoked"
            if k.revoked_at
            else (f"expires {_when(k.expires_at)}" if k.expires_at else "active")
        )
        lines.append(
            f"{k.name:<24} {k.role.value:<9} {_when(k.created_at):<17} {k.created_by:<20} "
            f"{_when(k.last_used_at):<17} {state}"
        )
    return "\n".join(lines)


@keys_group.command("revoke")
@click.argument("name")
@json_option
@pass_app
def revoke_key(app: AppContext, name: str, as_json: bool) -> None:
    """Revoke the key NAME now (requests with it get 401 from then on)."""
    with session_scope(app.session_factory, write=True) as session:
        key = KeyRead.model_validate(service.revoke_key(session, name=name, now=app.clock.now()))
    emit(key, as_json, lambda k: f"API key {k.name!r} revoked at {_when(k.revoked_at)}")


@click.group("users")
def users_group() -> None:
    """Dashboard users (username and password)."""


@users_group.command("add")
@click.argument("username")
@click.option("--role", required=True, type=ROLE, help="viewer, operator or admin.")
@click.option("--password-stdin", is_flag=True, help="Read the password from stdin (for scripts).")
@json_option
@pass_app
def add_user(
    app: AppContext, username: str, role: str, password_stdin: bool, as_json: bool
) -> None:
    """Add a user; the password is asked for (twice) unless given on stdin."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt(
            f"password for {username}", hide_input=True, confirmation_prompt=True, err=True
        )
    with session_scope(app.session_factory, write=True) as session:
        user = service.add_user(
            session,
            username=username,
            password=password,
            role=Role(role),
            created_by=_cli_actor(),
            now=app.clock.now(),
        )
        read = UserRead.model_validate(user)
    emit(read, as_json, lambda u: f"user {u.username!r} ({u.role.value}) added")


@users_group.command("list")
@json_option
@pass_app
def list_users(app: AppContext, as_json: bool) -> None:
    """Every user with role, creator and last login."""
    with session_scope(app.session_factory) as session:
        users = [UserRead.model_validate(u) for u in service.list_users(session)]
    emit(users, as_json, _users_table)


def _users_table(users: list[UserRead]) -> str:
    if not users:
        return "no users (add one: enms users add NAME --role admin)"
    lines = [f"{'username':<24} {'role':<9} {'created':<17} {'last login':<17} state"]
    for u in users:
        state = "disabled" if u.disabled_at else "active"
        lines.append(
            f"{u.username:<24} {u.role.value:<9} {_when(u.created_at):<17} "
            f"{_when(u.last_login_at):<17} {state}"
        )
    return "\n".join(lines)


@users_group.command("disable")
@click.argument("username")
@json_option
@pass_app
def disable_user(app: AppContext, username: str, as_json: bool) -> None:
    """Disable USERNAME now: no more logins; open dashboard sessions end."""
    with session_scope(app.session_factory, write=True) as session:
        user = UserRead.model_validate(
            service.disable_user(session, username=username, now=app.clock.now())
        )
    emit(user, as_json, lambda u: f"user {u.username!r} disabled at {_when(u.disabled_at)}")


@click.command("audit")
@click.option("--actor", default=None, help="Exact actor, e.g. key:ci-bot or user:anna.")
@click.option("--action", default=None, help="Part of the action, e.g. promote.")
@click.option("--from", "start", default=None, help="ISO 8601, inclusive.")
@click.option("--to", "end", default=None, help="ISO 8601, exclusive.")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, audit_log.MAX_LIMIT))
@json_option
@pass_app
def audit(
    app: AppContext,
    actor: str | None,
    action: str | None,
    start: str | None,
    end: str | None,
    limit: int,
    as_json: bool,
) -> None:
    """The audit trail, newest first: requests and the domain's own records."""
    window = Window.parse(start, end)
    with session_scope(app.session_factory) as session:
        rows = [
            AuditRead.model_validate(r)
            for r in audit_log.list_audit(
                session, actor=actor, action=action, start=window.start, end=window.end, limit=limit
            )
        ]
    emit(rows, as_json, _audit_table)


def _audit_table(rows: list[AuditRead]) -> str:
    if not rows:
        return "no audit rows match"
    lines = []
    for r in rows:
        outcome = r.details.get("outcome") or ""
        status = r.details.get("status")
        tail = f"{status} {outcome}".strip() if status is not None else (r.reason or "")
        target = r.entity_id or ""
        at = r.at.strftime("%Y-%m-%d %H:%M:%S")
        lines.append(f"{at}  {r.actor:<22} {r.action:<48} {target:<24} {tail}")
    return "\n".join(lines)
