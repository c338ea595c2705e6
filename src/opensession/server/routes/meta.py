"""``/api/health`` and ``/api/capabilities``: what is running and which features it offers."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from opensession import __version__
from opensession.server.context import ServerContext, server_context

router = APIRouter(prefix="/api", tags=["meta"])
Context = Annotated[ServerContext, Depends(server_context)]


class Health(BaseModel):
    status: str
    version: str


class Capabilities(BaseModel):
    auth_enabled: bool
    upload_enabled: bool
    ingest_preview_enabled: bool
    gh_share_enabled: bool
    profile: str
    public_feed_enabled: bool


@router.get("/health")
def health() -> Health:
    return Health(status="ok", version=__version__)


@router.get("/capabilities")
def capabilities(context: Context) -> Capabilities:
    """Which features this deployment offers; the web UI shows and hides things by these."""
    settings = context.settings
    return Capabilities(
        auth_enabled=settings.auth_enabled,
        upload_enabled=settings.upload_enabled,
        ingest_preview_enabled=settings.ingest_preview_enabled,
        gh_share_enabled=settings.ingest_preview_enabled,
        profile=settings.profile,
        public_feed_enabled=settings.public_feed_enabled,
    )
