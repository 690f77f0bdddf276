"""Users, API keys and dashboard sessions: create, list, disable or revoke, authenticate.

Functions take the caller's session (flush, never commit) and a ``now``; nothing here knows
about HTTP. A key or password is only ever held in memory long enough to hash or check it.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from enms.auth.hashing import fingerprint, hash_secret, new_token, verify_secret
from enms.auth.models import ApiKey, User, WebSession
from enms.auth.roles import Role
from enms.core.errors import AlreadyExists, InvalidInput, NotFound

KEY_PREFIX = "enms"
#: token_urlsafe(9): 12 characters.
_LOOKUP_LENGTH = 12
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,99}")
MIN_PASSWORD_LENGTH = 10


def has_credentials(session: Session) -> bool:
    """Whether any user or key was ever created (then authentication is enforced)."""
    return bool(session.scalar(select(exists().where(User.id.is_not(None))))) or bool(
        session.scalar(select(exists().where(ApiKey.id.is_not(None))))
    )


def _check_name(kind: str, name: str) -> None:
    if not _NAME.fullmatch(name):
        raise InvalidInput(
            f"{kind} {name!r} is not a valid name: 1–100 letters, digits and . _ @ -, "
            "starting with a letter or digit"
        )


# --- API keys --------------------------------------------------------------------------


def create_key(
    session: Session,
    *,
    name: str,
    role: Role,
    created_by: str,
    now: datetime,
    expires_at: datetime | None = None,
) -> tuple[ApiKey, str]:
    """A new key: its row and the key itself (shown once; only its hash is stored)."""
    _check_name("key name", name)
    if session.scalar(select(ApiKey.id).where(ApiKey.name == name)) is not None:
        raise AlreadyExists(f"an API key named {name!r} exists already (revoke it or pick another)")
    if expires_at is not None and expires_at <= now:
        raise InvalidInput(f"expiry {expires_at.isoformat()} is not in the future")
    lookup_id = new_token(9)
    secret = new_token(32)
    token = f"{KEY_PREFIX}_{lookup_id}_{secret}"
    key = ApiKey(
        name=name,
        lookup_id=lookup_id,
        key_hash=hash_secret(token),
        role=role.value,
        created_at=now,
        created_by=created_by,
        expires_at=expires_at,
    )
    session.add(key)
    session.flush()
    return key, token


def list_keys(session: Session) -> list[ApiKey]:
    """Every key, oldest first (revoked ones included)."""
    return list(session.scalars(select(ApiKey).order_by(ApiKey.id)))


def revoke_key(session: Session, *, name: str, now: datetime) -> ApiKey:
    """Revoke the key named ``name`` (idempotent: a revoked key stays revoked at its time)."""
    key = session.scalar(select(ApiKey).where(ApiKey.name == name))
    if key is None:
        raise NotFound(f"no API key named {name!r} (see `enms keys list`)")
    if key.revoked_at is None:
        key.revoked_at = now
    return key


def split_key(token: str) -> str | None:
    """The lookup id of a key-shaped ``token``, else None.

    >>> split_key("enms_abcDEF123456_" + "x" * 43)
    'abcDEF123456'
    >>> split_key("Basic abc") is None
    True
    """
    head = KEY_PREFIX + "_"
    if not token.startswith(head) or len(token) < len(head) + _LOOKUP_LENGTH + 2:
        return None
    # The lookup id may itself contain "_" (URL-safe base64): it is a fixed 12 characters.
    lookup_id = token[len(head) : len(head) + _LOOKUP_LENGTH]
    return lookup_id if token[len(head) + _LOOKUP_LENGTH] == "_" else None


def find_key(session: Session, token: str) -> ApiKey | None:
    """The row a presented key claims to be (not yet checked), if its lookup id exists."""
    lookup_id = split_key(token)
    if lookup_id is None:
        return None
    return session.scalar(select(ApiKey).where(ApiKey.lookup_id == lookup_id))


def key_refusal(key: ApiKey, now: datetime) -> str | None:
    """Why ``key`` may not be used now (revoked, expired), or None."""
    if key.revoked_at is not None:
        return f"API key {key.name!r} was revoked at {key.revoked_at.isoformat()}"
    if key.expires_at is not None and key.expires_at <= now:
        return f"API key {key.name!r} expired at {key.expires_at.isoformat()}"
    return None


# --- users -----------------------------------------------------------------------------


def add_user(
    session: Session, *, username: str, password: str, role: Role, created_by: str, now: datetime
) -> User:
    """A new dashboard user with ``password`` (stored hashed)."""
    _check_name("username", username)
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise AlreadyExists(f"a user named {username!r} exists already")
    user = User(
        username=username,
        password_hash=hash_secret(password),
        role=role.value,
        created_at=now,
        created_by=created_by,
    )
    session.add(user)
    session.flush()
    return user


def list_users(session: Session) -> list[User]:
    """Every user, oldest first (disabled ones included)."""
    return list(session.scalars(select(User).order_by(User.id)))


def disable_user(session: Session, *, username: str, now: datetime) -> User:
    """Disable ``username``: no more logins, and the user's open sessions end now."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"no user named {username!r} (see `enms users list`)")
    if user.disabled_at is None:
        user.disabled_at = now
    for web_session in session.scalars(
        select(WebSession).where(WebSession.user_id == user.id, WebSession.ended_at.is_(None))
    ):
        web_session.ended_at = now
    return user


def check_password(session: Session, *, username: str, password: str) -> User | None:
    """The enabled user ``username`` if ``password`` is theirs, else None (one answer for
    "no such user" and "wrong password", and the same work for both)."""
    user = session.scalar(select(User).where(User.username == username))
    stored = user.password_hash if user is not None else _DUMMY_HASH
    matches = verify_secret(password, stored)
    if user is None or not matches or user.disabled_at is not None:
        return None
    return user


_DUMMY_HASH = hash_secret(new_token(16))


# --- dashboard sessions ----------------------------------------------------------------


def open_session(
    session: Session, *, user: User, now: datetime, lifetime: timedelta
) -> tuple[WebSession, str]:
    """A new dashboard session for ``user``: its row and the cookie value (shown once)."""
    token = new_token(32)
    web_session = WebSession(
        token_hash=fingerprint(token),
        user_id=user.id,
        csrf_token=new_token(24),
        created_at=now,
        expires_at=now + lifetime,
    )
    user.last_login_at = now
    session.add(web_session)
    session.flush()
    return web_session, token


def find_session(session: Session, token: str, now: datetime) -> tuple[WebSession, User] | None:
    """The live session a cookie value belongs to, with its (enabled) user, else None."""
    row = session.execute(
        select(WebSession, User)
        .join(User, User.id == WebSession.user_id)
        .where(WebSession.token_hash == fingerprint(token))
    ).first()
    if row is None:
        return None
    web_session, user = row
    if web_session.ended_at is not None or web_session.expires_at <= now:
        return None
    if user.disabled_at is not None:
        return None
    return web_session, user


def end_session(session: Session, *, session_id: int, now: datetime) -> None:
    """Log out: the session ends now (its cookie no longer works)."""
    web_session = session.get(WebSession, session_id)
    if web_session is not None and web_session.ended_at is None:
        web_session.ended_at = now
