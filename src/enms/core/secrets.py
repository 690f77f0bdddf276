"""The instance secret: the key model artifacts are signed with (HMAC-SHA256).

``ENMS_SECRET_KEY`` when set. Otherwise a random key is generated into the data directory
(``ENMS_DATA_DIR``, file ``secret_key``, mode 0600) the first time it is needed, with a log line
saying so, and read from that file on every later start. Every process of one instance —
``enms serve`` replicas, ``enms worker`` processes on other hosts — must use the same secret:
with more than one host, set ``ENMS_SECRET_KEY`` to the same value everywhere (or share the
file). Losing the secret makes every stored version unloadable (retrain them).
"""

from __future__ import annotations

import logging
import os
import secrets
import stat
import threading
from pathlib import Path

from enms.core.config import Settings

log = logging.getLogger(__name__)
SECRET_FILE = "secret_key"
MIN_SECRET_CHARS = 16


class InstanceSecret:
    """The instance's secret, read (or generated) once on first use and then kept.

    >>> InstanceSecret(data_dir=Path("unused"), configured="0123456789abcdef").key()
    b'0123456789abcdef'
    """

    def __init__(self, *, data_dir: Path, configured: str | None = None) -> None:
        if configured is not None and len(configured.strip()) < MIN_SECRET_CHARS:
            raise ValueError(
                f"ENMS_SECRET_KEY must be at least {MIN_SECRET_CHARS} characters "
                "(e.g. the output of `python -c 'import secrets; print(secrets.token_hex(32))'`)"
            )
        self._data_dir = Path(data_dir)
        self._configured = configured.strip() if configured is not None else None
        self._key: bytes | None = None
        self._lock = threading.Lock()

    @property
    def path(self) -> Path:
        """Where a generated secret lives."""
        return self._data_dir / SECRET_FILE

    @property
    def source(self) -> str:
        """Where the secret comes from, for messages: the variable or the file's path."""
        return "ENMS_SECRET_KEY" if self._configured is not None else str(self.path.resolve())

    def key(self) -> bytes:
        """The secret's bytes (generating the file on the very first call of an instance)."""
        with self._lock:
            if self._key is None:
                if self._configured is not None:
                    self._key = self._configured.encode()
                else:
                    self._key = _read_or_create(self.path).encode()
            return self._key


def _read_or_create(path: Path) -> str:
    if not path.exists():
        _create(path)
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        log.warning(
            "the instance secret %s is readable by others (mode %o); chmod 600 it", path, mode
        )
    value = path.read_text().strip()
    if len(value) < MIN_SECRET_CHARS:
        raise ValueError(
            f"the instance secret file {path} is empty or too short; delete it to generate a "
            "new one (versions signed with the old secret then need retraining)"
        )
    return value


def _create(path: Path) -> None:
    """Write a new secret atomically: a complete 0600 file appears, or someone else's does."""
    path.parent.mkdir(parents=True, exist_ok=True)
    draft = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_hex(32) + "\n")
            out.flush()
            os.fsync(out.fileno())
        try:
            os.link(draft, path)  # fails if another process published its secret first
        except FileExistsError:
            return
        log.warning(
            "generated a new instance secret in %s (mode 0600): model artifacts are signed "
            "with it. Keep it; with several hosts set ENMS_SECRET_KEY to one value everywhere",
            path,
        )
    finally:
        draft.unlink(missing_ok=True)


def instance_secret_for(settings: Settings) -> InstanceSecret:
    """The secret for ``settings`` (``ENMS_SECRET_KEY``, else a file in ``ENMS_DATA_DIR``)."""
    configured = settings.secret_key.get_secret_value() if settings.secret_key else None
    return InstanceSecret(data_dir=settings.data_dir, configured=configured)
