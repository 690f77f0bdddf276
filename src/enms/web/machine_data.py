"""What the machine page's charts read, each in its own short read session.

- readings of the window (:func:`enms.readings.repository.readings_frame`);
- the baseline's expected energy: the logged points of the **baseline of record** (the
  ISO 50006 EnB the KPIs and savings are measured against, :mod:`enms.kpis.repository`);
- the forecast: the logged points of the version that was ``champion`` when each forecast
  was issued (the served one), stitched along the alias history;
- anomaly events and the daily KPI report (with cumulative savings and their uncertainty).

No model runs here: everything is read from what scoring, detection and the KPI job logged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy.orm import Session

from enms.anomalies import repository as anomaly_events
from enms.core.clock import Clock
from enms.core.db import SessionFactory, session_scope
from enms.core.errors import NotFound
from enms.core.timewindow import as_utc
from enms.kpis import report as kpi_report
from enms.kpis import repository as kpi_repository
from enms.kpis.schemas import KpiReport
from enms.predictions import repository as prediction_log
from enms.readings import repository as readings_repository
from enms.registry import service as registry
from enms.registry.models import ModelVersion
from enms.web.machine_window import SeriesWindow

FORECASTERS = ("forecast_arima", "forecast_prophet")
MAX_ANOMALIES = 1_000


@dataclass
class Served:
    """Logged points of one model type and which versions they came from."""

    points: pd.DataFrame
    versions: list[int] = field(default_factory=list)
    model_type: str | None = None


@dataclass
class MachineInputs:
    """Everything the series endpoint assembles, read from the database."""

    readings: pd.DataFrame
    expected: Served
    forecast: Served
    anomalies: list[dict[str, Any]]
    anomalies_truncated: bool
    kpis: KpiReport


def read_inputs(
    factory: SessionFactory, *, machine_id: int, window: SeriesWindow, clock: Clock
) -> MachineInputs:
    """Read the window's inputs of ``machine_id`` (which must exist)."""
    with session_scope(factory) as session:
        frame = readings_repository.readings_frame(session, machine_id, window.start, window.end)
    with session_scope(factory) as session:
        expected = _baseline_of_record(session, machine_id, window)
    with session_scope(factory) as session:
        forecast = _served_forecast(session, machine_id, window)
    with session_scope(factory) as session:
        rows = anomaly_events.events_page(
            session,
            machine_id=machine_id,
            start=window.start,
            end=window.end,
            limit=MAX_ANOMALIES + 1,
        )
        events = [
            {
                "ts": as_utc(r.ts),
                "energy_kwh": r.energy_kwh,
                "expected_kwh": r.expected_kwh,
                "score": r.score,
                "threshold": r.threshold,
                "direction": r.direction,
                "reason": r.reason,
                "model_version": r.model_version,
            }
            for r in rows[:MAX_ANOMALIES]
        ]
    with session_scope(factory) as session:
        kpis = kpi_report.kpi_report(
            session=session,
            clock=clock,
            machine_id=machine_id,
            start=window.start.isoformat(),
            end=window.end.isoformat(),
            resolution="day",
        )
    return MachineInputs(frame, expected, forecast, events, len(rows) > MAX_ANOMALIES, kpis)


def _baseline_of_record(session: Session, machine_id: int, window: SeriesWindow) -> Served:
    row = kpi_repository.baseline_of_record(session, machine_id)
    if row is None:
        return Served(pd.DataFrame(), [], "baseline")
    points = prediction_log.points_frame(
        session, model_id=row.id, start=window.start, end=window.end
    )
    return Served(points, [row.version], "baseline")


def _served_forecast(session: Session, machine_id: int, window: SeriesWindow) -> Served:
    """The forecaster with a champion (ARIMA before Prophet), its points by issuing champion."""
    for model_type in FORECASTERS:
        segments = champion_segments(session, machine_id, model_type)
        if not segments:
            continue
        parts, versions = [], []
        for row, since, until in segments:
            points = prediction_log.points_frame(
                session, model_id=row.id, start=window.start, end=window.end
            )
            issued = pd.DatetimeIndex(points["origin"])
            keep = np.asarray(issued >= pd.Timestamp(since))
            if until is not None:
                keep &= np.asarray(issued < pd.Timestamp(until))
            if keep.any():
                parts.append(points[keep])
                versions.append(row.version)
        frame = pd.concat(parts).sort_index(kind="stable") if parts else pd.DataFrame()
        return Served(frame, versions, model_type)
    return Served(pd.DataFrame(), [], None)


def champion_segments(
    session: Session, machine_id: int, model_type: str
) -> list[tuple[ModelVersion, datetime, datetime | None]]:
    """``(version, champion since, champion until or None)`` along the alias history."""
    moves = [
        e
        for e in registry.alias_history(
            session=session, machine_id=machine_id, model_type=model_type
        )
        if e.alias == "champion"
    ]
    out: list[tuple[ModelVersion, datetime, datetime | None]] = []
    for i, move in enumerate(moves):
        if not isinstance(move.to_version, int):
            continue  # the alias was cleared: nothing served until the next move
        until = as_utc(moves[i + 1].at) if i + 1 < len(moves) else None
        try:
            row = registry.get_version(
                session=session,
                machine_id=machine_id,
                model_type=model_type,
                version=move.to_version,
            )
        except NotFound:  # a deleted version: nothing of it left to read
            continue
        out.append((row, as_utc(move.at), until))
    return out
