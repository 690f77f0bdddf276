"""Scenario ``prediction_log``: is the prediction log practical at scale, on SQLite and PostgreSQL?

Issue 9 sizes it at a year of 15-minute points for 1,000 machine-model pairs (~35M rows). Per
database this scenario

1. fills a large log (``versions`` × a year of 15-minute points, default 60 × 35,040 ≈ 2.1M
   rows; ``--quick`` 3 versions) with one set-based ``INSERT … SELECT`` (setup, not measured),
   in two halves, so the month query is timed at two log sizes;
2. measures **rows/s written through** :func:`enms.predictions.repository.insert_points` (the
   scorer's path: a month-sized frame per write transaction, idempotent on the unique key) for
   a further version, against a plain DB-API ``executemany`` INSERT of the same rows into the
   same table with the same commit size (no conflict handling, no counting);
3. reports **bytes per row** (PostgreSQL ``pg_total_relation_size`` of the table with its
   indexes; SQLite file growth after a checkpoint) and extrapolates it to 35M rows;
4. times **a month's metrics for one version** (MAE, RMSE, NMBE, MAPE from its raw points via
   :func:`points_frame`, the way evaluation and trends read the log) against a full scan of
   the log (what the same aggregate costs without the ``(model_id, ts, origin)`` index), and
   the same month from the daily rollup (``prediction_daily``).

The month query is an index range scan, so it should grow with the month's rows, not the log;
the full scan grows linearly, and its 35M figure is extrapolated linearly (said so in the note).
PostgreSQL rows are skipped (with a note) when no server answers at ``ENMS_TEST_POSTGRES_URL``.
"""

from __future__ import annotations

import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import Engine, func, select, text

from benchmarks.harness import Row
from benchmarks.scratch_db import POSTGRES_URL, drop_postgres, scratch_postgres
from enms.bootstrap import full_metadata
from enms.core import schema
from enms.core.db import SessionFactory, create_db_engine, create_session_factory, session_scope
from enms.ml import metrics
from enms.predictions import repository, rollup
from enms.predictions.models import PredictionBatch, PredictionDaily
from enms.readings.models import Machine
from enms.registry.models import ModelVersion

NAME = "prediction_log"
TARGET_ROWS = 35_000_000
YEAR = 35_040  # 15-minute points in 365 days
START = datetime(2025, 1, 1, tzinfo=UTC)
MONTH = (datetime(2025, 6, 1, tzinfo=UTC), datetime(2025, 7, 1, tzinfo=UTC))
CHUNK = 2_976  # a 31-day month of 15-minute points: one scoring run's write


def _setup(factory: SessionFactory, versions: int) -> None:
    """One machine per version, each version with one batch (ids 1..versions+2)."""
    full_metadata()  # every table mapped (model_versions refers to training jobs)
    now = datetime.now(UTC)
    with session_scope(factory, write=True) as session:
        for i in range(1, versions + 3):
            session.add(Machine(id=i, name=f"m{i}", created_at=now))
        session.flush()
        for i in range(1, versions + 3):
            session.add(
                ModelVersion(id=i, machine_id=i, model_type="baseline", version=1, created_at=now)
            )
        session.flush()
        for i in range(1, versions + 3):
            session.add(
                PredictionBatch(
                    id=i,
                    model_id=i,
                    machine_id=i,
                    model_type="baseline",
                    source="shadow",
                    drivers_used=["outdoor_temp_c"],
                    window_start=START,
                    window_end=START + timedelta(days=365),
                    created_at=now,
                )
            )
        session.flush()
        if session.get_bind().dialect.name == "postgresql":  # ids were given: move on the serial
            session.execute(
                text(
                    "SELECT setval(pg_get_serial_sequence('prediction_batches', 'id'), "
                    "(SELECT max(id) FROM prediction_batches))"
                )
            )


