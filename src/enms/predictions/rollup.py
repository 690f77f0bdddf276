"""Daily rollup of the prediction log into ``prediction_daily``, and raw-point retention.

The rollup keeps, per version, UTC day and lead bucket, the sums any window of whole days
aggregates exactly (see :class:`~enms.predictions.models.PredictionDaily`), with the error
``e = actual − predicted``. Percentage errors follow :func:`enms.ml.metrics.mape`: only points
whose ``|actual|`` is at least 1 % of the mean ``|actual|`` (of that day and lead bucket) count,
and they are summed in percent (MAPE = ``sum_abs_pct_error / n_pct``). Forecast points go into
lead buckets of whole hours ahead, rounded up, counted to the *end* of the target interval
(``ceil((ts − origin + step) / 1 h)``, the ``hours_ahead`` of
:func:`enms.ml.forecasting.evaluate_forecaster`); baselines and detectors into bucket 0.

Only complete UTC days (before today's 00:00 UTC by the injected clock) are rolled up; a day is
recomputed whole (its rows replaced), so re-running changes nothing. Raw points more than
``settings.monitoring.retention_days`` before the version's newest logged target (or before
now, if earlier) are then deleted; the daily rows stay.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from enms.core.clock import Clock
from enms.core.config import Settings
from enms.core.db import SessionFactory, session_scope
from enms.core.timewindow import as_utc
from enms.ml.metrics import MAPE_NEAR_ZERO_FRACTION
from enms.predictions import repository
from enms.predictions.models import PredictionBatch, PredictionDaily, PredictionPoint

HOUR = pd.Timedelta(hours=1)
SUM_COLUMNS = (
    "n",
    "sum_actual",
    "sum_actual_sq",
    "sum_error",
    "sum_abs_error",
    "sum_sq_error",
    "n_pct",
    "sum_abs_pct_error",
    "n_interval",
    "n_in_interval",
    "n_flagged",
)


def today(clock: Clock) -> datetime:
    """00:00 UTC of the clock's current day: the end of the last complete day."""
    now = clock.now().astimezone(UTC)
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


def daily_sums(points: pd.DataFrame, *, forecast: bool = False) -> pd.DataFrame:
    """Per (day, lead_hours): the sums of :data:`SUM_COLUMNS` and ``n_no_actual`` (points
    with no actual yet, which no sum includes) of ``points`` (a :func:`points_frame`);
    ``forecast`` puts them in lead buckets (else all in bucket 0).

    >>> ts = pd.date_range("2025-01-01", periods=3, freq="h", tz="UTC")
    >>> f = pd.DataFrame({"origin": ts, "predicted": [1.0, 2.0, 3.0],
    ...                   "actual": [2.0, 2.0, None]}, index=ts)
    >>> row = daily_sums(f).iloc[0]
    >>> int(row.n), float(row.sum_error), float(row.sum_abs_pct_error), int(row.n_no_actual)
    (2, 1.0, 50.0, 1)
    """
    if points.empty:
        return pd.DataFrame(columns=["day", "lead_hours", *SUM_COLUMNS, "n_no_actual"])
    ts = pd.DatetimeIndex(points.index)
    origin = pd.DatetimeIndex(points["origin"])
    ahead = ts - origin
    lead = np.zeros(len(points), dtype=np.int64)
    if forecast:
        hours = (ahead + _step(ts, origin)) / HOUR
        lead = np.ceil(np.asarray(hours, dtype=float) - 1e-9).astype(np.int64)
    y = points["actual"].to_numpy(dtype=float)
    p = points["predicted"].to_numpy(dtype=float)
    lo = points["lower"].to_numpy(dtype=float) if "lower" in points else np.full(len(y), np.nan)
    hi = points["upper"].to_numpy(dtype=float) if "upper" in points else np.full(len(y), np.nan)
    # None/NaN (not a detector, or not checked) counts as not flagged
    flagged = points["flagged"].to_numpy() if "flagged" in points else np.zeros(len(points))
    flag = np.array([bool(f) if f is not None and f == f else False for f in flagged])
    table = pd.DataFrame(
        {
            "day": ts.floor("D"),
            "lead_hours": lead,
            "y": y,
            "e": y - p,
            "ok": np.isfinite(y) & np.isfinite(p),
            "iv": np.isfinite(lo) & np.isfinite(hi),
            "lo": lo,
            "hi": hi,
            "flag": flag,
        }
    )
    rows = [_sums(day, lead_h, g) for (day, lead_h), g in table.groupby(["day", "lead_hours"])]
    return pd.DataFrame(rows)


