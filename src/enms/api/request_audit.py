"""The audit row of every state-changing request: who (actor, role, key or user, client
address), what (method and route template, the path's ids), and how it ended (status and
outcome: ``ok``, ``refused`` for 4xx, ``denied`` for 401/403, ``rate_limited``, ``failed``
for 5xx).

Written after the response, in a short unit of work of its own — so a refused or failed
request is recorded too, and the request's own transaction is never held open for it. Reads
are not audited (they change nothing); requests to no route (404 on an unknown path) are not
either. A failure to write the row is logged, never turned into a failed request.
"""

from __future__ import annotations

import logging
from typing import Any

import anyio
from starlette.types import ASGIApp, Receive, Scope, Send

from enms.api.metrics import StatusCapture, route_template
from enms.auth.principal import Principal
from enms.core.audit import REQUEST_ENTITY, AuditLog
from enms.core.clock import Clock
from enms.core.db import SessionFactory, session_scope

log = logging.getLogger("enms.audit")
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def outcome_of(status: int) -> str:
    """The outcome word for an HTTP status.

    >>> [outcome_of(s) for s in (201, 403, 422, 429, 500)]
    ['ok', 'denied', 'refused', 'rate_limited', 'failed']
    """
    if status < 400:
        return "ok"
    if status in (401, 403):
        return "denied"
    if status == 429:
        return "rate_limited"
    return "refused" if status < 500 else "failed"


class RequestAuditMiddleware:
    """Pure ASGI middleware recording state-changing requests in ``audit_log``."""

    def __init__(self, app: ASGIApp, factory: SessionFactory, clock: Clock) -> None:
        self.app = app
        self.factory = factory
        self.clock = clock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in SAFE_METHODS:
            await self.app(scope, receive, send)
            return
        noted = StatusCapture(send)
        try:
            await self.app(scope, receive, noted)
        finally:
            if scope.get("route") is not None:
                row = self._row(scope, noted.status)
                await anyio.to_thread.run_sync(self._write, row, limiter=anyio.CapacityLimiter(1))

    def _row(self, scope: Scope, status: int) -> AuditLog:
        state: dict[str, Any] = scope.get("state") or {}
        principal = state.get("principal")
        client = scope.get("client")
        params = {k: str(v) for k, v in (scope.get("path_params") or {}).items()}
        details: dict[str, Any] = {
            "status": status,
            "outcome": outcome_of(status),
            "address": client[0] if client else None,
            "path": scope.get("path"),
            "request_id": state.get("request_id"),
            "params": params,
        }
        if isinstance(principal, Principal):
            details |= {"role": principal.role.value, "via": principal.kind}
            if principal.kind == "key":
                details["key"] = principal.label
        action = f"{scope['method']} {route_template(scope)}"
        return AuditLog(
            at=self.clock.now(),
            actor=principal.name if isinstance(principal, Principal) else "anonymous",
            action=action[:64],
            entity_type=REQUEST_ENTITY,
            entity_id=(",".join(f"{k}={v}" for k, v in params.items()) or None),
            machine_id=None,
            reason=None,
            details=details,
        )

    def _write(self, row: AuditLog) -> None:
        # gate_now: queue for SQLite's write gate *before* taking a pooled connection, so a
        # burst of audit rows cannot hold every connection while a request holding the
        # gate waits for one.
        try:
            with session_scope(self.factory, write=True, gate_now=True) as session:
                session.add(row)
        except Exception:
            log.exception("could not write the audit row of %s", row.action)
