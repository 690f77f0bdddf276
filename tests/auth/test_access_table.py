"""Every route against every role, generated from the application's own routes.

A state-changing route must declare the role it needs (``dependencies=[requires(...)]``):
one that does not fails :func:`test_every_state_changing_route_declares_a_role`, so a new
route cannot ship open. Then each (route, role) pair is sent with that role's key and must
be refused (403) exactly when the role ranks below the declared one; without any key every
API route answers 401 and every page redirects to the login.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts

from enms.api.app import create_app
from enms.auth.deps import RoleCheck
from enms.auth.roles import Role
from enms.core.config import Settings
from tests.auth.conftest import Secured

SAFE = {"GET", "HEAD", "OPTIONS"}
#: Open on purpose: load balancers probe health without credentials; the login must be
#: reachable to log in; the API's description and the static files hold no data.
PUBLIC = {
    "/health",
    "/health/live",
    "/health/ready",
    "/login",
    "/logout",
    "/docs",
    "/docs/oauth2-redirect",
    "/openapi.json",
    "/static/plotly.min.js",
}


def _checks(route: Any) -> list[RoleCheck]:
    found: list[RoleCheck] = []
    stack = list(route.dependant.dependencies)
    while stack:
        dep = stack.pop()
        if isinstance(dep.call, RoleCheck):
            found.append(dep.call)
        stack.extend(dep.dependencies)
    return found


def _routes(app: FastAPI) -> list[tuple[str, str, Any]]:
    """(method, full path template, route) of every endpoint, included routers flattened."""
    found = []
    for route in iter_route_contexts(app.routes):
        if getattr(route, "dependant", None) is None or not route.methods:
            continue  # mounts (static files) and plain Starlette routes (/openapi.json)
        for method in route.methods:
            found.append((method, str(route.path_format), route))
    return sorted(found, key=lambda row: (row[1], row[0]))


def needed_role(route: Any, method: str) -> Role | None:
    """The role a route needs: its own declaration, or viewer from the blanket check of its
    router (None: the route has no access check at all)."""
    checks = _checks(route)
    declared = [c.role for c in checks if c.declared]
    if declared:
        return max(declared, key=lambda r: r.rank)
    return Role.viewer if checks else None


def _app(settings: Settings) -> FastAPI:
    return create_app(settings)


def test_every_state_changing_route_declares_a_role(settings: Settings) -> None:
    app = _app(settings)
    undeclared = [
        f"{method} {path}"
        for method, path, route in _routes(app)
        if method not in SAFE and path not in PUBLIC and not any(c.declared for c in _checks(route))
    ]
    assert undeclared == [], f"state-changing routes without a declared role: {undeclared}"


def test_every_route_but_the_public_ones_checks_access(settings: Settings) -> None:
    app = _app(settings)
    open_routes = [
        f"{method} {path}"
        for method, path, route in _routes(app)
        if path not in PUBLIC and needed_role(route, method) is None
    ]
    assert open_routes == [], f"routes nobody checks access to: {open_routes}"
    # And the table is not trivially small: every stage's writes are in it.
    writes = [p for m, p, _ in _routes(app) if m not in SAFE and p not in PUBLIC]
    assert len(writes) >= 25, writes


def _filled(path: str) -> str:
    """A concrete path for a template: ids that do not exist (the handler answers 404/422
    after the access check), names that do not either."""
    return re.sub(r"\{[^}]+\}", lambda m: "999999" if "id" in m.group(0) else "nosuch", path)


def _send(secured: Secured, method: str, path: str, headers: dict[str, str]) -> Any:
    body: dict[str, Any] | None = None if method in SAFE else {}
    return secured.client.request(
        method, _filled(path), json=body, headers=headers, follow_redirects=False
    )


def _table(settings: Settings) -> list[tuple[str, str, Role]]:
    app = _app(settings)
    return [
        (method, path, role)
        for method, path, route in _routes(app)
        if path not in PUBLIC and (role := needed_role(route, method)) is not None
    ]


@pytest.mark.parametrize("caller", list(Role), ids=lambda r: r.value)
def test_each_role_is_refused_exactly_the_routes_above_it(
    secured: Secured, settings: Settings, caller: Role
) -> None:
    mismatches = []
    for method, path, needed in _table(settings):
        response = _send(secured, method, path, secured.auth(caller))
        refused = response.status_code == 403
        if refused != (not caller.allows(needed)) or response.status_code == 401:
            mismatches.append(f"{method} {path} (needs {needed.value}): {response.status_code}")
        if refused:
            assert needed.value in response.json()["error"]["message"]
    assert mismatches == []


def test_without_a_key_every_route_answers_401_and_pages_redirect(
    secured: Secured, settings: Settings
) -> None:
    wrong = []
    for method, path, _ in _table(settings):
        response = _send(secured, method, path, {})
        page = not path.startswith(("/api/", "/ui/api/", "/metrics"))
        if page:
            ok = response.status_code == 303 and response.headers["location"].startswith("/login")
        else:
            ok = (
                response.status_code == 401 and response.headers.get("www-authenticate") == "Bearer"
            )
        if not ok:
            wrong.append(f"{method} {path}: {response.status_code}")
    assert wrong == []


def test_a_wrong_or_malformed_key_is_401_naming_the_problem(secured: Secured) -> None:
    forged = secured.keys[Role.admin][:-4] + "AAAA"
    for header, expected in (
        (f"Bearer {forged}", "not valid"),
        ("Bearer enms_nonexistent", "not valid"),
        (f"Basic {secured.keys[Role.admin]}", "Bearer <API key>"),
    ):
        response = secured.client.get("/api/v1/machines", headers={"Authorization": header})
        assert response.status_code == 401, header
        assert expected in response.json()["error"]["message"]
