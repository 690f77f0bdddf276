"""Hyperparameters for a machine's model: the machine's facts, then the caller's overrides.

The machine says where it is and what is known a day ahead: its ``timezone`` fills every
model's ``timezone``, its ``country`` (ISO 3166-1 alpha-2, or None) the ``country`` of the
models with holiday calendars — a machine without a country gets no holidays, never
another country's — and its ``planned_drivers`` a forecaster's ``drivers`` (the only
drivers a day-ahead forecast may use). Hyperparameters given with the training request
win over all of these.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
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
    overrides: dict[str, Any],
    country: str | None = None,
    planned_drivers: Sequence[str] = (),
    metadata: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The keyword arguments to construct ``cls`` for a machine.

    ``country`` and ``planned_drivers`` are the machine's columns. ``metadata`` is accepted
    for callers written before those columns existed: its ``"country"`` is used only when
    ``country`` is not given. ``drivers`` is filled only for forecasters (a baseline's
    ``drivers`` means "regress on these", not "known a day ahead"): the planned drivers,
    none when the machine declares none, so a forecast never uses the actual driver
    values of the hour it forecasts unless asked to. Unknown override names are refused
    so typos do not pass silently.
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
        legacy = (metadata or {}).get("country")
        params["country"] = country if country is not None else legacy
    if "drivers" in names and cls.model_type.startswith("forecast_"):
        params["drivers"] = tuple(planned_drivers)
    params.update(overrides)
    # JSON has no tuples; the estimators take tuples for column lists.
    return {k: tuple(v) if isinstance(v, list) else v for k, v in params.items()}


def machine_params(
    cls: type[EnergyModel], *, machine: Any, overrides: dict[str, Any]
) -> dict[str, Any]:
    """:func:`build_params` from a machine row (anything with the machine's attributes)."""
    return build_params(
        cls,
        timezone=str(machine.timezone),
        country=getattr(machine, "country", None),
        planned_drivers=tuple(getattr(machine, "planned_drivers", None) or ()),
        metadata=dict(getattr(machine, "metadata_", None) or {}),
        overrides=overrides,
    )
