"""The local index's schema as numbered migrations, the way ``llm`` keeps its log database.

Each migration is a small function applied once, in its own transaction, in number order;
``PRAGMA user_version`` holds the number of the last one applied. Add a migration by appending
a function to ``MIGRATIONS``; never edit one that has shipped.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

Migration = Callable[[sqlite3.Connection], None]


def m001_sources_sessions_fts(db: sqlite3.Connection) -> None:
    """Sources (files, folders, databases of the tools), their sessions, and full-text search."""
    db.execute(
        """
        CREATE TABLE sources (
            path TEXT PRIMARY KEY,
            tool TEXT NOT NULL,
            size INTEGER NOT NULL,
            mtime_ns INTEGER NOT NULL,
            inode INTEGER NOT NULL,
            parse_offset INTEGER NOT NULL DEFAULT 0,
            parse_error TEXT,
            indexed_at TEXT NOT NULL
        )
        """
    )
    db.execute(
        """
        CREATE TABLE sessions (
            rowid INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            source_path TEXT NOT NULL REFERENCES sources(path) ON DELETE CASCADE,
            tool TEXT NOT NULL,
            model TEXT NOT NULL,
            provider TEXT NOT NULL,
            title TEXT,
            cwd TEXT,
            repo_root TEXT,
            branch TEXT,
            commit_hash TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            event_count INTEGER NOT NULL,
            message_count INTEGER NOT NULL,
            tool_call_count INTEGER NOT NULL,
            task_count INTEGER NOT NULL,
            duration_seconds INTEGER NOT NULL,
            total_input_tokens INTEGER NOT NULL,
            total_output_tokens INTEGER NOT NULL,
            user_message_count INTEGER NOT NULL,
            files_changed INTEGER NOT NULL,
            lines_added INTEGER NOT NULL,
            lines_removed INTEGER NOT NULL,
            is_auxiliary INTEGER NOT NULL DEFAULT 0,
            parent_session_id TEXT,
            sync_state TEXT NOT NULL DEFAULT 'local'
                CHECK (sync_state IN ('local', 'uploaded', 'in_git')),
            server_id TEXT,
            synced_at TEXT
        )
        """
    )
    # Listings are newest first, optionally within one tool or repo: each filter has an index
    # ending in created_at so that ORDER BY ... LIMIT reads only the rows it returns.
    db.execute("CREATE INDEX sessions_created ON sessions (created_at)")
    db.execute("CREATE INDEX sessions_tool_created ON sessions (tool, created_at)")
    db.execute("CREATE INDEX sessions_repo_created ON sessions (repo_root, created_at)")
    db.execute("CREATE INDEX sessions_source ON sessions (source_path)")
    db.execute("CREATE INDEX sessions_parent ON sessions (parent_session_id)")
    db.execute(
        """
        CREATE VIRTUAL TABLE sessions_fts USING fts5(
            messages, tools, files, commands,
            tokenize = 'unicode61 remove_diacritics 2'
        )
        """
    )
    db.execute(
        """
        CREATE TRIGGER sessions_fts_forget AFTER DELETE ON sessions BEGIN
            DELETE FROM sessions_fts WHERE rowid = old.rowid;
        END
        """
    )


def m002_daemon_uploads(db: sqlite3.Connection) -> None:
    """The daemon's work: sessions waiting to be uploaded, which version of each session each
    server has, and sources an agent hook asked to be read now."""
    db.execute(
        """
        CREATE TABLE upload_queue (
            session_id TEXT PRIMARY KEY,
            generation INTEGER NOT NULL DEFAULT 1,
            queued_at REAL NOT NULL,
            due_at REAL NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            last_error TEXT
        )
        """
    )
    db.execute("CREATE INDEX upload_queue_due ON upload_queue (due_at)")
    db.execute(
        """
        CREATE TABLE uploads (
            session_id TEXT NOT NULL,
            server_url TEXT NOT NULL,
            server_id TEXT NOT NULL,
            event_count INTEGER NOT NULL,
            updated_at TEXT NOT NULL,
            uploaded_at TEXT NOT NULL,
            PRIMARY KEY (session_id, server_url)
        )
        """
    )
    db.execute(
        """
        CREATE TABLE pending_sources (
            path TEXT PRIMARY KEY,
            tool TEXT NOT NULL,
            requested_at TEXT NOT NULL
        )
        """
    )


MIGRATIONS: tuple[Migration, ...] = (m001_sources_sessions_fts, m002_daemon_uploads)
"""Every migration, in order; the schema version is the number applied."""

SCHEMA_VERSION = len(MIGRATIONS)


def schema_version(db: sqlite3.Connection) -> int:
    """The number of migrations applied to ``db``."""
    version: int = db.execute("PRAGMA user_version").fetchone()[0]
    return version


def migrate(db: sqlite3.Connection) -> int:
    """Apply the migrations ``db`` lacks, each in one transaction; returns the version reached.

    Safe to call from several processes at once: the version is re-read under the write lock,
    so a migration another process applied meanwhile is not applied again.
    """
    while schema_version(db) < len(MIGRATIONS):
        db.execute("BEGIN IMMEDIATE")
        try:
            version = schema_version(db)
            if version < len(MIGRATIONS):
                MIGRATIONS[version](db)
                db.execute(f"PRAGMA user_version = {version + 1}")
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
    return schema_version(db)
