"""The request dependencies that enforce access: the role a route needs, CSRF and origin
checks on state-changing requests, and rate limits.

Every route under ``/api/v1`` gets :data:`API_ACCESS` where the routers are included (any
caller must at least be a viewer, within the general request limit); each state-changing
route also declares the role it needs with ``dependencies=[requires(Role.operator)]``
(``tests/api/test_access_table.py`` fails for a state-changing route that declares none).
"""

from __future__ import annotations

import hmac
from typing import Annotated, Any

import anyio
from fastapi import Depends, Request
from starlette.exceptions import HTTPException

from enms.auth.gate import SESSION_COOKIE, AuthGate, Unauthenticated
from enms.auth.principal import Principal
from enms.auth.ratelimit import Kind, RateLimiter, retry_after_header
from enms.auth.roles import Role

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_HEADER = "x-csrf-token"
_UNKNOWN = object()


class LoginRequired(Exception):
    """A dashboard page was asked for without a login (answered with a redirect to it)."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


async def current_principal(request: Request) -> Principal | None:
    """Who the request acts as (cached for the request); 401 for invalid credentials."""
    cached = getattr(request.state, "principal", _UNKNOWN)
    if cached is not _UNKNOWN:
        assert cached is None or isinstance(cached, Principal)
        return cached
    gate: AuthGate = request.app.state.auth_gate
    authorization = request.headers.get("authorization")
    cookie = request.cookies.get(SESSION_COOKIE)
    try:
        principal = await anyio.to_thread.run_sync(
            gate.identify, authorization, cookie, limiter=anyio.CapacityLimiter(1)
        )
    except Unauthenticated as exc:
        request.state.principal = None
        raise HTTPException(401, str(exc), headers={"WWW-Authenticate": "Bearer"}) from None
    request.state.principal = principal
    return principal


class RoleCheck:
    """Dependency: the caller must hold ``role``; state-changing requests from a browser
    (desk or session) must also come from this site and, with a session, carry its CSRF
    token. ``declared`` tells a route's own declaration from the blanket one."""

    def __init__(self, role: Role, *, declared: bool = True, page: bool = False) -> None:
        self.role = role
        self.declared = declared
        self.page = page

    def __repr__(self) -> str:
        return f"RoleCheck({self.role.value!r}, declared={self.declared})"

    async def __call__(self, request: Request) -> Principal:
        principal = await current_principal(request)
        if principal is None:
            if self.page and not request.url.path.startswith("/ui/api/"):
                raise LoginRequired(_next_path(request))
            raise HTTPException(
                401,
                "authentication required: send 'Authorization: Bearer <API key>' "
                "(`enms keys create`) or log in to the dashboard",
                headers={"WWW-Authenticate": "Bearer"},
            )
        if not principal.may(self.role):
            raise HTTPException(
                403,
                f"{principal.name} has the role {principal.role.value}; "
                f"{request.method} {request.url.path} needs {self.role.value}",
            )
        if request.method not in SAFE_METHODS and principal.kind != "key":
            check_browser_request(request, principal)
        return principal


def check_browser_request(request: Request, principal: Principal) -> None:
    """Refuse a state-changing request a browser sent on another site's behalf: its Origin
    must be this site, and a session's request must echo the session's CSRF token."""
    origin = request.headers.get("origin")
    if origin is not None and origin.rstrip("/") != _own_origin(request):
        raise HTTPException(403, f"cross-site request refused (Origin {origin})")
    if principal.kind == "user":
        sent = request.headers.get(CSRF_HEADER, "")
        if not (principal.csrf_token and hmac.compare_digest(sent, principal.csrf_token)):
            raise HTTPException(403, "missing or wrong CSRF token (reload the page and try again)")


def _own_origin(request: Request) -> str:
    scheme = request.headers.get("x-forwarded-proto", request.url.scheme)
    host = request.headers.get("host", request.url.netloc)
    return f"{scheme}://{host}"


def _next_path(request: Request) -> str:
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


class RateLimit:
    """Dependency: spend one of the caller's ``kind`` requests (429 with Retry-After when
    none is left). Desk mode has no limits: it is one person at their own machine."""

    def __init__(self, kind: Kind) -> None:
        self.kind = kind

    def __repr__(self) -> str:
        return f"RateLimit({self.kind!r})"

    async def __call__(self, request: Request) -> None:
        principal = await current_principal(request)
        if principal is not None and principal.kind == "desk":
            return
        caller = principal.name if principal is not None else client_address(request)
        limiter: RateLimiter = request.app.state.rate_limiter
        wait = limiter.take(self.kind, caller)
        if wait is not None:
            per_minute = limiter.limits[self.kind]
            raise HTTPException(
                429,
                f"rate limit: {per_minute} {self.kind} requests per minute for {caller}; "
                f"retry in {retry_after_header(wait)} s",
                headers={"Retry-After": retry_after_header(wait)},
            )


def client_address(request: Request) -> str:
    """The client's address as the server saw it (the proxy's, behind one)."""
    return request.client.host if request.client is not None else "unknown"


def requires(role: Role) -> Any:
    """``dependencies=[requires(Role.operator)]``: the role a route needs."""
    return Depends(RoleCheck(role))


def rate_limited(kind: Kind) -> Any:
    """``dependencies=[…, rate_limited("training")]``: a stricter limit for this route."""
    return Depends(RateLimit(kind))


#: Included with every API router: a viewer at least, within the general request limit.
API_ACCESS = [Depends(RoleCheck(Role.viewer, declared=False)), Depends(RateLimit("requests"))]
#: Included with every dashboard router: pages redirect to the login, their JSON answers 401.
PAGE_ACCESS = [Depends(RoleCheck(Role.viewer, declared=False, page=True))]

PrincipalDep = Annotated[Principal, Depends(RoleCheck(Role.viewer, declared=False))]


def acting_as(principal: Principal, claimed: str) -> str:
    """The actor a domain record names: the authenticated caller; in desk mode whoever the
    request says it is (one person at their own machine)."""
    return claimed if principal.kind == "desk" else principal.name
