"""Request and response bodies of the access-control API (keys, users, audit, whoami)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from enms.auth.roles import Role


class KeyCreate(BaseModel):
    """A new API key."""

    name: str = Field(min_length=1, max_length=100, description="Unique name, e.g. ci-bot.")
    role: Role
    expires_at: datetime | None = Field(None, description="Optional expiry (ISO 8601).")


class KeyRead(BaseModel):
    """An API key as listed (never the key itself)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    role: Role
    created_at: datetime
    created_by: str
    last_used_at: datetime | None
    expires_at: datetime | None
    revoked_at: datetime | None


class KeyCreated(KeyRead):
    """A key just created: the only time ``key`` is shown."""

    key: str = Field(description="Send as 'Authorization: Bearer <key>'. Shown once.")


class UserCreate(BaseModel):
    """A new dashboard user."""

    username: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=1, max_length=1000)
    role: Role


class UserRead(BaseModel):
    """A user as listed (never the password or its hash)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    username: str
    role: Role
    created_at: datetime
    created_by: str
    last_login_at: datetime | None
    disabled_at: datetime | None


class AuditRead(BaseModel):
    """One audit row: a domain record (alias move, import, …) or a request."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    actor: str
    action: str
    entity_type: str
    entity_id: str | None
    machine_id: int | None
    reason: str | None
    details: dict[str, Any]


class WhoAmI(BaseModel):
    """Who the request acts as, and whether authentication is enforced."""

    name: str
    kind: str
    role: Role
    desk_mode: bool