def _step(ts: pd.DatetimeIndex, origin: pd.DatetimeIndex) -> pd.Timedelta:
    """The reading interval of forecast points: the smallest gap between targets of one
    origin (an hour when every origin has a single target)."""
    frame = pd.DataFrame({"o": origin, "t": ts}).sort_values(["o", "t"])
    gaps = frame.groupby("o")["t"].diff().dropna()
    gaps = gaps[gaps > pd.Timedelta(0)]
    return pd.Timedelta(gaps.min()) if len(gaps) else HOUR


def _sums(day: Any, lead: Any, g: pd.DataFrame) -> dict[str, Any]:
    ok = g[g["ok"]]
    y, e = ok["y"].to_numpy(), ok["e"].to_numpy()
    scale = float(np.mean(np.abs(y))) if len(y) else 0.0
    pct = np.abs(y) >= MAPE_NEAR_ZERO_FRACTION * scale if scale > 0 else np.zeros(len(y), bool)
    iv = ok[ok["iv"]]
    inside = (iv["y"] >= iv["lo"]) & (iv["y"] <= iv["hi"])
    return {
        "day": pd.Timestamp(day).to_pydatetime(),
        "lead_hours": int(lead),
        "n": len(ok),
        "sum_actual": float(y.sum()),
        "sum_actual_sq": float((y**2).sum()),
        "sum_error": float(e.sum()),
        "sum_abs_error": float(np.abs(e).sum()),
        "sum_sq_error": float((e**2).sum()),
        "n_pct": int(pct.sum()),
        "sum_abs_pct_error": float(100.0 * np.abs(e[pct] / y[pct]).sum()),
        "n_interval": len(iv),
        "n_in_interval": int(inside.sum()),
        "n_flagged": int(g["flag"].sum()),
        "n_no_actual": int((~g["ok"]).sum()),
        "pct_threshold": MAPE_NEAR_ZERO_FRACTION * scale,
    }


def rollup(
    *,
    factory: SessionFactory,
    clock: Clock,
    touched: dict[int, datetime] | None = None,
    retention_days: int | None = None,
) -> dict[str, int]:
    """Roll up every version's complete days not rolled up yet, and the days of ``touched``
    (version id → earliest target written or changed since the last rollup). With
    ``retention_days``, a touched day whose raw points may already be partly pruned is not
    recomputed (its rows would lose the pruned points)."""
    touched = touched or {}
    end = today(clock)
    days = versions = 0
    with session_scope(factory) as session:
        plans = _plans(session, touched, end, clock.now(), retention_days)
    for model_id, machine_id, model_type, start in plans:
        with session_scope(factory) as session:
            points = repository.points_frame(session, model_id=model_id, start=start, end=end)
        table = daily_sums(points, forecast=model_type.startswith("forecast_"))
        with session_scope(factory, write=True) as session:
            session.execute(
                delete(PredictionDaily).where(
                    PredictionDaily.model_id == model_id,
                    PredictionDaily.day >= start,
                    PredictionDaily.day < end,
                )
            )
            session.add_all(_rows(model_id, machine_id, table))
            session.flush()
        days += int(table["day"].nunique()) if len(table) else 0
        versions += 1
    return {"rollup_versions": versions, "rollup_days": days}


