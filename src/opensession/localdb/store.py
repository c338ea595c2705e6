"""The local index: one SQLite file caching every session's metadata, stats, sync state and text.

It is a cache of the tools' own logs, which stay the truth: a corrupt file is moved aside and
rebuilt. Reading it never imports the HAIL model (pydantic), so listings start fast.

Layout: ``sources`` holds one row per session file, folder or database with the stat it had
when it was read; ``sessions`` one row per session read from it (a source can hold several:
sub-agents, Cursor databases, Aider runs); ``sessions_fts`` the searchable text of each session.
Beside the file, ``parse-state/`` keeps the saved parses of large append-only logs, from which
the indexer reads on when they grow (``IncrementalParse.save``).
"""

from __future__ import annotations

import hashlib
import logging
import os
import sqlite3
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Self

import orjson

from opensession.localdb.migrations import migrate

if TYPE_CHECKING:
    from opensession.hail.model import Session

log = logging.getLogger(__name__)

DB_FILENAME = "local.db"
PARSE_STATE_DIRNAME = "parse-state"
BUSY_TIMEOUT_MS = 30_000
"""How long a writer waits for another process's transaction before giving up."""

FTS_MESSAGES_MAX_CHARS = 1_000_000
"""Searchable message text kept per session: the first million characters (about 1 MB), so that
one huge log cannot bloat the index; words beyond it are not found by search."""
FTS_OTHER_MAX_CHARS = 200_000
"""Searchable tool names, file paths and commands kept per session (each, in characters)."""

_DAMAGED = frozenset({11, 26})
"""SQLite's primary result codes for a damaged file: SQLITE_CORRUPT and SQLITE_NOTADB."""

SyncState = Literal["local", "uploaded", "in_git"]
SYNC_STATES: tuple[SyncState, ...] = ("local", "uploaded", "in_git")


class SessionNotFoundError(LookupError):
    """No indexed session has this id or id prefix."""

    def __init__(self, ref: str) -> None:
        self.ref = ref
        super().__init__(f"no session in the local index matches {ref!r}; run `opensession index`")


class AmbiguousSessionError(LookupError):
    """Several indexed sessions start with this id prefix."""

    def __init__(self, prefix: str, candidates: Sequence[str]) -> None:
        self.prefix = prefix
        self.candidates = list(candidates)
        shown = ", ".join(self.candidates)
        super().__init__(f"session id prefix {prefix!r} is ambiguous: {shown} …; type more of it")


@dataclass(frozen=True)
class SourceState:
    """A source as it was on disk when last read, and whether reading it failed."""

    path: str
    tool: str
    size: int
    """Bytes, with the files of a folder source or of a file's sidecar folder (``stat_source``)."""
    mtime_ns: int
    inode: int
    parse_offset: int = 0
    """Where a resumed parse of the log goes on from: the end of its last complete line read
    (the size when read, for a source parsed whole every time it changes)."""
    parse_error: str | None = None

    def same_file(self, other: SourceState) -> bool:
        """Whether ``other`` is the same, unchanged file (size, mtime and inode all equal)."""
        return (self.size, self.mtime_ns, self.inode) == (other.size, other.mtime_ns, other.inode)


@dataclass(frozen=True)
class SessionStats:
    """A session's HAIL stats, as indexed."""

    event_count: int = 0
    message_count: int = 0
    tool_call_count: int = 0
    task_count: int = 0
    duration_seconds: int = 0
    total_input_tokens: int = 0
    total_output_tokens: int = 0
    user_message_count: int = 0
    files_changed: int = 0
    lines_added: int = 0
    lines_removed: int = 0


STATS_COLUMNS: tuple[str, ...] = tuple(f.name for f in fields(SessionStats))


