"""``/api/sessions``: upload, list, detail, raw HAIL download, delete."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/sessions", tags=["sessions"])
