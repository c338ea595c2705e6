"""The upload queue, kept in the local index so that it survives the daemon being killed.

A session is queued when its source changes and it is in the daemon's scope; it leaves the
queue only once the server has accepted the version that was queued. Uploading replaces the
server's copy of a session, so an upload repeated after a crash never duplicates it, and
``uploads`` remembers which version each server has, so an unchanged session is not sent again.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

from opensession.localdb.store import timestamp

MAX_WAIT_SECONDS = 30.0
"""The longest a queued session waits for its log to go quiet: one written without pause
still goes up this often."""
MAX_BACKOFF_SECONDS = 60.0
"""The longest wait between two attempts at one session while the server fails."""


@dataclass(frozen=True)
class QueuedUpload:
    """A session waiting to be uploaded, and how its earlier attempts went."""

    session_id: str
    generation: int
    """Bumped each time the session is queued again: a newer version supersedes an upload of
    the older one that was under way."""
    due_at: float
    attempts: int
    last_error: str | None


class UploadQueue:
    """The queue over a connection to the local index (one per thread)."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    @contextmanager
    def _write(self) -> Iterator[None]:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def stale(self, session_ids: Iterable[str] | None, server_url: str) -> list[str]:
        """Of ``session_ids`` (every indexed session when None), those whose indexed version is
        not the one ``server_url`` last accepted."""
        sql = (
            "SELECT s.id FROM sessions s LEFT JOIN uploads u "
            "ON u.session_id = s.id AND u.server_url = ? "
            "WHERE (u.session_id IS NULL OR u.event_count != s.event_count "
            "OR u.updated_at != s.updated_at)"
        )
        if session_ids is None:
            return [row[0] for row in self.db.execute(sql, (server_url,))]
        stale: list[str] = []
        ids = list(session_ids)
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ", ".join("?" * len(chunk))
            rows = self.db.execute(f"{sql} AND s.id IN ({marks})", (server_url, *chunk))
            stale.extend(row[0] for row in rows)
        return stale

    def enqueue(self, session_ids: Iterable[str], delay: float, now: float | None = None) -> int:
        """Queue each session to go up after ``delay`` seconds of quiet: one already queued
        waits from now again (a session being written goes up once it pauses, or at the latest
        ``MAX_WAIT_SECONDS`` after it was first queued) and gets a new generation; one whose
        uploads are failing keeps its backoff. Returns how many were queued."""
        now = now if now is not None else time.time()
        count = 0
        with self._write():
            for session_id in session_ids:
                self.db.execute(
                    "INSERT INTO upload_queue (session_id, queued_at, due_at) VALUES (?, ?, ?) "
                    "ON CONFLICT (session_id) DO UPDATE SET generation = generation + 1, "
                    "due_at = CASE WHEN attempts > 0 THEN max(excluded.due_at, due_at) "
                    "ELSE min(excluded.due_at, queued_at + ?) END",
                    (session_id, now, now + delay, MAX_WAIT_SECONDS),
                )
                count += 1
        return count

    def due(self, now: float | None = None, limit: int = 20) -> list[QueuedUpload]:
        """The queued uploads whose time has come, the longest waiting first."""
        rows = self.db.execute(
            "SELECT session_id, generation, due_at, attempts, last_error FROM upload_queue "
            "WHERE due_at <= ? ORDER BY due_at LIMIT ?",
            (now if now is not None else time.time(), limit),
        )
        return [QueuedUpload(*row) for row in rows]

    def next_due(self) -> float | None:
        """When the next queued upload is due (a Unix time), or None when the queue is empty."""
        value: float | None = self.db.execute("SELECT min(due_at) FROM upload_queue").fetchone()[0]
        return value

    def depth(self) -> int:
        """How many sessions wait to be uploaded."""
        count: int = self.db.execute("SELECT count(*) FROM upload_queue").fetchone()[0]
        return count

    def uploaded(
        self,
        item: QueuedUpload,
        server_url: str,
        server_id: str,
        event_count: int,
        updated_at: datetime,
    ) -> None:
        """Record that ``server_url`` has this version of the session and mark it uploaded in
        the index; it leaves the queue unless it was queued again meanwhile."""
        now = timestamp(datetime.now(UTC))
        with self._write():
            self.db.execute(
                "INSERT INTO uploads (session_id, server_url, server_id, event_count, updated_at, "
                "uploaded_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (session_id, server_url) DO "
                "UPDATE SET server_id = excluded.server_id, event_count = excluded.event_count, "
                "updated_at = excluded.updated_at, uploaded_at = excluded.uploaded_at",
                (item.session_id, server_url, server_id, event_count, timestamp(updated_at), now),
            )
            self.db.execute(
                "UPDATE sessions SET sync_state = 'uploaded', server_id = ?, synced_at = ? "
                "WHERE id = ?",
                (server_id, now, item.session_id),
            )
            self.db.execute(
                "DELETE FROM upload_queue WHERE session_id = ? AND generation = ?",
                (item.session_id, item.generation),
            )

    def failed(self, item: QueuedUpload, error: str, now: float | None = None) -> float:
        """Count a failed attempt and wait longer before the next (doubling, up to
        ``MAX_BACKOFF_SECONDS``); returns the wait."""
        wait = min(2.0 ** (item.attempts + 1), MAX_BACKOFF_SECONDS)
        with self._write():
            self.db.execute(
                "UPDATE upload_queue SET attempts = attempts + 1, last_error = ?, due_at = ? "
                "WHERE session_id = ?",
                (error, (now if now is not None else time.time()) + wait, item.session_id),
            )
        return wait

    def drop(self, item: QueuedUpload) -> None:
        """Take a session that can never be uploaded (gone, excluded, refused) off the queue."""
        with self._write():
            self.db.execute(
                "DELETE FROM upload_queue WHERE session_id = ? AND generation = ?",
                (item.session_id, item.generation),
            )

    def request_source(self, path: str, tool: str) -> None:
        """Ask the daemon to read ``path`` now (what an agent hook does)."""
        with self._write():
            self.db.execute(
                "INSERT INTO pending_sources (path, tool, requested_at) VALUES (?, ?, ?) "
                "ON CONFLICT (path) DO UPDATE SET requested_at = excluded.requested_at",
                (path, tool, timestamp(datetime.now(UTC))),
            )

    def take_requested_sources(self) -> list[tuple[str, str]]:
        """The sources hooks asked to be read, as (path, tool), removed from the table."""
        with self._write():
            rows = self.db.execute("SELECT path, tool FROM pending_sources").fetchall()
            self.db.execute("DELETE FROM pending_sources")
        return [(path, tool) for path, tool in rows]
