"""What every request handler reaches: the settings, the database engine and the blob store."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request
from sqlalchemy import Engine

from opensession.server.blobs import BlobStore
from opensession.server.settings import ServerSettings


@dataclass(frozen=True)
class ServerContext:
    settings: ServerSettings
    engine: Engine
    blobs: BlobStore


def server_context(request: Request) -> ServerContext:
    """The app's context (a FastAPI dependency)."""
    context: ServerContext = request.app.state.context
    return context
