"""Hyperparameters for a machine's model: the machine's facts, then the caller's overrides."""

from __future__ import annotations

import inspect
from typing import Any

from enms.core.errors import InvalidInput
from enms.ml.base import EnergyModel


def accepted(cls: type[EnergyModel]) -> set[str]:
    """Keyword-only parameter names of a model class."""
    return {
        name
        for name, p in inspect.signature(cls.__init__).parameters.items()
        if p.kind is inspect.Parameter.KEYWORD_ONLY
    }


def build_params(
    cls: type[EnergyModel],
    *,
    timezone: str,
    metadata: dict[str, Any],
    overrides: dict[str, Any],
) -> dict[str, Any]:
    """The keyword arguments to construct ``cls`` for a machine.

    The machine's time zone (and country, for holiday calendars) fill the parameters that
    take them; ``overrides`` win; unknown names are refused so typos do not pass silently.
    """
    names = accepted(cls)
    unknown = sorted(set(overrides) - names)
    if unknown:
        raise InvalidInput(
            f"unknown hyperparameter(s) {unknown} for {cls.model_type}; "
            f"accepted: {', '.join(sorted(names))}"
        )
    params: dict[str, Any] = {}
    if "timezone" in names:
        params["timezone"] = timezone
    if "country" in names:
        params["country"] = metadata.get("country")
    params.update(overrides)
    # JSON has no tuples; the estimators take tuples for column lists.
    return {k: tuple(v) if isinstance(v, list) else v for k, v in params.items()}
