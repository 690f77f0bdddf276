"""Imports every table module so ``Base.metadata`` is complete (migrations, tests).

Only the migration checks and test set-up need the full metadata; application code imports
the table modules it uses directly.
"""

from __future__ import annotations

from sqlalchemy import MetaData

from enms.alerts import models as _alerts
from enms.core import meta as _meta
from enms.core.orm import Base
from enms.evaluation import models as _evaluation
from enms.experiments import models as _experiments
from enms.jobs import models as _jobs
from enms.readings import models as _readings
from enms.registry import models as _registry
from enms.training import models as _training

TABLE_MODULES = (_alerts, _meta, _evaluation, _experiments, _jobs, _readings, _registry, _training)


def full_metadata() -> MetaData:
    """The metadata with every enms table registered."""
    return Base.metadata