def _plans(
    session: Session,
    touched: dict[int, datetime],
    end: datetime,
    now: datetime,
    retention_days: int | None,
) -> list[tuple[int, int, str, datetime]]:
    """(version, machine, model type, first day to recompute) of every version with days
    to roll up."""
    plans = []
    logged = session.execute(
        select(
            PredictionBatch.model_id,
            func.min(PredictionBatch.machine_id),
            func.min(PredictionBatch.model_type),
        ).group_by(PredictionBatch.model_id)
    ).all()
    for model_id, machine_id, model_type in logged:
        last = session.scalar(
            select(func.max(PredictionDaily.day)).where(PredictionDaily.model_id == model_id)
        )
        if last is not None:
            start = as_utc(last) + timedelta(days=1)
        else:
            first = session.scalar(
                select(func.min(PredictionPoint.ts)).where(PredictionPoint.model_id == model_id)
            )
            if first is None:
                continue
            start = _floor_day(as_utc(first))
        if model_id in touched:
            again = _floor_day(touched[model_id])
            if retention_days is not None:
                cutoff = retention_cutoff(session, int(model_id), now, retention_days)
                if cutoff is not None:
                    again = max(again, _floor_day(cutoff) + timedelta(days=1))
            start = min(start, again)
        if start < end:
            plans.append((int(model_id), int(machine_id), str(model_type), start))
    return plans


def _floor_day(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def _rows(model_id: int, machine_id: int, table: pd.DataFrame) -> list[PredictionDaily]:
    rows = []
    for record in table.to_dict("records"):
        rows.append(
            PredictionDaily(
                model_id=model_id,
                machine_id=machine_id,
                day=as_utc(record["day"]),
                lead_hours=int(record["lead_hours"]),
                **{c: record[c] for c in SUM_COLUMNS},
                extra={
                    "n_no_actual": int(record["n_no_actual"]),
                    "pct_threshold_kwh": float(record["pct_threshold"]),
                    "pct_unit": "percent",
                },
            )
        )
    return rows


def retention_cutoff(session: Session, model_id: int, now: datetime, days: int) -> datetime | None:
    """Targets before this are past retention: ``days`` before the version's newest logged
    target (or before now, if that is earlier). Anchored on the log, not on the clock alone,
    so a history imported (or a demo replayed) long after its dates is not pruned at once."""
    newest = session.scalar(
        select(func.max(PredictionPoint.ts)).where(PredictionPoint.model_id == model_id)
    )
    if newest is None:
        return None
    return min(now, as_utc(newest)) - timedelta(days=days)


def prune(*, factory: SessionFactory, settings: Settings, clock: Clock) -> dict[str, int]:
    """Delete raw points with targets older than the retention period (per version, on the
    ``(model_id, ts, origin)`` index), and batches left without points except each version's
    newest scoring batch (it says where shadow scoring resumes; served batches do not)."""
    points = batches = 0
    with session_scope(factory) as session:
        model_ids = list(session.scalars(select(PredictionBatch.model_id).distinct()))
    for model_id in model_ids:
        with session_scope(factory, write=True) as session:
            cutoff = retention_cutoff(
                session, model_id, clock.now(), settings.monitoring.retention_days
            )
            if cutoff is None:
                continue
            result = session.execute(
                delete(PredictionPoint).where(
                    PredictionPoint.model_id == model_id, PredictionPoint.ts < cutoff
                )
            )
            points += int(getattr(result, "rowcount", 0) or 0)
            newest = select(func.max(PredictionBatch.id)).where(
                PredictionBatch.model_id == model_id, PredictionBatch.source != "served"
            )
            empty = (
                ~select(PredictionPoint.id)
                .where(PredictionPoint.batch_id == PredictionBatch.id)
                .exists()
            )
            gone = session.execute(
                delete(PredictionBatch).where(
                    PredictionBatch.model_id == model_id,
                    PredictionBatch.window_end < cutoff,
                    PredictionBatch.id != newest.scalar_subquery(),
                    empty,
                )
            )
            batches += int(getattr(gone, "rowcount", 0) or 0)
    return {"pruned_points": points, "pruned_batches": batches}
