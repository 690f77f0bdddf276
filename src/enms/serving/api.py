"""JSON route of served predictions (``POST /machines/{id}/models/{type}/predict``).

The handler holds no request-wide transaction (no ``SessionDep``): :func:`.service.serve`
reads in one short unit of work, predicts with none open and writes the log in another, so
a slow model never holds the write lock. The loaded-artifact cache lives on the application
(``app.state.model_cache``), created on first use.
"""

from __future__ import annotations

import threading

from fastapi import APIRouter, Request

from enms.auth.deps import requires
from enms.auth.roles import Role
from enms.core.clock import Clock
from enms.core.db import SessionFactory
from enms.core.ids import Id
from enms.serving import service
from enms.serving.cache import ModelCache
from enms.serving.schemas import PredictRequest, PredictResponse

router = APIRouter(prefix="/machines/{machine_id}/models/{model_type}", tags=["predictions"])
_CACHE_LOCK = threading.Lock()


def model_cache(request: Request) -> ModelCache:
    """The application's cache of loaded artifacts (one per app)."""
    state = request.app.state
    with _CACHE_LOCK:
        cache = getattr(state, "model_cache", None)
        if cache is None:
            cache = state.model_cache = ModelCache()
    assert isinstance(cache, ModelCache)
    return cache


@router.post("/predict", dependencies=[requires(Role.operator)])
def predict(
    machine_id: Id, model_type: str, body: PredictRequest, request: Request
) -> PredictResponse:
    """Expected energy (baselines), forecasts with a 90 % interval (forecasters) or anomaly
    scores and flags (detectors) for the given timestamps and drivers, from the champion — or,
    while an A/B test runs, from the arm each row is assigned to (a hash of the test id and
    the row's timestamp slot, or of ``unit_key``). Each row names the version that answered,
    its arm and the test. With ``log`` (default) the predictions go to the prediction log
    (batch source ``served``) with their arm, and get their actual when the reading arrives.

    422 names missing driver columns or a bad row; 404 an unknown machine or model type;
    409 says what to do when nothing can answer (no champion, an external model).
    """
    factory: SessionFactory = request.app.state.session_factory
    clock: Clock = request.app.state.clock
    return service.serve(
        factory=factory,
        cache=model_cache(request),
        clock=clock,
        machine_id=machine_id,
        model_type=model_type,
        request=body,
    )
