"""The one place a process is wired: settings → engine → queue → tasks → runtime.

`enms serve`, `enms worker` and every CLI command that enqueues build their runtime here and
pass it down (to the app's state, to task closures, to the watchdog); nothing is kept at
module level. This module sits above every stage package (it imports them; none imports it),
so it is also where "every table" is gathered for migrations checks and test set-up.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, MetaData

from enms.core.cli_context import AppContext
from enms.core.clock import Clock, SystemClock
from enms.core.config import Settings, get_settings
from enms.core.db import create_db_engine
from enms.jobs.runtime import Runtime, create_runtime


def build_settings(**overrides: Any) -> Settings:
    """Settings from the environment (and ``overrides``)."""
    return get_settings(**overrides)


def build_runtime(
    settings: Settings, *, engine: Engine | None = None, clock: Clock | None = None
) -> Runtime:
    """The runtime for ``settings``: its engine (unless shared), queue and registered tasks."""
    return create_runtime(
        settings, engine or create_db_engine(settings.database_url), clock or SystemClock()
    )


def runtime_for(app: AppContext) -> Runtime:
    """The runtime of a CLI invocation (its settings, engine and clock)."""
    return build_runtime(app.settings, engine=app.engine, clock=app.clock)


def full_metadata() -> MetaData:
    """The metadata with every enms table registered (migration checks, test set-up)."""
    from enms.alerts import models as _alerts
    from enms.anomalies import models as _anomalies
    from enms.auth import models as _auth
    from enms.core import meta as _meta
    from enms.core.orm import Base
    from enms.evaluation import models as _evaluation
    from enms.experiments import models as _experiments
    from enms.jobs import models as _jobs
    from enms.kpis import models as _kpis
    from enms.predictions import models as _predictions
    from enms.promotion import models as _promotion
    from enms.readings import models as _readings
    from enms.registry import models as _registry
    from enms.training import models as _training

    del _alerts, _meta, _evaluation, _experiments, _jobs, _predictions, _readings, _registry
    del _training, _anomalies, _kpis, _promotion, _auth
    return Base.metadata
