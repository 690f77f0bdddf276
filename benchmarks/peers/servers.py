"""Real HTTP servers on loopback for the API benchmarks: ``enms serve`` and ``mlflow server``.

Each server is its own process started as a user would (no in-process app, no test client):
:func:`enms_server` migrates a fresh SQLite database with ``enms db upgrade`` and runs
``enms serve`` on it (settings only through ``ENMS_*`` environment variables);
:func:`mlflow_server` runs ``mlflow server`` from its own venv with a SQLite backend store
and its default worker count. Both yield the base URL once ``/health`` answers, and stop the
process they started (and only it) on exit; its log is kept in the work directory and
quoted when the server does not come up.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import httpx

READY_TIMEOUT_S = 120.0


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_ready(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"server exited with {process.returncode}:\n{log.read_text()[-3000:]}"
            )
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)  # waiting for the server process to start listening
    raise RuntimeError(
        f"server not ready after {READY_TIMEOUT_S:.0f} s:\n{log.read_text()[-3000:]}"
    )


@contextmanager
def serving(command: list[str], env: dict[str, str], log: Path, url: str) -> Iterator[str]:
    """Run ``command`` (a server answering at ``url``) until the block ends; yields ``url``."""
    with log.open("wb") as out:
        # Its own process group: the server's workers are stopped with it, nothing else.
        process = subprocess.Popen(
            command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        _wait_ready(url, process, log)
        yield url
    finally:
        _stop(process)


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the server's process group, then SIGKILL to whatever of it is left."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(10)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        pass
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(10)


@contextmanager
def enms_server(work: Path) -> Iterator[str]:
    """``enms serve`` on a fresh, migrated SQLite file in ``work``; yields its base URL."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ENMS_")} | {
        "ENMS_DATABASE_URL": f"sqlite:///{work / 'enms.db'}",
        "ENMS_DATA_DIR": str(work / "enms-data"),
        "ENMS_LOG_LEVEL": "WARNING",
    }
    enms = [sys.executable, "-m", "enms.cli"]
    upgrade = subprocess.run([*enms, "db", "upgrade"], env=env, capture_output=True, text=True)
    if upgrade.returncode != 0:
        raise RuntimeError(f"enms db upgrade failed:\n{upgrade.stdout}{upgrade.stderr}")
    command = [*enms, "serve", "--host", "127.0.0.1", "--port", str(port)]
    with serving(command, env, work / "enms-serve.log", f"http://127.0.0.1:{port}") as url:
        yield url


@contextmanager
def mlflow_server(python: Path, work: Path) -> Iterator[str]:
    """``mlflow server`` (SQLite backend in ``work``, default workers); yields its base URL."""
    port = free_port()
    mlflow = python.parent / "mlflow"
    command = [
        str(mlflow), "server",
        "--backend-store-uri", f"sqlite:///{work / 'mlflow.db'}",
        "--default-artifact-root", str(work / "mlflow-artifacts"),
        "--host", "127.0.0.1", "--port", str(port),
    ]  # fmt: skip
    with serving(
        command, dict(os.environ), work / "mlflow-server.log", f"http://127.0.0.1:{port}"
    ) as url:
        yield url
