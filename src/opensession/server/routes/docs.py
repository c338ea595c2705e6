"""``/docs`` (HTML, or the markdown source for ``Accept: text/markdown``) and ``/llms.txt``."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["docs"])
