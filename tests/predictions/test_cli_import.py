"""``enms import readings`` queues a prediction-log scoring run (a real `enms` process)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.factories import readings_csv

from enms.core.config import Settings
from enms.core.db import create_db_engine
from enms.jobs.runtime import create_runtime
from enms.jobs.tasks import RUN_PERIODIC


def _enms(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = os.environ | {
        "ENMS_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
        "ENMS_DATA_DIR": str(tmp_path / "data"),
    }
    return subprocess.run(
        [sys.executable, "-m", "enms.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        check=False,
        timeout=120,
    )


def test_an_import_queues_the_scoring_run_for_a_worker(tmp_path: Path) -> None:
    assert _enms(tmp_path, "db", "upgrade").returncode == 0
    assert _enms(tmp_path, "machines", "add", "Press 3").returncode == 0
    csv = tmp_path / "readings.csv"
    csv.write_text(readings_csv(periods=48))
    imported = _enms(tmp_path, "import", "readings", str(csv), "--machine", "Press 3")
    assert imported.returncode == 0, imported.stderr
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'cli.db'}", data_dir=tmp_path / "data")
    engine = create_db_engine(settings.database_url)
    runtime = create_runtime(settings, engine)  # the tasks registered, so messages decode
    queued = [(t.name, tuple(t.args)) for t in runtime.huey.pending()]
    engine.dispose()
    assert queued == [(RUN_PERIODIC, ("score_predictions", None))]
