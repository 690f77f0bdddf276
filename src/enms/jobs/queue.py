"""The Huey instance: SQLite storage in the data directory by default, Redis when
``ENMS_QUEUE_URL=redis://…``. Built by a factory at start-up, never at import.

Both storages honour task priorities (higher first): Redis through Huey's sorted-set
storage, SQLite natively."""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

from huey import Huey, PriorityRedisHuey, SqliteHuey
from sqlalchemy.engine import make_url

from enms.core.config import Settings
from enms.core.errors import InvalidInput

log = logging.getLogger(__name__)
QUEUE_NAME = "enms"
#: The Redis queue is a sorted set (priorities); a new name, so a list left by an older
#: enms under the old name cannot collide with it.
REDIS_QUEUE_NAME = "enms.jobs"


def build_huey(settings: Settings) -> Huey:
    """The queue for ``settings`` (results are not stored: the database is the record)."""
    url = settings.queue_url
    if url is None:
        path = embedded_queue_path(settings)
        path.parent.mkdir(parents=True, exist_ok=True)
        return SqliteHuey(QUEUE_NAME, filename=str(path), results=False, utc=True)
    if url.startswith(("redis://", "rediss://", "unix://")):
        return PriorityRedisHuey(REDIS_QUEUE_NAME, url=url, results=False, utc=True)
    raise InvalidInput(f"ENMS_QUEUE_URL must be redis://host:port/db (or unset), not {url!r}")


def embedded_queue_path(settings: Settings) -> Path:
    """The SQLite queue file, one per database: a queue never hands one database's job ids to
    a server of another (the demo and a real plant may share a data directory)."""
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        # The same file however it is spelt (relative, absolute, via a symlink).
        url = url.set(database=str(Path(url.database).resolve()))
    identity = url.render_as_string(hide_password=True)
    digest = hashlib.sha256(identity.encode()).hexdigest()[:12]
    return Path(settings.data_dir).resolve() / f"queue-{digest}.sqlite3"


def is_embedded(settings: Settings) -> bool:
    """True when the queue lives in a local SQLite file (consumed inside `enms serve`)."""
    return settings.queue_url is None


def queue_ready(huey: Huey) -> bool:
    """True when the queue answers (Redis may be down; the SQLite file is always there)."""
    conn = getattr(huey.storage, "conn", None)
    if conn is None or not hasattr(conn, "ping"):
        return True
    try:
        return bool(conn.ping())
    except Exception as exc:  # redis.ConnectionError and friends: the queue is unreachable
        log.warning("job queue unreachable: %s", exc)
        return False
