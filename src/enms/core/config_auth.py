"""Settings groups of access control: authentication (``ENMS_AUTH__*``) and rate limits
(``ENMS_RATE_LIMITS__*``).

Part of the one settings tree of :mod:`enms.core.config`; kept apart so that module stays a
screenful of groups.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class AuthSettings(BaseModel):
    """Users, API keys and dashboard sessions (``ENMS_AUTH__*``)."""

    session_hours: float = Field(
        12, gt=0, description="A dashboard login lasts this long (then log in again)."
    )
    secure_cookies: Literal["auto", "always", "never"] = Field(
        "auto",
        description="Mark the session cookie Secure: auto = when the request came over HTTPS "
        "(directly or as X-Forwarded-Proto from the proxy in front).",
    )
    key_touch_seconds: float = Field(
        300,
        ge=0,
        description="An API key's last-use time is written at most this often (each use "
        "would otherwise be a database write).",
    )


class RateLimitSettings(BaseModel):
    """Requests allowed per minute, per API key (or per client address without one), as a
    token bucket that also allows a burst of that size (``ENMS_RATE_LIMITS__*``). 0 turns a
    limit off."""

    requests_per_minute: int = Field(600, ge=0, description="Any API request (reads included).")
    training_per_minute: int = Field(
        10, ge=0, description="Training triggers, evaluations and drift checks (model work)."
    )
    imports_per_minute: int = Field(20, ge=0, description="Readings imports.")
    logins_per_minute: int = Field(
        10, ge=0, description="Dashboard login attempts per client address."
    )
