"""``GET /api/v1/machines/{machine_id}/anomalies``: the stored anomaly events of a machine."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from enms.anomalies import queries
from enms.anomalies.schemas import AnomalyPage
from enms.api.deps import ClockDep, SessionDep
from enms.core.ids import Id
from enms.core.timewindow import Window

router = APIRouter(prefix="/machines/{machine_id}", tags=["anomalies"])


@router.get("/anomalies", response_model_by_alias=True)
def anomalies(
    machine_id: Id,
    session: SessionDep,
    clock: ClockDep,
    start: Annotated[
        str | None, Query(alias="from", description="ISO 8601, inclusive; default: to − 7 days")
    ] = None,
    end: Annotated[
        str | None, Query(alias="to", description="ISO 8601, exclusive; default: now")
    ] = None,
    limit: Annotated[
        int, Query(ge=1, le=queries.MAX_EVENTS, description="Most events returned")
    ] = queries.DEFAULT_LIMIT,
) -> AnomalyPage:
    """Readings the champion anomaly detector flagged (``ts`` in ``[from, to)``, newest first),
    each with its energy, the expected energy, score, threshold, direction and reason."""
    return queries.anomalies_page(
        session=session,
        machine_id=machine_id,
        window=Window.parse(start, end),
        now=clock.now(),
        limit=limit,
    )
