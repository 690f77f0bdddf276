"""HTTP front door of notification deliveries. STUB: filled by its branch."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
