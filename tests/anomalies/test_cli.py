"""``enms anomalies --machine NAME``: one JSON document with ``--json``, one line per event
without; an unknown machine is a NotFound naming the known ones."""

from __future__ import annotations

import json

from click.testing import CliRunner

from enms.anomalies.commands import anomalies
from enms.anomalies.schemas import AnomalyPage
from enms.anomalies.tasks import anomaly_detect
from enms.core.cli_context import AppContext
from enms.core.clock import FrozenClock
from enms.core.config import Settings
from enms.core.db import SessionFactory
from enms.core.errors import NotFound
from tests.anomalies.conftest import Plant


def test_json_is_the_api_document_and_text_one_line_per_event(
    session_factory: SessionFactory, clock: FrozenClock, settings: Settings, plant: Plant
) -> None:
    anomaly_detect(factory=session_factory, settings=settings, clock=clock)
    app = AppContext(
        overrides={"database_url": settings.database_url, "data_dir": str(settings.data_dir)}
    )
    args = ["--machine", "Compressor C1", "--from", "2025-02-01", "--to", "2025-03-01"]
    as_json = CliRunner().invoke(anomalies, [*args, "--json"], obj=app)
    assert as_json.exit_code == 0, as_json.output
    page = AnomalyPage.model_validate(json.loads(as_json.stdout))
    assert page.count >= 9
    assert page.anomalies[0].ts.isoformat() == "2025-02-16T07:00:00+00:00"
    human = CliRunner().invoke(anomalies, args, obj=app)
    assert human.exit_code == 0, human.output
    lines = human.stdout.splitlines()
    assert lines[0] == (
        f"Compressor C1: {page.count} anomalies, 2025-02-01 00:00 .. 2025-03-01 00:00 UTC"
    )
    assert len(lines) == 1 + page.count
    assert lines[1].startswith("  2025-02-16 07:00  above_expected  v1  ")
    assert lines[1].endswith(page.anomalies[0].reason)
    unknown = CliRunner().invoke(anomalies, ["--machine", "Nope"], obj=app)
    assert isinstance(unknown.exception, NotFound)
    assert "known machines: Compressor C1" in str(unknown.exception)
