"""Who is calling: desk mode, a bearer key, or a dashboard session cookie.

One :class:`AuthGate` per application decides, per request:

- ``Authorization: Bearer <key>`` → that key (401 if unknown, wrong, revoked or expired) —
  also in desk mode, so a script's key is checked wherever it runs;
- else the ``enms_session`` cookie of a live dashboard login → that user;
- else, in **desk mode** (bound to loopback, and no user or key was ever created) → the
  desk (admin); otherwise nobody (the route answers 401, a page redirects to the login).

Desk mode ends for good, without a restart, as soon as a user or key exists. A key's scrypt
check runs once per process; later uses compare a SHA-256 of the presented key with the one
that passed (the row is still read every time, so a revocation takes effect at once).
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import threading
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.exc import SQLAlchemyError

from enms.auth import service
from enms.auth.hashing import fingerprint, verify_secret
from enms.auth.models import ApiKey
from enms.auth.principal import DESK, Principal
from enms.auth.roles import Role
from enms.core.clock import Clock
from enms.core.config import Settings
from enms.core.db import SessionFactory, session_scope

SESSION_COOKIE = "enms_session"
log = logging.getLogger("enms.auth")


class Unauthenticated(Exception):
    """Credentials were presented and are not valid (the message says why)."""


def is_loopback(host: str) -> bool:
    """Whether binding ``host`` only accepts connections from this machine.

    >>> is_loopback("127.0.0.1"), is_loopback("localhost"), is_loopback("::1")
    (True, True, True)
    >>> is_loopback("0.0.0.0"), is_loopback("10.1.2.3"), is_loopback("plant-server")
    (False, False, False)
    """
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class AuthGate:
    """Authenticates requests of one application (see the module docstring)."""

    def __init__(
        self, factory: SessionFactory, settings: Settings, *, bind_host: str, clock: Clock
    ) -> None:
        self.factory = factory
        self.settings = settings
        self.clock = clock
        self.loopback = is_loopback(bind_host)
        self._enforced = not self.loopback
        self._verified: dict[int, str] = {}
        self._lock = threading.Lock()

    def enforced(self) -> bool:
        """Whether requests must authenticate (sticky: once true, true until restart and
        after it, since users and keys are never deleted, only disabled or revoked)."""
        if not self._enforced:
            try:
                with session_scope(self.factory) as session:
                    if service.has_credentials(session):
                        self._enforced = True
            except SQLAlchemyError:
                # No readable users table (an unmigrated or unreachable database) on loopback:
                # nobody could be authenticated anyway, and `enms serve` checked at start
                # (a server that saw a user or key once stays enforced). /health says why.
                log.warning("cannot read users and keys; staying in desk mode", exc_info=True)
        return self._enforced

    def identify(self, authorization: str | None, cookie: str | None) -> Principal | None:
        """The caller for these credentials, the desk in desk mode, or None (anonymous).

        Raises :class:`Unauthenticated` for an Authorization header that does not hold a
        valid key (a bad session cookie is just no login: it may be stale).
        """
        if authorization is not None:
            return self._key_principal(authorization)
        if cookie:
            found = self._session_principal(cookie)
            if found is not None:
                return found
        return None if self.enforced() else DESK

    def _key_principal(self, authorization: str) -> Principal:
        scheme, _, token = authorization.strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise Unauthenticated("the Authorization header must read 'Bearer <API key>'")
        now = self.clock.now()
        with session_scope(self.factory) as session:
            key = service.find_key(session, token)
            if key is None or not self._matches(key, token):
                raise Unauthenticated("the API key is not valid (see `enms keys list`)")
            refusal = service.key_refusal(key, now)
            if refusal is not None:
                raise Unauthenticated(refusal)
            key_id, name, role, last_used = key.id, key.name, key.role, key.last_used_at
        self._touch(key_id, last_used, now)
        return Principal(kind="key", role=Role(role), label=name)

    def _matches(self, key: ApiKey, token: str) -> bool:
        presented = fingerprint(token)
        with self._lock:
            known = self._verified.get(key.id)
        if known is not None:
            return hmac.compare_digest(known, presented)
        if not verify_secret(token, key.key_hash):
            return False
        with self._lock:
            self._verified[key.id] = presented
        return True

    def _touch(self, key_id: int, last_used: datetime | None, now: datetime) -> None:
        every = timedelta(seconds=self.settings.auth.key_touch_seconds)
        if last_used is not None and now - last_used < every:
            return
        with session_scope(self.factory, write=True, gate_now=True) as session:
            session.execute(update(ApiKey).where(ApiKey.id == key_id).values(last_used_at=now))

    def _session_principal(self, cookie: str) -> Principal | None:
        with session_scope(self.factory) as session:
            found = service.find_session(session, cookie, self.clock.now())
            if found is None:
                return None
            web_session, user = found
            return Principal(
                kind="user",
                role=Role(user.role),
                label=user.username,
                session_id=web_session.id,
                csrf_token=web_session.csrf_token,
            )
