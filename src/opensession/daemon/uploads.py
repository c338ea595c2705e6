"""Sending one queued session to the server: read it from its source, sanitize it as the
privacy settings say, upload it, and record the outcome in the queue."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from opensession.config.settings import Settings
from opensession.daemon.queue import QueuedUpload, UploadQueue
from opensession.daemon.scope import UploadScope
from opensession.localdb.store import LocalIndex

REFUSED_STATUSES = frozenset({400, 413, 422})
"""Answers that say the session itself is unacceptable: retrying cannot help."""


@dataclass(frozen=True)
class SendOutcome:
    """``uploaded`` (with its URL), ``dropped`` (can never be sent: gone, excluded, refused) or
    ``retry`` (kept, with the wait before the next try); ``message`` says what happened."""

    status: Literal["uploaded", "dropped", "retry"]
    message: str
    url: str | None = None
    events: int = 0


def queue_stale(
    index: LocalIndex,
    queue: UploadQueue,
    settings: Settings,
    source_paths: list[str] | None,
    delay: float,
) -> list[str]:
    """Queue, to go up after ``delay`` seconds, the sessions of ``source_paths`` (all when
    None) that are in the daemon's selection and that the server lacks in their current
    version; none without a connected server. Returns their ids."""
    if not settings.server_url or source_paths == []:
        return []
    in_scope = UploadScope.from_settings(settings).sessions(index.db, source_paths)
    stale = queue.stale(in_scope, settings.server_url)
    if stale:
        queue.enqueue(stale, delay)
    return stale


def send(
    index: LocalIndex, queue: UploadQueue, item: QueuedUpload, settings: Settings
) -> SendOutcome:
    """Try once to upload ``item`` to the server of ``settings``; the queue records the result."""
    from opensession.client import ClientError
    from opensession.localdb.refs import ResolvedSession, SessionRefError, load_session
    from opensession.localdb.store import SessionNotFoundError
    from opensession.publishing import ExcludedProjectError, prepare_session, upload_to_server

    try:
        row = index.get_session(item.session_id)
        session = load_session(ResolvedSession(row.id, Path(row.source_path), row.tool))
        prepared = prepare_session(session, settings)
    except (SessionNotFoundError, SessionRefError, ExcludedProjectError) as exc:
        queue.drop(item)
        return SendOutcome("dropped", f"not uploading {item.session_id}: {exc}")
    try:
        outcome = upload_to_server(
            prepared,
            settings.server_url,
            settings.api_key,
            visibility="private" if settings.daemon_private else "public",
            retries=0,
        )
    except ClientError as exc:
        if exc.status in REFUSED_STATUSES:
            queue.drop(item)
            return SendOutcome("dropped", f"the server refused {item.session_id}: {exc}")
        wait = queue.failed(item, str(exc))
        return SendOutcome(
            "retry", f"uploading {item.session_id} failed ({exc}); next try in {wait:.0f} s"
        )
    events = session.stats.event_count
    queue.uploaded(item, settings.server_url, outcome["id"], events, session.context.updated_at)
    return SendOutcome(
        "uploaded", f"uploaded {item.session_id} ({events} events)", outcome["url"], events
    )
