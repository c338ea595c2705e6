"""``/api/ingest/preview``: parse a session file from GitHub or inline content, store nothing."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/ingest", tags=["ingest"])
