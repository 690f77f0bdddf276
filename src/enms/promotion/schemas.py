"""Pydantic shapes of promotion, rollback and promotion watches."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from enms.core.ids import Id
from enms.registry.schemas import AliasChange, VersionRead


class PromoteRequest(AliasChange):
    """Make ``version`` the champion. When the promotion gate fails, the promotion is
    refused unless a ``reason`` is given (an override, audited with the verdicts)."""

    version: Id
    override: bool | None = Field(
        None,
        description="true: promote although the gate fails (needs a reason); false: never "
        "override; null (default): a reason given with a failing gate overrides it.",
    )


class WatchRead(BaseModel):
    """A new champion followed after its promotion (guarded rollback)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    machine_id: int
    model_type: str
    champion_id: int
    previous_id: int
    promoted_at: datetime
    watch_until: datetime
    state: str = Field(description="watching, passed, rolled_back or ended.")
    decided_at: datetime | None
    result: dict[str, Any]


class PromotionRead(VersionRead):
    """The promoted version, with the verdicts its promotion was judged by."""

    promotion_gate: list[dict[str, Any]] = Field(
        default_factory=list, description="The gate's verdicts at this promotion, in rule order."
    )
    override: bool = Field(False, description="Promoted although a rule of the gate failed.")
    watch: WatchRead | None = Field(
        None, description="The watch opened for the new champion (rolls it back if worse)."
    )


class GateRead(BaseModel):
    """What the gate says about promoting a version now (nothing is changed)."""

    version: int
    passed: bool
    failed_rules: list[str]
    verdicts: list[dict[str, Any]]
