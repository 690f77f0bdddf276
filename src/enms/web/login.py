"""The dashboard's login and logout (``/login``, ``/logout``), and the redirect of a page
asked for without a login.

A login opens a server-side session (:func:`enms.auth.service.open_session`): the cookie
``enms_session`` is ``HttpOnly``, ``SameSite=Lax`` and ``Secure`` behind TLS; the session's
CSRF token is put in every page (``<meta name="csrf-token">``) and sent by the dashboard's
fetches as ``X-CSRF-Token``. The login form itself is protected by a double-submit token
(cookie ``enms_login_csrf`` = hidden field), so another site cannot log a browser in under
its own account. Attempts are rate limited per client address.
"""

from __future__ import annotations

import hmac
from datetime import timedelta
from typing import Annotated
from urllib.parse import quote

import anyio
from fastapi import APIRouter, FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from enms.auth import service
from enms.auth.deps import LoginRequired, client_address, current_principal
from enms.auth.gate import SESSION_COOKIE, AuthGate
from enms.auth.hashing import new_token
from enms.auth.principal import Principal
from enms.auth.ratelimit import RateLimiter, retry_after_header
from enms.auth.roles import Role
from enms.core.config import Settings
from enms.core.db import SessionFactory, session_scope
from enms.web.templating import render

router = APIRouter(include_in_schema=False)
LOGIN_CSRF_COOKIE = "enms_login_csrf"


def safe_next(path: str | None) -> str:
    """Where to go after the login: a path on this site only (no open redirect).

    >>> safe_next("/ui/alerts?state=open"), safe_next("//evil.example"), safe_next("https://x")
    ('/ui/alerts?state=open', '/', '/')
    """
    if not path or not path.startswith("/") or path.startswith("//") or "\\" in path:
        return "/"
    return path


def _secure(request: Request, settings: Settings) -> bool:
    mode = settings.auth.secure_cookies
    if mode != "auto":
        return mode == "always"
    return request.headers.get("x-forwarded-proto", request.url.scheme) == "https"


def _form(
    request: Request,
    *,
    next_path: str,
    error: str | None = None,
    username: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    gate: AuthGate = request.app.state.auth_gate
    token = new_token(24)
    response = render(
        request,
        "login.html",
        title="Log in",
        active="login",
        status_code=status_code,
        login_csrf=token,
        next_path=safe_next(next_path),
        error=error,
        username=username,
        desk_mode=not gate.enforced(),
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=_secure(request, request.app.state.settings),
        path="/login",
    )
    return response


@router.get("/login")
def login_page(request: Request, next: str = "/") -> HTMLResponse:
    """The login form."""
    return _form(request, next_path=next)


@router.post("/login")
def login(
    request: Request,
    username: Annotated[str, Form(max_length=100)],
    password: Annotated[str, Form(max_length=1000)],
    csrf_token: Annotated[str, Form(max_length=100)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    """Check the password; on success open a session and go where the user was headed."""
    limiter: RateLimiter = request.app.state.rate_limiter
    wait = limiter.take("logins", client_address(request))
    if wait is not None:
        response = _form(
            request,
            next_path=next,
            username=username,
            error=f"Too many login attempts; try again in {retry_after_header(wait)} s.",
            status_code=429,
        )
        response.headers["Retry-After"] = retry_after_header(wait)
        return response
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not (expected and hmac.compare_digest(expected, csrf_token)):
        return _form(
            request,
            next_path=next,
            username=username,
            error="The login form expired or came from another site; please try again.",
            status_code=403,
        )
    settings: Settings = request.app.state.settings
    factory: SessionFactory = request.app.state.session_factory
    now = request.app.state.clock.now()
    with session_scope(factory, write=True, gate_now=True) as session:
        user = service.check_password(session, username=username, password=password)
        if user is None:
            token = None
        else:
            web_session, token = service.open_session(
                session, user=user, now=now, lifetime=timedelta(hours=settings.auth.session_hours)
            )
            request.state.principal = Principal(
                kind="user", role=Role(user.role), label=user.username, session_id=web_session.id
            )
    if token is None:
        return _form(
            request,
            next_path=next,
            username=username,
            error="Wrong username or password (or the user is disabled).",
            status_code=401,
        )
    redirect = RedirectResponse(safe_next(next), status_code=303)
    redirect.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(settings.auth.session_hours * 3600),
        httponly=True,
        samesite="lax",
        secure=_secure(request, settings),
    )
    redirect.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return redirect


@router.post("/logout")
async def logout(
    request: Request, csrf_token: Annotated[str, Form(max_length=100)] = ""
) -> Response:
    """End the session (its cookie stops working) and return to the login."""
    principal = await current_principal(request)
    if principal is not None and principal.kind == "user" and principal.session_id is not None:
        if not (principal.csrf_token and hmac.compare_digest(csrf_token, principal.csrf_token)):
            return HTMLResponse("missing or wrong CSRF token", status_code=403)
        factory: SessionFactory = request.app.state.session_factory
        now = request.app.state.clock.now()
        session_id = principal.session_id

        def end() -> None:
            with session_scope(factory, write=True, gate_now=True) as session:
                service.end_session(session, session_id=session_id, now=now)

        await anyio.to_thread.run_sync(end, limiter=anyio.CapacityLimiter(1))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


async def _to_login(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, LoginRequired)
    return RedirectResponse(f"/login?next={quote(exc.next_path, safe='/')}", status_code=303)


def install(app: FastAPI) -> None:
    """Mount the login routes and the redirect of pages asked for without a login."""
    app.include_router(router)
    app.add_exception_handler(LoginRequired, _to_login)
