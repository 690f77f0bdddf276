"""The periodic drift checks: every champion and challenger, skips counted, failures reported."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
from sqlalchemy import select
from tests.drift.test_check import COMPRESSOR, FURNACE, expected_energy, import_machine, log_points
from tests.evaluation.test_evaluate import _train

from enms.core.clock import FrozenClock
from enms.core.config import Settings
from enms.core.db import SessionFactory, session_scope
from enms.core.timewindow import Window
from enms.drift.tasks import drift_checks
from enms.evaluation.models import PerformanceMetric
from enms.readings import service as readings


def test_every_served_version_is_checked_since_it_was_trained(
    session_factory: SessionFactory, clock: FrozenClock, settings: Settings
) -> None:
    compressor = import_machine(session_factory, clock, index=COMPRESSOR)
    furnace = import_machine(session_factory, clock, index=FURNACE)
    _train(session_factory, clock, compressor, "baseline", "2025-04-01")  # v1: champion
    _train(session_factory, clock, compressor, "baseline", "2025-04-01")  # v2: challenger
    _train(session_factory, clock, furnace, "baseline", "2025-04-01")
    served = Window.parse("2025-04-01", "2025-04-29")
    for machine_id in (compressor, furnace):
        frame = expected_energy(session_factory, machine_id, "baseline", served)
        points = pd.DataFrame({"predicted": frame["expected"], "actual": frame["energy_kwh"]})
        log_points(session_factory, clock, machine_id, "baseline", points, version=1)
    # The furnace's training readings are gone: its check fails, the others go on.
    with session_scope(session_factory, write=True) as session:
        readings.delete_readings(
            session=session, machine_id=furnace, window=Window.parse(None, "2025-04-01")
        )
    now = FrozenClock(datetime(2025, 4, 29, tzinfo=UTC))

    report = drift_checks(factory=session_factory, settings=settings, clock=now)

    assert report["versions"] == 3
    assert report["checked"] == 1
    assert report["skipped_nothing_logged"] == 1  # the challenger has served nothing yet
    assert report["failed"] == 1
    (failure,) = report["failures"]
    assert failure["machine"] == "Furnace F1"
    assert "reference window has no readings" in failure["error"]
    (done,) = report["checks"]
    assert (done["machine"], done["alias"], done["version"]) == ("Compressor C1", "champion", 1)
    with session_scope(session_factory) as session:
        row = session.scalars(select(PerformanceMetric)).one()
        assert row.id == done["id"]
        assert row.source == "drift_check"
        # [max(training_end, now - 90 days), now): everything served since training.
        assert row.evaluation_start == datetime(2025, 4, 1, tzinfo=UTC)
        assert row.evaluation_end == now.now()
        assert row.drift_detected is not None
        assert row.n_samples == 28 * 24
