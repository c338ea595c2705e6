"""The local SQLite index of every session on the machine: metadata, stats, sync state and
full-text search, kept up to date from the tools' logs by ``index_sources``."""

from __future__ import annotations

from opensession.localdb.store import (
    AmbiguousSessionError,
    LocalIndex,
    SearchHit,
    SessionNotFoundError,
    SessionRow,
    SessionStats,
    SourceState,
    find_repo_root,
)

__all__ = [
    "AmbiguousSessionError",
    "LocalIndex",
    "SearchHit",
    "SessionNotFoundError",
    "SessionRow",
    "SessionStats",
    "SourceState",
    "find_repo_root",
]
