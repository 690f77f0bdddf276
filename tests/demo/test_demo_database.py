"""`enms demo` builds into the configured database (PostgreSQL too), never over real data."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from tests.conftest import create_scratch_postgres, drop_scratch_postgres

from enms.core import schema
from enms.core.clock import FrozenClock
from enms.core.db import create_db_engine, create_session_factory, session_scope
from enms.core.errors import Conflict
from enms.demo import service
from enms.readings.models import Machine

ENMS = Path(sys.executable).parent / "enms"  # the console script, as the README installs it


def _demo(cwd: Path, url: str | None, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "ENMS_DATABASE_URL"}
    if url is not None:
        env["ENMS_DATABASE_URL"] = url
    return subprocess.run(
        [str(ENMS), "demo", "--days", "28", "--no-serve", *args],
        capture_output=True,
        text=True,
        env=env | {"ENMS_DATA_DIR": str(cwd / "data")},
        cwd=cwd,
        check=False,
        timeout=300,
    )


def _machines(url: str) -> int:
    engine = create_db_engine(url)
    with session_scope(create_session_factory(engine)) as session:
        n = session.scalar(select(func.count()).select_from(Machine)) or 0
    engine.dispose()
    return n


@pytest.fixture
def scratch_postgres(postgres_server_url: str) -> Iterator[str]:
    url = create_scratch_postgres(postgres_server_url)
    yield url
    drop_scratch_postgres(postgres_server_url, url)


@pytest.mark.postgres
def test_demo_builds_into_postgres_rebuilds_it_and_refuses_real_data(
    tmp_path: Path, scratch_postgres: str, postgres_server_url: str
) -> None:
    first = _demo(tmp_path, scratch_postgres)
    assert first.returncode == 0, first.stderr
    built = _machines(scratch_postgres)
    assert built >= 8
    assert not (tmp_path / "enms-demo.db").exists()  # the configuration was not ignored
    # the hint names the command that works from here (not a bare `enms` off PATH)
    hint = next(line for line in first.stderr.splitlines() if line.startswith("serve it with"))
    assert hint.split(": ", 1)[1].startswith(str(ENMS) if not _on_path() else "enms")

    again = _demo(tmp_path, scratch_postgres)
    assert again.returncode == 0, again.stderr
    assert "replacing the earlier demo" in again.stderr
    assert _machines(scratch_postgres) == built  # rebuilt, not added to

    real = create_scratch_postgres(postgres_server_url)
    try:
        engine = create_db_engine(real)
        schema.upgrade(engine)
        engine.dispose()
        refused = _demo(tmp_path, real)
        assert refused.returncode == 1
        assert "is not a demo; refusing to overwrite it" in refused.stderr
        assert _machines(real) == 0
    finally:
        drop_scratch_postgres(postgres_server_url, real)


def _on_path() -> bool:
    import shutil

    found = shutil.which("enms")
    return found is not None and Path(found).resolve() == ENMS.resolve()


def test_demo_without_configuration_uses_its_own_file(tmp_path: Path) -> None:
    built = _demo(tmp_path, None)
    assert built.returncode == 0, built.stderr
    assert service.is_demo_database(tmp_path / "enms-demo.db")
    assert "ENMS_DATABASE_URL=sqlite:///enms-demo.db" in built.stderr


def test_a_configured_sqlite_url_is_its_file(tmp_path: Path, clock: FrozenClock) -> None:
    url = f"sqlite:///{tmp_path / 'configured.db'}"
    engine, summary = service.build(
        url, seed=1, days=28, clock=clock, batch_size=5000, report=lambda _m: None
    )
    engine.dispose()
    assert service.is_demo_database(tmp_path / "configured.db")
    assert summary.machines == _machines(url)
    other = tmp_path / "plant.db"
    plant = create_db_engine(f"sqlite:///{other}")
    schema.upgrade(plant)
    plant.dispose()
    with pytest.raises(Conflict, match="not an enms demo database"):
        service.build(
            f"sqlite:///{other}", seed=1, days=28, clock=clock, batch_size=5000, report=print
        )


def test_a_short_demo_trains_every_model_type_on_everything(
    tmp_path: Path, clock: FrozenClock
) -> None:
    from enms.demo.training import trigger_all

    engine, summary = service.build(
        tmp_path / "short.db", seed=2, days=28, clock=clock, batch_size=5000, report=print
    )
    queued: list[int] = []
    skipped: list[str] = []
    job_ids, cutoff = trigger_all(
        create_session_factory(engine), clock, queued.append, report=skipped.append
    )
    engine.dispose()
    assert cutoff is None  # two months cannot be held back from four weeks
    assert skipped == []
    assert len(job_ids) == 4 * summary.machines
    assert sorted(queued) == sorted(job_ids)
