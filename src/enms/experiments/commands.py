"""``enms abtest start|results|stop|list``."""

from __future__ import annotations

import click


@click.group("abtest")
def abtest_group() -> None:
    """A/B tests between two versions of a machine's model."""