def _fill(engine: Engine, first: int, last: int) -> None:
    """Versions ``first..last`` get a year of 15-minute points (set-based, not measured)."""
    if engine.dialect.name == "postgresql":
        sql = f"""
            INSERT INTO prediction_log (model_id, machine_id, batch_id, ts, origin, predicted,
                                        actual)
            SELECT v, v, v, t, t, 20 + 5 * sin(extract(epoch from t) / 3600.0),
                   20 + 5 * sin(extract(epoch from t) / 3600.0) + random() * 2 - 1
            FROM generate_series({first}, {last}) v,
                 generate_series(TIMESTAMPTZ '2025-01-01 00:00+00',
                                 TIMESTAMPTZ '2025-01-01 00:00+00' + INTERVAL '15 min' * {YEAR - 1},
                                 INTERVAL '15 min') t
        """
        statements = [sql, "ANALYZE prediction_log"]
    else:
        sql = f"""
            WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i < {YEAR - 1}),
                 v(k) AS (SELECT {first} UNION ALL SELECT k + 1 FROM v WHERE k < {last})
            INSERT INTO prediction_log (model_id, machine_id, batch_id, ts, origin, predicted,
                                        actual)
            SELECT k, k, k, ts, ts, 20 + 5 * sin(i / 4.0), 20 + 5 * sin(i / 4.0)
                   + (abs(random()) % 2000) / 1000.0 - 1
            FROM v, (SELECT i, strftime('%Y-%m-%d %H:%M:%S.000000', '2025-01-01',
                                        '+' || (i * 15) || ' minutes') AS ts FROM s)
            ORDER BY k, ts
        """
        statements = [sql, "ANALYZE"]
    with engine.begin() as conn:
        for statement in statements:
            conn.execute(text(statement))


def _frame(offset: int, rows: int) -> pd.DataFrame:
    rng = np.random.default_rng(offset)
    index = pd.date_range(START, periods=rows, freq="15min", tz="UTC")
    predicted = rng.uniform(10, 30, rows)
    return pd.DataFrame(
        {"predicted": predicted, "actual": predicted + rng.normal(0, 1, rows)}, index=index
    )


def _write_ours(factory: SessionFactory, model_id: int, frame: pd.DataFrame) -> float:
    started = time.perf_counter()
    for at in range(0, len(frame), CHUNK):
        part = frame.iloc[at : at + CHUNK]
        with session_scope(factory, write=True) as session:  # one scoring run's write
            batch = PredictionBatch(
                model_id=model_id,
                machine_id=model_id,
                model_type="baseline",
                source="shadow",
                drivers_used=["outdoor_temp_c"],
                window_start=part.index[0].to_pydatetime(),
                window_end=part.index[-1].to_pydatetime(),
                n_points=0,
                created_at=datetime.now(UTC),
            )
            repository.insert_points(session, batch=batch, frame=part)
    return time.perf_counter() - started


def _write_plain(engine: Engine, model_id: int, frame: pd.DataFrame) -> float:
    sqlite = engine.dialect.name == "sqlite"
    mark = "?" if sqlite else "%s"
    sql = (
        "INSERT INTO prediction_log (model_id, machine_id, batch_id, ts, origin, predicted, "
        f"actual) VALUES ({', '.join([mark] * 7)})"
    )
    stamps = [
        t.strftime("%Y-%m-%d %H:%M:%S.%f") if sqlite else t
        for t in pd.DatetimeIndex(frame.index).to_pydatetime()
    ]
    rows = [
        (model_id, model_id, model_id, s, s, float(p), float(a))
        for s, p, a in zip(stamps, frame["predicted"], frame["actual"], strict=True)
    ]
    raw = engine.raw_connection()
    started = time.perf_counter()
    cur = raw.cursor()
    for at in range(0, len(rows), CHUNK):
        cur.executemany(sql, rows[at : at + CHUNK])
        raw.commit()
    elapsed = time.perf_counter() - started
    raw.close()
    return elapsed


def _month_metrics(factory: SessionFactory, model_id: int) -> tuple[float, dict[str, float]]:
    started = time.perf_counter()
    with session_scope(factory) as session:
        points = repository.points_frame(session, model_id=model_id, start=MONTH[0], end=MONTH[1])
    y, p = points["actual"].to_numpy(), points["predicted"].to_numpy()
    values = {
        "n": float(len(y)),
        "mae": metrics.mae(y, p),
        "rmse": metrics.rmse(y, p),
        "nmbe": float(np.sum(y - p) / (len(y) * np.mean(y)) * 100),
        "mape": metrics.mape(y, p),
    }
    return time.perf_counter() - started, values


def _full_scan(engine: Engine) -> float:
    started = time.perf_counter()
    with engine.connect() as conn:
        conn.execute(
            text(
                "SELECT count(*), sum(abs(actual - predicted)), "
                "sum((actual - predicted) * (actual - predicted)) FROM prediction_log"
            )
        ).one()
    return time.perf_counter() - started


