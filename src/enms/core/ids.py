"""Row ids and version numbers as the API takes them (paths, query parameters, bodies).

Every id the API names (machines, training jobs, alerts, silences, deliveries, A/B tests)
and every model version number is an ``INTEGER`` column: 32 bits on PostgreSQL, 64 on
SQLite. A larger number can name nothing, and binding it fails in the driver (SQLite:
``OverflowError``; PostgreSQL: "integer out of range"), so the API refuses it up front with
a 422 naming the parameter — and the bound is in the OpenAPI document.
"""

from __future__ import annotations

from typing import Annotated

from annotated_types import Interval

#: The largest value of an ``INTEGER`` column on PostgreSQL (the smaller of the two dialects).
MAX_ID = 2**31 - 1

#: A row id or a version number: 1 … :data:`MAX_ID`.
Id = Annotated[int, Interval(ge=1, le=MAX_ID)]
