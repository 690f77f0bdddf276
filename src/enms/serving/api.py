"""JSON route of served predictions (``POST /machines/{id}/models/{type}/predict``)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/machines/{machine_id}/models/{model_type}", tags=["predictions"])
