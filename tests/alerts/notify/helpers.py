"""Test helpers: machines in a group, alerts raised the way producers raise them, settings."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from enms.alerts.conditions import raise_condition
from enms.alerts.models import ModelAlert, NotificationDelivery
from enms.core.clock import Clock
from enms.core.config import NotificationSettings, Settings
from enms.core.db import SessionFactory, session_scope
from enms.readings import service
from enms.readings.schemas import MachineCreate


def notifying(settings: Settings, **fields: Any) -> Settings:
    """``settings`` with these notification settings (retries without waiting by default)."""
    fields.setdefault("backoff_seconds", 0)
    fields.setdefault("webhook_timeout_seconds", 5)
    return settings.model_copy(update={"notifications": NotificationSettings(**fields)})


def machine(
    factory: SessionFactory,
    clock: Clock,
    name: str,
    *,
    machine_type: str = "compressor",
    group: str | None = None,
) -> int:
    """A machine (metadata ``group`` when given); returns its id."""
    with session_scope(factory, write=True) as session:
        return service.create_machine(
            session=session,
            data=MachineCreate(
                name=name,
                machine_type=machine_type,
                metadata={"group": group} if group else {},
            ),
            clock=clock,
        ).id


def alert(
    factory: SessionFactory,
    clock: Clock,
    machine_id: int,
    *,
    model_type: str | None = "baseline",
    alert_type: str = "drift",
    severity: str = "warning",
    message: str = "residual mean shifted by +12 %",
) -> int:
    """Raise a condition (open, or repeat/escalate) at the clock's time; returns the alert id."""
    with session_scope(factory, write=True) as session:
        return raise_condition(
            session,
            machine_id=machine_id,
            model_type=model_type,
            alert_type=alert_type,
            severity=severity,
            message=message,
            details={},
            now=clock.now(),
        ).alert_id


def deliveries(factory: SessionFactory) -> list[NotificationDelivery]:
    """Every logged delivery, oldest first."""
    with session_scope(factory) as session:
        return list(session.scalars(select(NotificationDelivery).order_by(NotificationDelivery.id)))


def alert_row(factory: SessionFactory, alert_id: int) -> ModelAlert:
    """The alert as stored now."""
    with session_scope(factory) as session:
        row = session.get(ModelAlert, alert_id)
        assert row is not None
        return row
