"""JSON routes of A/B tests (``/api/v1/model-performance/ab-test…``)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/model-performance", tags=["ab-tests"])
