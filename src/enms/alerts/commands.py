"""``enms alerts list|show|ack|resolve|silence``. STUB: filled by the lifecycle branch."""

from __future__ import annotations

import click


@click.group("alerts")
def alerts_group() -> None:
    """Alerts: list, show, acknowledge, resolve, silence."""
