"""The child process a training job fits in: start it, read what it reports, stop it.

Children come from a multiprocessing fork server (``spawn`` where there is none) that has
imported the model code once, so a child starts in milliseconds without copying the worker's
threads or locks. :func:`warm_up` starts that server when a consumer starts. Stopping a child
signals its whole process group (it calls ``setsid``; Prophet's Stan binary is in the group):
SIGTERM, then SIGKILL after ``ENMS_TRAINING__KILL_AFTER_SECONDS``.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import signal
import sys
import time
from multiprocessing.context import ForkServerContext, SpawnContext
from multiprocessing.process import BaseProcess
from typing import Any

from enms.training.fit import FitRequest, child_main, noop

log = logging.getLogger(__name__)


class FitProcessDied(Exception):
    """The child ended without sending its result (killed, out of memory, crashed)."""


class FitProcess:
    """One running child: its PID and the messages it sends (stages, then the outcome)."""

    def __init__(self, request: FitRequest) -> None:
        mp = _context()
        self._memory_mb = request.memory_mb
        self._conn, child_end = mp.Pipe(duplex=True)
        self._proc: BaseProcess = mp.Process(
            target=child_main, args=(request, child_end), name=f"enms-fit-{request.job_id}"
        )
        self._proc.daemon = True
        self._proc.start()
        # Only the child holds its end now: when this process dies, the child sees the pipe
        # close and stops itself.
        child_end.close()

    @property
    def pid(self) -> int:
        """The child's PID (also its process group id)."""
        return self._proc.pid or 0

    def receive(self, timeout: float) -> tuple[Any, ...] | None:
        """The next message within ``timeout`` seconds, or None; :class:`FitProcessDied`
        when the child is gone without a result."""
        if self._conn.poll(max(timeout, 0.0)):
            try:
                message: tuple[Any, ...] = self._conn.recv()
            except EOFError:
                raise FitProcessDied(self._died()) from None
            return message
        if not self._proc.is_alive() and not self._conn.poll(0):
            raise FitProcessDied(self._died())
        return None

    def finished(self) -> None:
        """The child sent its result: give it a moment to exit by itself."""
        self._proc.join(2)

    def stop(self, kill_after: float) -> None:
        """Terminate the child and its process group; return once it is gone."""
        stop_process(self._proc, kill_after)
        self._conn.close()

    def _died(self) -> str:
        self._proc.join(1)
        code = self._proc.exitcode
        how = f"signal {-code}" if code is not None and code < 0 else f"exit code {code}"
        hint = ""
        if self._memory_mb is not None:
            # Native code (BLAS, Stan) that cannot allocate exits or aborts without a word.
            hint = (
                f"; it ran under a memory limit of {self._memory_mb} MiB "
                "(ENMS_TRAINING__FIT_MEMORY_MB), which it may have exceeded"
            )
        return f"the fitting process ended without a result ({how}){hint}; nothing was registered"


def warm_up() -> None:
    """Start the fork server now and wait until it has imported the model code (by running
    one empty child), so a consumer's first job does not wait for it."""
    started = time.perf_counter()
    proc = _context().Process(target=noop, name="enms-fit-warm-up", daemon=True)
    proc.start()
    proc.join(300)
    log.info("fork server for fits ready in %.1f s", time.perf_counter() - started)


def _context() -> ForkServerContext | SpawnContext:
    if "forkserver" in multiprocessing.get_all_start_methods():
        multiprocessing.set_forkserver_preload(_preload())
        forkserver = multiprocessing.get_context("forkserver")
        assert isinstance(forkserver, ForkServerContext)
        return forkserver
    spawn = multiprocessing.get_context("spawn")
    assert isinstance(spawn, SpawnContext)
    return spawn


def _preload() -> list[str]:
    """Modules the fork server imports once: the fit code and every enms module this process
    has loaded. A child re-runs the main module's top level (multiprocessing's rule); with
    its imports already loaded that is instant instead of importing the CLI for every job."""
    main = sys.modules.get("__main__")
    main_name = getattr(getattr(main, "__spec__", None), "name", None)
    loaded = sorted(n for n in list(sys.modules) if n.startswith("enms.") and n != main_name)
    return ["enms.training.fit", *loaded]


def stop_process(proc: BaseProcess, kill_after: float) -> None:
    """Terminate ``proc`` and its process group (SIGTERM, then SIGKILL); return once gone."""
    if proc.pid is None:
        return
    if proc.is_alive():
        _signal_group(proc.pid, signal.SIGTERM)
        proc.join(kill_after)
    if proc.is_alive():
        _signal_group(proc.pid, signal.SIGKILL)
        proc.join()
    # Whatever the fit started (Prophet's Stan binary) shares its process group.
    _signal_group(proc.pid, signal.SIGKILL)


def _signal_group(pid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        # No group yet (the child had not called setsid) or already gone: the process itself.
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)
