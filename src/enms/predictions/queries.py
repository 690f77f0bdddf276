"""Reading the prediction log for the API: one version's logged points in a window.

The page is capped (:data:`MAX_POINTS`, 10,000 by default; ``truncated`` says when more
exist) and carries the batches its points came from, with the drivers each used.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from enms.core.errors import InvalidInput
from enms.core.timewindow import Window
from enms.predictions import repository
from enms.predictions.schemas import PredictionBatchRead, PredictionPage, PredictionPointRead
from enms.readings import service as readings
from enms.registry import service as registry

MAX_POINTS = 10_000


def logged_points(
    *,
    session: Session,
    machine_id: int,
    model_type: str,
    window: Window,
    version: int | None = None,
    limit: int = MAX_POINTS,
) -> PredictionPage:
    """Points of ``version`` (default: the champion) with targets in ``window``."""
    if not 1 <= limit <= MAX_POINTS:
        raise InvalidInput(f"limit must be between 1 and {MAX_POINTS}, got {limit}")
    readings.get_machine(session=session, machine_id=machine_id)
    row = registry.get_version(
        session=session, machine_id=machine_id, model_type=model_type, version=version
    )
    found = repository.points_page(
        session, model_id=row.id, start=window.start, end=window.end, limit=limit + 1
    )
    rows = found[:limit]
    points = [
        PredictionPointRead(
            ts=r.ts,
            origin=r.origin,
            lead_seconds=(r.ts - r.origin).total_seconds(),
            predicted=r.predicted,
            lower=r.lower,
            upper=r.upper,
            actual=r.actual,
            residual=None if r.actual is None or r.predicted is None else r.actual - r.predicted,
            score=r.score,
            flagged=r.flagged,
            arm=r.arm,
            batch_id=r.batch_id,
        )
        for r in rows
    ]
    batches = repository.batches(session, {int(r.batch_id) for r in rows})
    return PredictionPage(
        machine_id=machine_id,
        model_type=model_type,
        version=row.version,
        start=window.start,
        end=window.end,
        limit=limit,
        n=len(points),
        truncated=len(found) > limit,
        points=points,
        batches=[PredictionBatchRead.model_validate(b, from_attributes=True) for b in batches],
    )
