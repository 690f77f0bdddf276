"""``enms kpis --machine NAME``. STUB: filled by the KPI branch."""

from __future__ import annotations

import click


@click.command("kpis")
def kpis() -> None:
    """Energy KPIs of a machine (energy, SEC, EnPI, savings)."""
