"""The server's tables, for queries. Alembic migrations (``migrations/``) create them; the
parity check makes sure migrating SQLite and PostgreSQL gives this same schema.

Times are stored as timezone-aware UTC timestamps; ids are text (UUIDs).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.types import TypeDecorator

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class UtcDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime on both engines (SQLite keeps no offset: it is added back)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("a naive datetime cannot be stored: give it a time zone")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


Time = UtcDateTime()

users = Table(
    "users",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("email", String(320), nullable=False, unique=True),
    Column("nickname", String(64), nullable=False, unique=True),
    Column("password_hash", Text, nullable=False),
    Column("avatar_url", Text),
    Column("created_at", Time, nullable=False),
)

refresh_tokens = Table(
    "refresh_tokens",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("user_id", String(36), ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", Time, nullable=False),
    Column("expires_at", Time, nullable=False),
    Column("revoked_at", Time),
    Index(None, "user_id"),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("user_id", String(36), ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("display_prefix", String(16), nullable=False),
    Column("created_at", Time, nullable=False),
    # Set when a newer key replaces this one: it keeps working until then (grace period).
    Column("expires_at", Time),
    Index(None, "user_id"),
)

login_attempts = Table(
    "login_attempts",
    metadata,
    # ``account:<email>`` or ``ip:<address>``.
    Column("key", String(400), primary_key=True),
    Column("window_start", Time, nullable=False),
    Column("failures", Integer, nullable=False),
)

sessions = Table(
    "sessions",
    metadata,
    Column("id", String(36), primary_key=True),
    # The HAIL session id; one stored copy per uploader (re-uploads update it).
    Column("session_id", String(200), nullable=False),
    Column("user_id", String(36), ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("is_public", Boolean, nullable=False),
    Column("tool", String(64), nullable=False),
    Column("agent_provider", String(64)),
    Column("agent_model", String(200)),
    Column("title", Text),
    Column("description", Text),
    Column("tags", JSON),
    Column("created_at", Time, nullable=False),
    Column("uploaded_at", Time, nullable=False),
    Column("message_count", Integer, nullable=False),
    Column("task_count", Integer, nullable=False),
    Column("event_count", Integer, nullable=False),
    Column("duration_seconds", Integer, nullable=False),
    Column("total_input_tokens", BigInteger, nullable=False),
    Column("total_output_tokens", BigInteger, nullable=False),
    Column("git_remote", Text),
    Column("git_branch", Text),
    Column("git_commit", String(64)),
    Column("git_repo_name", Text),
    Column("pr_number", Integer),
    Column("pr_url", Text),
    Column("working_directory", Text),
    Column("files_modified", JSON),
    Column("files_read", JSON),
    Column("has_errors", Boolean, nullable=False),
    Column("max_active_agents", Integer, nullable=False),
    Column("session_score", Float, nullable=False),
    Column("score_plugin", String(64), nullable=False),
    # Lower-cased title, description, tags, tool, model and first messages, for ``search``.
    Column("search_text", Text, nullable=False),
    # The sha256 of the gzip-stored HAIL JSONL body in the blob store.
    Column("body_key", String(64), nullable=False),
    Column("body_size", Integer, nullable=False),
    # Where the uploader keeps the body too (a git branch, a gist), as the upload named it.
    Column("body_url", Text),
    UniqueConstraint("user_id", "session_id"),
    # One per sort, for all public sessions and for one tool; created_at last in the first two
    # so that a time range is checked on the index entry.
    Index(None, "is_public", "created_at"),
    Index(None, "is_public", "session_score", "message_count", "created_at"),
    Index(None, "is_public", "duration_seconds", "created_at"),
    Index(None, "tool", "created_at"),
    Index(None, "tool", "session_score", "message_count"),
    Index(None, "tool", "duration_seconds"),
    Index(None, "user_id", "is_public", "created_at"),
    Index(None, "body_key"),
)

# How many sessions each tool has, public and private: triggers on ``sessions`` keep it exact
# (migration 0002), so listing pages need not count the whole table.
session_counts = Table(
    "session_counts",
    metadata,
    Column("tool", String(64), primary_key=True),
    Column("is_public", Boolean, primary_key=True),
    Column("session_count", BigInteger, nullable=False),
)

session_links = Table(
    "session_links",
    metadata,
    Column(
        "session_id", String(36), ForeignKey("sessions.id", ondelete="CASCADE"), primary_key=True
    ),
    Column("linked_session_id", String(200), primary_key=True),
    # ``handoff``, ``related``, ``parent`` or ``child``.
    Column("link_type", String(16), nullable=False),
    Column("created_at", Time, nullable=False),
)
