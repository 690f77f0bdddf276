"""HTTP front door of alerts (lifecycle). STUB: filled by its branch."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
