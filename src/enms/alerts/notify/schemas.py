"""Pydantic shapes of the delivery log: :class:`DeliveryRead` and :class:`DeliveryPage`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

DELIVERY_STATUSES = ("sent", "failed", "silenced", "pending")
CHANNELS = ("webhook", "email")


class DeliveryRead(BaseModel):
    """One notification to one channel target and how it went."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    channel: str = Field(description="webhook | email")
    target: str = Field(description="The URL (secret path and query masked) or the recipients.")
    group_key: str = Field(description="The machine group the notification covered.")
    alert_ids: list[int]
    severity: str = Field(description="The highest severity of the alerts covered.")
    status: str = Field(
        description="sent | failed (after every attempt) | silenced (an active silence "
        "matched: nothing was sent)"
    )
    attempts: int = Field(description="HTTP or SMTP attempts made (0 when silenced).")
    response_code: int | None = Field(description="Last HTTP status (or SMTP reply code).")
    last_error: str | None
    payload: dict[str, Any] = Field(description="What was sent (the webhook body or e-mail).")
    created_at: datetime
    sent_at: datetime | None


class DeliveryPage(BaseModel):
    """Deliveries, newest first."""

    items: list[DeliveryRead]
    count: int
    limit: int
