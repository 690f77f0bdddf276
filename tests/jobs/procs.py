"""Start real `enms` processes (workers, servers) for the process-level tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def enms_env(database_url: str, data_dir: Path, **extra: str) -> dict[str, str]:
    """Environment for an `enms` process on the given database and data directory."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ENMS_")}
    return (
        env
        | {
            "ENMS_DATABASE_URL": database_url,
            "ENMS_DATA_DIR": str(data_dir),
            "ENMS_LOG_LEVEL": "INFO",
        }
        | extra
    )


@contextmanager
def running(args: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """Run ``enms ARGS`` in the background; stop it (SIGTERM, then SIGKILL) afterwards."""
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "enms.cli", *args], env=env, stdout=out, stderr=subprocess.STDOUT
        )
        try:
            yield proc
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=15)