@dataclass(frozen=True)
class SessionRow:
    """One indexed session: what listings, references and sync need without reading the log."""

    id: str
    tool: str
    model: str
    provider: str
    title: str | None
    cwd: str | None
    repo_root: str | None
    """The git repository holding ``cwd`` (found on disk), else the log's repository URL."""
    branch: str | None
    commit: str | None
    created_at: datetime
    updated_at: datetime
    stats: SessionStats
    source_path: str
    is_auxiliary: bool
    parent_session_id: str | None
    sync_state: SyncState
    server_id: str | None
    synced_at: datetime | None

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (timestamps in ISO 8601, stats nested)."""
        return {
            "id": self.id,
            "tool": self.tool,
            "model": self.model,
            "provider": self.provider,
            "title": self.title,
            "cwd": self.cwd,
            "repo_root": self.repo_root,
            "branch": self.branch,
            "commit": self.commit,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
            "stats": {name: getattr(self.stats, name) for name in STATS_COLUMNS},
            "source_path": self.source_path,
            "is_auxiliary": self.is_auxiliary,
            "parent_session_id": self.parent_session_id,
            "sync_state": self.sync_state,
            "server_id": self.server_id,
            "synced_at": self.synced_at.isoformat() if self.synced_at else None,
        }


@dataclass(frozen=True)
class SearchHit:
    """A session matching a search, with the best-matching passage marked."""

    session: SessionRow
    snippet: str


_SESSION_COLUMNS = (
    "id, tool, model, provider, title, cwd, repo_root, branch, commit_hash, created_at, "
    f"updated_at, {', '.join(STATS_COLUMNS)}, source_path, is_auxiliary, parent_session_id, "
    "sync_state, server_id, synced_at"
)


def default_path() -> Path:
    """``local.db`` in opensession's data folder."""
    from opensession.config.paths import data_dir

    return data_dir() / DB_FILENAME


