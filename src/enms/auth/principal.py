"""Who a request acts as: the desk (no authentication on loopback), a key or a user."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from enms.auth.roles import Role

#: The name requests are audited under in single-user desk mode.
DESK_NAME = "desk"


@dataclass(frozen=True)
class Principal:
    """An authenticated (or desk-mode) caller.

    ``name`` is what audit rows and domain records name as the actor: ``key:<name>``,
    ``user:<username>`` or ``desk``.
    """

    kind: Literal["desk", "key", "user"]
    role: Role
    label: str
    #: The dashboard session's id and CSRF token (user principals from a cookie only).
    session_id: int | None = None
    csrf_token: str | None = None

    @property
    def name(self) -> str:
        """The actor's name as recorded."""
        return DESK_NAME if self.kind == "desk" else f"{self.kind}:{self.label}"

    def may(self, role: Role | str) -> bool:
        """Whether this caller may do what ``role`` may (templates pass the role's name)."""
        return self.role.allows(Role(role))


DESK = Principal(kind="desk", role=Role.admin, label=DESK_NAME)
