"""What one drift check reads in its one short transaction (:class:`CheckInputs`).

Filled by :func:`enms.drift.service.read_inputs`; everything after it (model work and the
statistics) uses only this object, outside any transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from enms.core.secrets import InstanceSecret
from enms.core.timewindow import Window
from enms.registry.artifacts import StoredArtifact


@dataclass(frozen=True)
class CheckInputs:
    """What a drift check needs, read in one short unit of work."""

    machine_id: int
    machine_name: str
    timezone: str
    model_type: str
    version_id: int
    version: int
    metrics_holdout: dict[str, Any]
    reference: Window
    reference_source: str
    current: Window
    #: Readings of the reference window (rows inside the current window left out).
    reference_frame: pd.DataFrame
    n_reference_overlap: int
    #: Readings of the current window, and (forecasters) the week before it.
    current_frame: pd.DataFrame
    history_frame: pd.DataFrame
    #: The version's logged points with targets in the current window.
    points: pd.DataFrame
    #: The artifact (verified and loaded outside the transaction, only when needed).
    artifact: StoredArtifact | None = None
    secret: InstanceSecret | None = None