def _rollup_month(factory: SessionFactory, model_id: int) -> tuple[float, float]:
    """Write the month's daily rows for ``model_id``; time reading its MAE back from them."""
    with session_scope(factory) as session:
        points = repository.points_frame(session, model_id=model_id, start=MONTH[0], end=MONTH[1])
    table = rollup.daily_sums(points)
    with session_scope(factory, write=True) as session:
        session.add_all(rollup._rows(model_id, model_id, table))
    started = time.perf_counter()
    with session_scope(factory) as session:
        n, abs_error = session.execute(
            select(func.sum(PredictionDaily.n), func.sum(PredictionDaily.sum_abs_error)).where(
                PredictionDaily.model_id == model_id,
                PredictionDaily.day >= MONTH[0],
                PredictionDaily.day < MONTH[1],
            )
        ).one()
    return time.perf_counter() - started, float(abs_error) / float(n)


def _bytes(engine: Engine, path: Path | None) -> float:
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            return float(
                conn.execute(text("SELECT pg_total_relation_size('prediction_log')")).scalar_one()
            )
    assert path is not None
    with engine.connect() as conn:
        conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
    return float(path.stat().st_size)


def _case(url: str, path: Path | None, versions: int, label: str) -> list[Row]:
    engine = create_db_engine(url)
    schema.upgrade(engine)
    factory = create_session_factory(engine)
    _setup(factory, versions)
    empty = _bytes(engine, path)
    half = versions // 2 or 1
    _fill(engine, 1, half)
    month_half, _ = _month_metrics(factory, 1)
    month_half = min(month_half, _month_metrics(factory, 1)[0])
    if half < versions:
        _fill(engine, half + 1, versions)
    logged = versions * YEAR
    size = (_bytes(engine, path) - empty) / logged
    write_rows = CHUNK * (8 if versions < 10 else 40)
    frame = _frame(versions, write_rows)
    ours = _write_ours(factory, versions + 1, frame)
    plain = _write_plain(engine, versions + 2, frame)
    again = _write_ours(factory, versions + 1, frame)  # every row already logged
    month = min(_month_metrics(factory, 1)[0] for _ in range(3))
    _, values = _month_metrics(factory, 1)
    scan = min(_full_scan(engine) for _ in range(2))
    from_rollup, rollup_mae = _rollup_month(factory, 1)
    assert abs(rollup_mae - values["mae"]) < 1e-9 * max(1.0, values["mae"])
    engine.dispose()
    total = logged + 2 * write_rows
    scale = TARGET_ROWS / total
    where = f"{label}, log of {total:,} rows ({total / TARGET_ROWS:.1%} of the issue's 35M)"
    return [
        Row(
            NAME,
            f"{label} insert_points",
            write_rows / ours,
            "rows/s",
            "executemany",
            write_rows / plain,
            note=f"{where}; {CHUNK:,} rows per write transaction",
        ),
        Row(
            NAME,
            f"{label} insert_points, all already logged",
            write_rows / again,
            "rows/s",
            "executemany",
            write_rows / plain,
            note="idempotent re-run: every row skipped",
        ),
        Row(
            NAME,
            f"{label} bytes per row",
            size,
            "B/row",
            note=f"{where}; at 35M rows ≈ {size * TARGET_ROWS / 1e9:.1f} GB (table + indexes)",
        ),
        Row(
            NAME,
            f"{label} month metrics, 1 version",
            month,
            "s",
            "full scan",
            scan,
            higher_is_better=False,
            note=f"{where}; {int(values['n']):,} points "
            f"(MAE {values['mae']:.3f}); at half the log {month_half:.4f} s; full scan at 35M "
            f"≈ {scan * scale:.1f} s (linear extrapolation)",
        ),
        Row(
            NAME,
            f"{label} month metrics from rollup",
            from_rollup,
            "s",
            "raw points",
            month,
            higher_is_better=False,
            note="30 daily rows of prediction_daily, same MAE",
        ),
    ]


def run(*, quick: bool, versions: int | None = None) -> list[Row]:
    """The log at ``versions`` version-years of 15-minute points (quick: 3) per database."""
    count = versions or (3 if quick else 60)
    out: list[Row] = []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "log.db"
        out += _case(f"sqlite:///{path}", path, count, "sqlite")
    url = scratch_postgres()
    if url is None:
        out.append(
            Row(
                NAME,
                "postgresql",
                float("nan"),
                "rows/s",
                note=f"skipped: no PostgreSQL at {POSTGRES_URL}",
            )
        )
        return out
    try:
        out += _case(url, None, count, "postgresql")
    finally:
        drop_postgres(url)
    return out
