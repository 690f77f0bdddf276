"""HTTP front door of KPIs. STUB: filled by its branch."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