def timestamp(value: datetime) -> str:
    """``value`` as stored: UTC, fixed width, so that text order is time order."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class LocalIndex:
    """The local SQLite index. Open it with ``LocalIndex.open()``; use it as a context manager.

    ``warning`` tells, once opened, whether a corrupt file was moved aside and rebuilt.
    """

    def __init__(self, db: sqlite3.Connection, path: Path, warning: str | None = None) -> None:
        self.db = db
        self.path = path
        self.warning = warning
        self._repo_roots: dict[str, str | None] = {}
        """Git working tree of each session cwd seen (sessions of a project share one)."""

    @classmethod
    def open(cls, path: Path | None = None) -> LocalIndex:
        """Open (creating or migrating as needed) the index at ``path`` (``default_path()``).

        A file that is not a readable SQLite database is renamed ``local.db.corrupt-<UTC time>``
        and a fresh index is created; ``warning`` then says so (it is logged too).
        """
        path = path or default_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            return cls(_connect(path), path)
        except sqlite3.DatabaseError as exc:
            # Only a damaged file is set aside; a locked or read-only one is the user's to fix.
            if not is_damaged(exc):
                raise
            aside = _move_aside(path)
            warning = (
                f"the local index {path} was unreadable ({exc}); moved it to {aside} and "
                "started a new one (it is rebuilt from the tools' logs by `opensession index`)"
            )
            log.warning(warning)
            return cls(_connect(path), path, warning)

    def close(self) -> None:
        """Close the connection."""
        self.db.close()

    def set_aside(self) -> Path:
        """Close the index and move its file aside, after damage found while using it (it is a
        cache: ``opensession index`` rebuilds it). Returns where the file went."""
        self.close()
        return set_aside_damaged(self.path)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- sources (the indexer's side) ---

    def source_states(self, paths: Iterable[str] | None = None) -> dict[str, SourceState]:
        """The indexed sources by path, as last read: every one, or those of ``paths``."""
        sql = "SELECT path, tool, size, mtime_ns, inode, parse_offset, parse_error FROM sources"
        if paths is None:
            return {row[0]: SourceState(*row) for row in self.db.execute(sql)}
        states: dict[str, SourceState] = {}
        wanted = list(paths)
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            marks = ", ".join("?" * len(chunk))
            rows = self.db.execute(f"{sql} WHERE path IN ({marks})", chunk)
            states.update((row[0], SourceState(*row)) for row in rows)
        return states

    def store_source(self, source: SourceState, sessions: Sequence[Session]) -> None:
        """Record ``source`` and make ``sessions`` its sessions, in one transaction: sessions it
        no longer holds are removed; sync state of sessions kept is preserved."""
        records = [_session_record(s, source.path, self._repo_roots) for s in sessions]
        with self._write():
            self._upsert_source(replace(source, parse_error=None))
            for record, text in records:
                (rowid,) = self.db.execute(_UPSERT_SESSION, record).fetchone()
                self.db.execute("DELETE FROM sessions_fts WHERE rowid = ?", (rowid,))
                self.db.execute(
                    "INSERT INTO sessions_fts (rowid, messages, tools, files, commands) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (rowid, *text),
                )
            kept = orjson.dumps([record["id"] for record, _ in records]).decode()
            self.db.execute(
                "DELETE FROM sessions WHERE source_path = ? "
                "AND id NOT IN (SELECT value FROM json_each(?))",
                (source.path, kept),
            )

    def record_failure(self, source: SourceState, error: str) -> None:
        """Record that ``source`` (as stat'ed) could not be read, dropping its sessions: it is
        read again only once it changes."""
        with self._write():
            self._upsert_source(replace(source, parse_error=error))
            self.db.execute("DELETE FROM sessions WHERE source_path = ?", (source.path,))

    def remove_sources(self, paths: Iterable[str]) -> int:
        """Forget sources (their sessions and saved parses too); returns how many were indexed."""
        removed: list[str] = []
        with self._write():
            for path in paths:
                self.db.execute("DELETE FROM sessions WHERE source_path = ?", (path,))
                if self.db.execute("DELETE FROM sources WHERE path = ?", (path,)).rowcount:
                    removed.append(path)
        for path in removed:
            self.parse_state_file(path).unlink(missing_ok=True)
        return len(removed)

    def parse_state_file(self, source_path: str) -> Path:
        """Where the saved parse of the log at ``source_path`` is kept: in ``parse-state/``
        beside the index, named by a digest of the path."""
        name = hashlib.blake2b(os.fsencode(source_path), digest_size=16).hexdigest()
        return self.path.with_name(PARSE_STATE_DIRNAME) / f"{name}.pickle"

    def source_cwd(self, path: str) -> str | None:
        """The working directory of the main session read from the source at ``path``."""
        row = self.db.execute(
            "SELECT cwd FROM sessions WHERE source_path = ? ORDER BY is_auxiliary, rowid LIMIT 1",
            (path,),
        ).fetchone()
        return row[0] if row else None

    def failed_sources(self) -> list[SourceState]:
        """Sources whose last read failed, with their error, by path."""
        rows = self.db.execute(
            "SELECT path, tool, size, mtime_ns, inode, parse_offset, parse_error FROM sources "
            "WHERE parse_error IS NOT NULL ORDER BY path"
        )
        return [SourceState(*row) for row in rows]

    # --- sessions (the readers' side) ---

    def list_sessions(
        self,
        *,
        tool: str | None = None,
        since: datetime | None = None,
        repo: str | None = None,
        search: str | None = None,
        include_auxiliary: bool = False,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[SessionRow]:
        """Sessions newest first (by creation time), filtered, in one indexed query.

        ``repo`` is a ``repo_root`` as stored (see ``find_repo_root``); ``search`` keeps only
        sessions whose text matches (see ``search``); ``offset`` skips the newest ones, so
        ``HEAD~N`` is ``list_sessions(limit=1, offset=N)``. Sub-agent sessions are left out
        unless ``include_auxiliary``.
        """
        where, params = _filters(tool, since, repo, include_auxiliary)
        if search:
            where.append("rowid IN (SELECT rowid FROM sessions_fts WHERE sessions_fts MATCH ?)")
            params.append(fts_query(search))
        sql = f"SELECT {_SESSION_COLUMNS} FROM sessions"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY created_at DESC, rowid DESC LIMIT ? OFFSET ?"
        params += [-1 if limit is None else limit, offset]
        return [_row(row) for row in self.db.execute(sql, params)]

    def search(
        self,
        query: str,
        *,
        tool: str | None = None,
        since: datetime | None = None,
        repo: str | None = None,
        include_auxiliary: bool = True,
        limit: int = 50,
        marks: tuple[str, str] = ("[", "]"),
    ) -> list[SearchHit]:
        """Sessions whose messages, tool names, file paths or commands hold every word of
        ``query`` (a word in quotes is a phrase; ``main.py`` matches that path), best match
        first, each with a snippet whose matching words are wrapped in ``marks``."""
        where, params = _filters(tool, since, repo, include_auxiliary, table="s.")
        where.insert(0, "sessions_fts MATCH ?")
        columns = ", ".join(f"s.{name}" for name in _SESSION_COLUMNS.split(", "))
        sql = (
            f"SELECT {columns}, snippet(sessions_fts, -1, ?, ?, '…', 12) "
            "FROM sessions_fts JOIN sessions s ON s.rowid = sessions_fts.rowid "
            f"WHERE {' AND '.join(where)} ORDER BY sessions_fts.rank LIMIT ?"
        )
        rows = self.db.execute(sql, [*marks, fts_query(query), *params, limit])
        return [SearchHit(_row(row[:-1]), row[-1]) for row in rows]

    def get_session(self, ref: str) -> SessionRow:
        """The session whose id is ``ref``, or the only one whose id starts with it.

        Raises SessionNotFoundError or AmbiguousSessionError (naming a few candidates)."""
        sql = f"SELECT {_SESSION_COLUMNS} FROM sessions WHERE "
        exact = self.db.execute(sql + "id = ?", (ref,)).fetchone()
        if exact is not None:
            return _row(exact)
        # A range on the primary key is the indexed form of "starts with" (LIKE is not).
        rows = self.db.execute(
            sql + "id >= ? AND id < ? ORDER BY id LIMIT 5", (ref, ref + "\U0010ffff")
        ).fetchall()
        if not rows or not ref:
            raise SessionNotFoundError(ref)
        if len(rows) > 1:
            raise AmbiguousSessionError(ref, [row[0] for row in rows])
        return _row(rows[0])

    def children(self, session_id: str) -> list[SessionRow]:
        """The sub-agent sessions whose parent is ``session_id``, oldest first."""
        rows = self.db.execute(
            f"SELECT {_SESSION_COLUMNS} FROM sessions WHERE parent_session_id = ? "
            "ORDER BY created_at, rowid",
            (session_id,),
        )
        return [_row(row) for row in rows]

    def count_sessions(self, *, include_auxiliary: bool = True) -> int:
        """How many sessions are indexed."""
        sql = "SELECT count(*) FROM sessions"
        if not include_auxiliary:
            sql += " WHERE is_auxiliary = 0"
        count: int = self.db.execute(sql).fetchone()[0]
        return count

    def set_sync_state(
        self,
        session_id: str,
        state: SyncState,
        *,
        server_id: str | None = None,
        synced_at: datetime | None = None,
    ) -> None:
        """Record where a session was published (kept across re-indexing of its source)."""
        if state not in SYNC_STATES:
            raise ValueError(f"sync state must be one of {', '.join(SYNC_STATES)}, not {state!r}")
        when = None if state == "local" else timestamp(synced_at or datetime.now(UTC))
        with self._write():
            updated = self.db.execute(
                "UPDATE sessions SET sync_state = ?, server_id = ?, synced_at = ? WHERE id = ?",
                (state, server_id, when, session_id),
            ).rowcount
        if not updated:
            raise SessionNotFoundError(session_id)

    # --- internals ---

    def _upsert_source(self, source: SourceState) -> None:
        self.db.execute(
            "INSERT INTO sources (path, tool, size, mtime_ns, inode, parse_offset, parse_error, "
            "indexed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (path) DO UPDATE SET "
            "tool = excluded.tool, size = excluded.size, mtime_ns = excluded.mtime_ns, "
            "inode = excluded.inode, parse_offset = excluded.parse_offset, "
            "parse_error = excluded.parse_error, indexed_at = excluded.indexed_at",
            (
                source.path,
                source.tool,
                source.size,
                source.mtime_ns,
                source.inode,
                source.parse_offset,
                source.parse_error,
                timestamp(datetime.now(UTC)),
            ),
        )

    def _write(self) -> _WriteTransaction:
        return _WriteTransaction(self.db)


class _WriteTransaction:
    """``BEGIN IMMEDIATE`` … ``COMMIT``: takes the write lock up front, so a concurrent writer
    waits (busy timeout) instead of failing on a lock upgrade mid-transaction."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: type[BaseException] | None, *exc: object) -> None:
        self.db.execute("ROLLBACK" if exc_type else "COMMIT")


_UPSERT_SESSION = f"""
INSERT INTO sessions (
    id, source_path, tool, model, provider, title, cwd, repo_root, branch, commit_hash,
    created_at, updated_at, {", ".join(STATS_COLUMNS)}, is_auxiliary, parent_session_id
) VALUES (
    :id, :source_path, :tool, :model, :provider, :title, :cwd, :repo_root, :branch, :commit,
    :created_at, :updated_at, {", ".join(":" + name for name in STATS_COLUMNS)},
    :is_auxiliary, :parent_session_id
)
ON CONFLICT (id) DO UPDATE SET
    source_path = excluded.source_path, tool = excluded.tool, model = excluded.model,
    provider = excluded.provider, title = excluded.title, cwd = excluded.cwd,
    repo_root = excluded.repo_root, branch = excluded.branch, commit_hash = excluded.commit_hash,
    created_at = excluded.created_at, updated_at = excluded.updated_at,
    {", ".join(f"{name} = excluded.{name}" for name in STATS_COLUMNS)},
    is_auxiliary = excluded.is_auxiliary, parent_session_id = excluded.parent_session_id
RETURNING rowid
"""


def _connect(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    try:
        db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        # Reading the schema is what fails on a file that is not a database or is malformed.
        db.execute("SELECT count(*) FROM sqlite_master").fetchone()
        _use_wal(db)
        db.execute("PRAGMA synchronous = NORMAL")
        db.execute("PRAGMA foreign_keys = ON")
        migrate(db)
    except BaseException:
        db.close()
        raise
    return db


def _use_wal(db: sqlite3.Connection) -> None:
    """Switch to WAL, waiting while another process holds the file: the switch needs an
    exclusive lock and SQLite does not apply the busy timeout to it."""
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            if db.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                db.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def set_aside_damaged(path: Path) -> Path:
    """Move a damaged index file (and its WAL) aside; returns where it went."""
    aside = _move_aside(path)
    log.warning("the local index %s was damaged; moved it to %s", path, aside)
    return aside


def is_damaged(exc: sqlite3.DatabaseError) -> bool:
    """Whether SQLite reports the file itself as damaged: corrupt, or not a database."""
    return (getattr(exc, "sqlite_errorcode", None) or 0) & 0xFF in _DAMAGED


def _move_aside(path: Path) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    aside = path.with_name(f"{path.name}.corrupt-{stamp}")
    path.replace(aside)
    # A leftover write-ahead log belongs to the corrupt file; replayed into a new one it would
    # corrupt that too.
    for suffix in ("-wal", "-shm"):
        companion = path.with_name(path.name + suffix)
        if companion.exists():
            companion.replace(aside.with_name(aside.name + suffix))
    return aside


def _filters(
    tool: str | None,
    since: datetime | None,
    repo: str | None,
    include_auxiliary: bool,
    table: str = "",
) -> tuple[list[str], list[Any]]:
    where: list[str] = []
    params: list[Any] = []
    if tool:
        where.append(f"{table}tool = ?")
        params.append(tool)
    if repo:
        where.append(f"{table}repo_root = ?")
        params.append(repo)
    if since:
        where.append(f"{table}created_at >= ?")
        params.append(timestamp(since))
    if not include_auxiliary:
        where.append(f"{table}is_auxiliary = 0")
    return where, params


def fts_query(text: str) -> str:
    """A user's search text as an FTS5 query: every word required, each taken literally (so
    ``-``, ``.``, ``/`` and ``:`` in paths and commands are not FTS operators)."""
    words = text.split()
    if not words:
        raise ValueError("the search text is empty")
    return " AND ".join('"' + word.replace('"', '""') + '"' for word in words)


def _row(row: Sequence[Any]) -> SessionRow:
    stats_end = 11 + len(STATS_COLUMNS)
    (source_path, auxiliary, parent, sync_state, server_id, synced_at) = row[stats_end:]
    return SessionRow(
        id=row[0],
        tool=row[1],
        model=row[2],
        provider=row[3],
        title=row[4],
        cwd=row[5],
        repo_root=row[6],
        branch=row[7],
        commit=row[8],
        created_at=datetime.fromisoformat(row[9]),
        updated_at=datetime.fromisoformat(row[10]),
        stats=SessionStats(*row[11:stats_end]),
        source_path=source_path,
        is_auxiliary=bool(auxiliary),
        parent_session_id=parent,
        sync_state=sync_state,
        server_id=server_id,
        synced_at=datetime.fromisoformat(synced_at) if synced_at else None,
    )


# --- from a HAIL session to its row and searchable text ---


def find_repo_root(path: Path) -> Path | None:
    """The git working tree holding ``path`` (the nearest folder with a ``.git``), if any."""
    for folder in (path, *path.parents):
        if (folder / ".git").exists():
            return folder
    return None


def _repo_root(cwd: str | None, git: dict[str, Any], known: dict[str, str | None]) -> str | None:
    if cwd and cwd not in known:
        # Sessions of one project share a cwd: walking up the disk once per cwd is enough.
        try:
            found = find_repo_root(Path(cwd))
        except OSError:
            found = None
        known[cwd] = str(found) if found else None
    root = known.get(cwd) if cwd else None
    url = git.get("repository_url")
    return root or (url if isinstance(url, str) else None)


def _session_record(
    session: Session, source_path: str, repo_roots: dict[str, str | None]
) -> tuple[dict[str, Any], tuple[str, str, str, str]]:
    context = session.context
    attributes = context.attributes
    git = attributes.get("git")
    git = git if isinstance(git, dict) else {}
    cwd = attributes.get("cwd")
    cwd = cwd if isinstance(cwd, str) else None
    parent = attributes.get("parent_session_id")
    if not isinstance(parent, str) and context.is_auxiliary and context.related_session_ids:
        parent = context.related_session_ids[0]
    record: dict[str, Any] = {
        "id": session.session_id,
        "source_path": source_path,
        "tool": session.agent.tool,
        "model": session.agent.model,
        "provider": session.agent.provider,
        "title": context.title,
        "cwd": cwd,
        "repo_root": _repo_root(cwd, git, repo_roots),
        "branch": _text(git.get("branch")),
        "commit": _text(git.get("commit_hash") or git.get("commit")),
        "created_at": timestamp(context.created_at),
        "updated_at": timestamp(context.updated_at),
        **{name: getattr(session.stats, name) for name in STATS_COLUMNS},
        "is_auxiliary": context.is_auxiliary,
        "parent_session_id": parent if isinstance(parent, str) else None,
    }
    return record, _searchable_text(session)


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _searchable_text(session: Session) -> tuple[str, str, str, str]:
    from opensession.hail.model import (
        AgentMessage,
        FileCreate,
        FileDelete,
        FileEdit,
        FileRead,
        ShellCommand,
        ToolCall,
        UserMessage,
    )

    messages = _Capped(FTS_MESSAGES_MAX_CHARS)
    files = _Capped(FTS_OTHER_MAX_CHARS)
    commands = _Capped(FTS_OTHER_MAX_CHARS)
    tools: dict[str, None] = {}
    for event in session.events:
        kind = event.event_type
        if isinstance(kind, UserMessage | AgentMessage):
            messages.add(event.text())
        elif isinstance(kind, ToolCall):
            tools[kind.data.name] = None
        elif isinstance(kind, FileRead | FileEdit | FileCreate | FileDelete):
            files.add(kind.data.path)
        elif isinstance(kind, ShellCommand):
            commands.add(kind.data.command)
    return messages.text(), " ".join(tools)[:FTS_OTHER_MAX_CHARS], files.text(), commands.text()


class _Capped:
    """Text pieces joined by newlines, up to a number of characters."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.pieces: list[str] = []
        self.size = 0

    def add(self, piece: str) -> None:
        if self.size < self.limit and piece:
            self.pieces.append(piece[: self.limit - self.size])
            self.size += len(piece) + 1

    def text(self) -> str:
        return "\n".join(self.pieces)


def stat_source(path: Path) -> tuple[int, int, int]:
    """(size, mtime_ns, inode) of a source, so that any change to what its parser reads shows.

    A folder counts the total size and newest mtime of the files in it (and its own inode); a
    file counts those of the folder named after it beside it, if any (where Claude Code keeps
    a session's sub-agent logs).
    """
    status = path.stat()
    if not path.is_dir():
        size, newest = _tree_stat(path.with_suffix(""))
        return status.st_size + size, max(status.st_mtime_ns, newest), status.st_ino
    size, newest = _tree_stat(path)
    return size, max(status.st_mtime_ns, newest), status.st_ino


def _tree_stat(folder: Path) -> tuple[int, int]:
    """Total size and newest mtime of the files under ``folder`` ((0, 0) when there is none)."""
    size, newest = 0, 0
    folders = [str(folder)]
    while folders:
        try:
            entries = list(os.scandir(folders.pop()))
        except OSError:
            continue
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                folders.append(entry.path)
                continue
            try:
                child = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            size += child.st_size
            newest = max(newest, child.st_mtime_ns)
    return size, newest
