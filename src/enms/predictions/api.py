"""JSON route of the prediction log: a version's logged points in a window."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from enms.api.deps import SessionDep
from enms.core.ids import Id
from enms.core.timewindow import Window
from enms.predictions import queries
from enms.predictions.schemas import PredictionPage

router = APIRouter(prefix="/machines/{machine_id}/models/{model_type}", tags=["predictions"])


@router.get("/predictions", response_model_by_alias=True)
def logged_predictions(
    machine_id: Id,
    model_type: str,
    session: SessionDep,
    start: Annotated[str | None, Query(alias="from", description="ISO 8601, inclusive")] = None,
    end: Annotated[str | None, Query(alias="to", description="ISO 8601, exclusive")] = None,
    version: Annotated[Id | None, Query(description="Default: the champion")] = None,
    limit: Annotated[
        int, Query(ge=1, le=queries.MAX_POINTS, description="Most points returned")
    ] = queries.MAX_POINTS,
) -> PredictionPage:
    """Logged points (targets in ``[from, to)``, at most ``limit``, 10,000 by default) of a
    version, with the batches they came from and the drivers each used."""
    return queries.logged_points(
        session=session,
        machine_id=machine_id,
        model_type=model_type,
        window=Window.parse(start, end),
        version=version,
        limit=limit,
    )
