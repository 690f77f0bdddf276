"""HTTP front door of access control: ``/whoami`` (any caller), and for admins ``/audit``,
``/keys`` and ``/users`` (create, list, revoke or disable — the API twin of ``enms keys``
and ``enms users``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from enms.api.deps import ClockDep, SessionDep
from enms.auth import service
from enms.auth.deps import PrincipalDep, requires
from enms.auth.roles import Role
from enms.auth.schemas import (
    AuditRead,
    KeyCreate,
    KeyCreated,
    KeyRead,
    UserCreate,
    UserRead,
    WhoAmI,
)
from enms.core import audit
from enms.core.timewindow import Window

router = APIRouter(tags=["access"])
ADMIN = [requires(Role.admin)]


@router.get("/whoami")
def whoami(principal: PrincipalDep) -> WhoAmI:
    """The caller as the server sees it (``desk_mode``: no authentication yet)."""
    return WhoAmI(
        name=principal.name,
        kind=principal.kind,
        role=principal.role,
        desk_mode=principal.kind == "desk",
    )


@router.get("/audit", dependencies=ADMIN)
def list_audit(
    session: SessionDep,
    actor: Annotated[str | None, Query(description="Exact actor, e.g. key:ci-bot")] = None,
    action: Annotated[str | None, Query(description="Part of the action, e.g. promote")] = None,
    start: Annotated[str | None, Query(alias="from", description="ISO 8601, inclusive")] = None,
    end: Annotated[str | None, Query(alias="to", description="ISO 8601, exclusive")] = None,
    limit: Annotated[int, Query(ge=1, le=audit.MAX_LIMIT)] = 100,
) -> list[AuditRead]:
    """The audit trail, newest first: requests (who, role, key, address, route, outcome)
    and the domain's own records (alias moves, imports, alert actions)."""
    window = Window.parse(start, end)
    rows = audit.list_audit(
        session, actor=actor, action=action, start=window.start, end=window.end, limit=limit
    )
    return [AuditRead.model_validate(row) for row in rows]


@router.get("/keys", dependencies=ADMIN)
def list_keys(session: SessionDep) -> list[KeyRead]:
    """Every API key (revoked ones too), never the keys themselves."""
    return [KeyRead.model_validate(key) for key in service.list_keys(session)]


@router.post("/keys", status_code=201, dependencies=ADMIN)
def create_key(
    body: KeyCreate, session: SessionDep, clock: ClockDep, principal: PrincipalDep
) -> KeyCreated:
    """A new key; the reply is the only time it is shown."""
    key, token = service.create_key(
        session,
        name=body.name,
        role=body.role,
        created_by=principal.name,
        now=clock.now(),
        expires_at=body.expires_at,
    )
    return KeyCreated.model_validate({**KeyRead.model_validate(key).model_dump(), "key": token})


@router.post("/keys/{name}/revoke", dependencies=ADMIN)
def revoke_key(name: str, session: SessionDep, clock: ClockDep) -> KeyRead:
    """Revoke a key now (idempotent)."""
    return KeyRead.model_validate(service.revoke_key(session, name=name, now=clock.now()))


@router.get("/users", dependencies=ADMIN)
def list_users(session: SessionDep) -> list[UserRead]:
    """Every dashboard user (disabled ones too)."""
    return [UserRead.model_validate(user) for user in service.list_users(session)]


@router.post("/users", status_code=201, dependencies=ADMIN)
def add_user(
    body: UserCreate, session: SessionDep, clock: ClockDep, principal: PrincipalDep
) -> UserRead:
    """A new dashboard user (the password is stored hashed)."""
    user = service.add_user(
        session,
        username=body.username,
        password=body.password,
        role=body.role,
        created_by=principal.name,
        now=clock.now(),
    )
    return UserRead.model_validate(user)


@router.post("/users/{username}/disable", dependencies=ADMIN)
def disable_user(username: str, session: SessionDep, clock: ClockDep) -> UserRead:
    """Disable a user now: no more logins, open sessions end."""
    return UserRead.model_validate(
        service.disable_user(session, username=username, now=clock.now())
    )
