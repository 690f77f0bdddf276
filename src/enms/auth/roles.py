"""The three roles and their order: each role may do everything the one before it may."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """What a user or key may do."""

    viewer = "viewer"
    operator = "operator"
    admin = "admin"

    @property
    def rank(self) -> int:
        """Position in the order viewer < operator < admin."""
        return list(Role).index(self)

    def allows(self, needed: Role) -> bool:
        """Whether this role may do what ``needed`` may.

        >>> Role.operator.allows(Role.viewer), Role.operator.allows(Role.admin)
        (True, False)
        """
        return self.rank >= needed.rank


def parse_role(text: str) -> Role:
    """The role named ``text``; ValueError naming the choices otherwise."""
    try:
        return Role(text)
    except ValueError:
        raise ValueError(
            f"unknown role {text!r}: choose one of {', '.join(r.value for r in Role)}"
        ) from None
