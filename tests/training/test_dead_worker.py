"""Recognising a worker process on this host that no longer exists."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

from enms.training.tasks import local_worker_is_dead


def test_a_finished_process_is_dead_a_living_one_is_not() -> None:
    host = socket.gethostname()
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert local_worker_is_dead(f"{host}:{gone.stdout.strip()}:1")
    assert not local_worker_is_dead(f"{host}:{os.getppid()}:1")  # our parent is alive
    assert not local_worker_is_dead(f"{host}:{os.getpid()}:1")  # ourselves
    assert not local_worker_is_dead(f"other-host-{host}:1:1")  # cannot tell: heartbeats decide
    assert not local_worker_is_dead(None)
