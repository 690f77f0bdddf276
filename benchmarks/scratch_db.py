"""Scratch PostgreSQL databases for benchmark scenarios (created per run, dropped after).

The server is ``ENMS_TEST_POSTGRES_URL`` (default: the local trust-auth ``test`` database);
a scenario skips its PostgreSQL rows, with a note, when :func:`scratch_postgres` gives None.
"""

from __future__ import annotations

import os
import uuid

from sqlalchemy import text
from sqlalchemy.engine import make_url

from enms.core.db import create_db_engine

POSTGRES_URL = os.environ.get(
    "ENMS_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def scratch_postgres() -> str | None:
    """The URL of a new empty database on the server, or None when none answers."""
    try:
        admin = create_db_engine(POSTGRES_URL).execution_options(isolation_level="AUTOCOMMIT")
        name = f"enms_bench_{uuid.uuid4().hex[:10]}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
    except Exception:
        return None
    return make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)


def drop_postgres(url: str) -> None:
    """Drop a database made by :func:`scratch_postgres` (connections closed by force)."""
    admin = create_db_engine(POSTGRES_URL).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
    admin.dispose()
