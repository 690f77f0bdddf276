"""JSON routes of the promotion gate (promote, roll back, the gate's verdicts)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/machines/{machine_id}/models/{model_type}", tags=["registry"])
