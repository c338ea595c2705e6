"""Uploaded sessions in the database and the blob store: save, list, find, links, delete.

Bodies are stored once per content and shared by the rows whose body is the same, so a body is
removed only when the last row naming it goes. Saving a row that names a body, and removing a
body no row names, hold a lock for that body until their transaction commits (the write lock on
SQLite, an advisory lock per body on PostgreSQL); a body is therefore never removed under a row
that another process is saving at the same moment.

A listing page reads at most ``offset + per_page`` rows of an index for each part of what the
caller may see (the public sessions; the caller's private ones), and its total comes from the
per-tool counts the database keeps (``session_counts``) unless a search or time range needs a
count of its own.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

import orjson
from pydantic import AfterValidator, BaseModel, Field
from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    Row,
    Select,
    Text,
    and_,
    bindparam,
    cast,
    delete,
    func,
    insert,
    select,
    union_all,
    update,
)
from sqlalchemy.exc import IntegrityError

from opensession.server.blobs import BlobStore
from opensession.server.db.schema import session_counts, session_links, sessions, users
from opensession.server.uploads import PreparedUpload, no_nul

Sort = Literal["recent", "popular", "longest"]
TimeRange = Literal["all", "24h", "7d", "30d"]

_TIME_RANGES = {"24h": timedelta(hours=24), "7d": timedelta(days=7), "30d": timedelta(days=30)}
_SEARCH_TERMS = 8

# JSON columns are read as their text and passed on as it is (an ``orjson.Fragment``): decoding
# and encoding them again was a third of a page's time.
_JSON_COLUMNS = ("tags", "files_modified", "files_read")
# The columns of a SessionSummary, in its order; ``is_public`` becomes ``visibility``.
_SUMMARY_COLUMNS = tuple(
    cast(sessions.c[name], Text).label(name) if name in _JSON_COLUMNS else sessions.c[name]
    for name in (
        "id", "session_id", "user_id", "tool", "agent_provider", "agent_model", "title",
        "description", "tags", "created_at", "uploaded_at", "message_count", "task_count",
        "event_count", "duration_seconds", "total_input_tokens", "total_output_tokens",
        "git_remote", "git_branch", "git_commit", "git_repo_name", "pr_number", "pr_url",
        "working_directory", "files_modified", "files_read", "has_errors", "max_active_agents",
        "session_score", "score_plugin", "is_public",
    )
)  # fmt: skip


class SessionQuery(BaseModel):
    """A page of the session list: which sessions, in which order."""

    page: int = Field(default=1, ge=1, le=10_000)
    per_page: int = Field(default=20, ge=1, le=100)
    search: Annotated[str, AfterValidator(no_nul)] | None = Field(
        default=None, max_length=200, description="Words that must all appear (any case)."
    )
    tool: Annotated[str, AfterValidator(no_nul)] | None = Field(default=None, max_length=64)
    sort: Sort = Field(
        default="recent",
        description="recent: newest first; popular: by score, then messages; longest: longest "
        "first.",
    )
    time_range: TimeRange = Field(default="all", description="Sessions created this recently.")


def summaries(rows: Sequence[Row[Any]]) -> list[dict[str, Any]]:
    """Rows of the summary columns (with ``nickname``, and perhaps others) as the API's
    SessionSummaries, for ``orjson`` (JSON columns are ``orjson.Fragment``); a ``total`` column
    is left out."""
    if not rows:
        return []
    # Plain ``str`` keys: SQLAlchemy's names are a subclass, which orjson does not take as keys.
    keys = [str(key) for key in rows[0]._fields]
    found = []
    for row in rows:
        item = dict(zip(keys, row, strict=True))
        item.pop("total", None)
        item["visibility"] = "public" if item.pop("is_public") else "private"
        item["session_score"] = int(item["session_score"])
        for name in _JSON_COLUMNS:
            if item[name] is not None:
                item[name] = orjson.Fragment(item[name])
        found.append(item)
    return found


@contextmanager
def _writing(engine: Engine) -> Iterator[Connection]:
    """A transaction that writes. On SQLite it takes the write lock at its start (``BEGIN
    IMMEDIATE``), so what it reads holds until it commits; PostgreSQL locks rows as it goes."""
    with engine.begin() as db:
        if db.dialect.name == "sqlite":
            db.exec_driver_sql("BEGIN IMMEDIATE")
        yield db


def _lock_bodies(db: Connection, keys: set[str]) -> None:
    """Hold the bodies ``keys`` until the transaction ends: PostgreSQL advisory locks, taken in
    key order (SQLite's write lock already covers every body)."""
    if db.dialect.name != "postgresql":
        return
    for key in sorted(keys):
        db.execute(select(func.pg_advisory_xact_lock(int(key[:15], 16))))


def _release_body(db: Connection, blobs: BlobStore, key: str) -> None:
    """Remove the body ``key`` if no row names it any more (its lock held).

    The file goes before the transaction commits, under the lock: removing it after the commit
    could remove it under a row saved in between. A commit failing after it is the lesser
    harm: that row's body is missing until the session is uploaded again.
    """
    if db.execute(select(sessions.c.id).where(sessions.c.body_key == key).limit(1)).first():
        return
    blobs.delete(key)


def save_session(
    engine: Engine, blobs: BlobStore, user_id: str, upload: PreparedUpload
) -> tuple[str, bool]:
    """Store an upload as the user's copy of its HAIL session: the id, and whether the row is
    new (False: the user's earlier upload of that session was replaced, keeping its id)."""
    # Compressing a large body takes longer than the whole transaction: it is done before the
    # lock is taken (which, on SQLite, stops every other write), and only confirmed under it.
    blobs.put(upload.body)
    try:
        try:
            return _save(engine, blobs, user_id, upload)
        except IntegrityError:
            # The same user uploaded the same session twice at once, and on PostgreSQL both saw
            # no row before either inserted one: this upload now replaces the other's.
            return _save(engine, blobs, user_id, upload)
    except Exception:
        with _writing(engine) as db:
            _lock_bodies(db, {upload.body_key})
            _release_body(db, blobs, upload.body_key)
        raise


def _save(
    engine: Engine, blobs: BlobStore, user_id: str, upload: PreparedUpload
) -> tuple[str, bool]:
    with _writing(engine) as db:
        earlier = db.execute(
            select(sessions.c.id, sessions.c.body_key)
            .where(sessions.c.user_id == user_id, sessions.c.session_id == upload.session_id)
            .with_for_update()
        ).first()
        _lock_bodies(db, {upload.body_key} | ({earlier.body_key} if earlier else set()))
        blobs.put(upload.body)  # written already, unless a session sharing it went since
        values = {**upload.summary, "body_key": upload.body_key}
        if earlier is None:
            row_id = str(uuid.uuid4())
            db.execute(insert(sessions).values(id=row_id, user_id=user_id, **values))
        else:
            row_id = earlier.id
            db.execute(update(sessions).where(sessions.c.id == row_id).values(**values))
            db.execute(delete(session_links).where(session_links.c.session_id == row_id))
        if upload.links:
            created_at = upload.summary["uploaded_at"]
            db.execute(
                insert(session_links),
                [
                    {
                        "session_id": row_id,
                        "linked_session_id": linked,
                        "link_type": link_type,
                        "created_at": created_at,
                    }
                    for linked, link_type in upload.links
                ],
            )
        if earlier is not None and earlier.body_key != upload.body_key:
            _release_body(db, blobs, earlier.body_key)
    return row_id, earlier is None


def delete_session(engine: Engine, blobs: BlobStore, session_id: str) -> bool:
    """Remove a session, its links and (if no other row shares it) its body; False when there
    is no such session."""
    with _writing(engine) as db:
        key = db.scalar(
            select(sessions.c.body_key).where(sessions.c.id == session_id).with_for_update()
        )
        if key is None:
            return False
        _lock_bodies(db, {key})
        db.execute(delete(session_links).where(session_links.c.session_id == session_id))
        db.execute(delete(sessions).where(sessions.c.id == session_id))
        _release_body(db, blobs, key)
    return True


def find_session(engine: Engine, session_id: str) -> Row[Any] | None:
    """The summary columns of a session with its uploader's ``nickname``, ``body_key`` and
    ``body_url``; None when there is no such session."""
    query = (
        select(*_SUMMARY_COLUMNS, users.c.nickname, sessions.c.body_key, sessions.c.body_url)
        .join_from(sessions, users, users.c.id == sessions.c.user_id)
        .where(sessions.c.id == session_id)
    )
    with engine.connect() as db:
        return db.execute(query).first()


def links_of(engine: Engine, session_id: str) -> list[dict[str, Any]]:
    """The sessions a session names (``linked_session_id`` is a HAIL session id)."""
    query = (
        select(session_links)
        .where(session_links.c.session_id == session_id)
        .order_by(session_links.c.linked_session_id)
    )
    with engine.connect() as db:
        rows = db.execute(query).all()
    keys = [str(column.key) for column in session_links.columns]
    return [dict(zip(keys, row, strict=True)) for row in rows]


def list_sessions(
    engine: Engine, query: SessionQuery, viewer_id: str | None, now: datetime
) -> tuple[list[dict[str, Any]], int]:
    """A page of the sessions ``viewer_id`` may see (the public ones, and their own private
    ones), as SessionSummaries, and how many there are in all."""
    terms = (query.search or "").lower().split()[:_SEARCH_TERMS]
    ranged = query.time_range != "all"
    page, total = _listing(query.sort, viewer_id is not None, bool(query.tool), ranged, len(terms))
    offset = (query.page - 1) * query.per_page
    values: dict[str, Any] = {
        "viewer": viewer_id,
        "tool": query.tool,
        "limit": query.per_page,
        "offset": offset,
        "top": offset + query.per_page,
    }
    if ranged:
        values["since"] = now - _TIME_RANGES[query.time_range]
    for number, term in enumerate(terms):
        pattern = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        values[f"term_{number}"] = f"%{pattern}%"
    with engine.connect() as db:
        rows = db.execute(page, values).all()
        # Each row carries the total; a page past the end has none to carry it.
        count = rows[0].total if rows else db.scalar(total, values)
    return summaries(rows), int(count)  # PostgreSQL sums are Decimal


@functools.cache  # one pair per shape: 3 sorts x 2 x 2 x 2 x 9 numbers of terms at most
def _listing(
    sort: Sort, signed_in: bool, tool: bool, ranged: bool, terms: int
) -> tuple[Select[Any], Select[Any]]:
    """The statements of a listing's shape, its values left as parameters: the page (each row
    with the ``total``) and the total alone. Building a statement costs more than running it."""
    filters: list[ColumnElement[bool]] = []
    if tool:
        filters.append(sessions.c.tool == bindparam("tool"))
    if ranged:
        filters.append(sessions.c.created_at >= bindparam("since"))
    for number in range(terms):
        filters.append(sessions.c.search_text.like(bindparam(f"term_{number}"), escape="\\"))
    public = sessions.c.is_public
    parts = [public]
    if signed_in:
        parts.append(and_(~public, sessions.c.user_id == bindparam("viewer")))
    kept = terms == 0 and not ranged
    counts = [_count(part, filters, kept=part is public and kept, tool=tool) for part in parts]
    total = sum(counts[1:], start=counts[0]).label("total")
    return _page(sort, parts, filters).add_columns(total), select(total)


def _order(columns: Any, sort: Sort) -> list[ColumnElement[Any]]:
    """The sort's keys, newest first among equals, the id last so that pages never overlap."""
    keys = {
        "recent": [],
        "popular": [columns.session_score, columns.message_count],
        "longest": [columns.duration_seconds],
    }[sort]
    return [key.desc() for key in (*keys, columns.created_at, columns.id)]


def _page(
    sort: Sort, parts: list[ColumnElement[bool]], filters: list[ColumnElement[bool]]
) -> Select[Any]:
    """The page's rows with the uploaders' nicknames.

    Each part is read in index order on its own: one query with ``is_public OR user_id = ?``
    could not walk an index in the sort's order. With two parts, each gives its first
    ``offset + per_page`` rows (``top``) and the page is cut from both.
    """
    single = len(parts) == 1
    candidates = [
        select(*_SUMMARY_COLUMNS)
        .where(part, *filters)
        .order_by(*_order(sessions.c, sort))
        .limit(bindparam("limit" if single else "top"))
        .offset(bindparam("offset") if single else 0)
        for part in parts
    ]
    if single:
        pool = candidates[0].subquery()
    else:
        pool = union_all(*(select(part.subquery()) for part in candidates)).subquery()
    return (
        select(pool, users.c.nickname)
        .join_from(pool, users, users.c.id == pool.c.user_id)
        .order_by(*_order(pool.c, sort))
        .limit(bindparam("limit"))
        .offset(0 if single else bindparam("offset"))
    )


def _count(
    part: ColumnElement[bool], filters: list[ColumnElement[bool]], *, kept: bool, tool: bool
) -> Any:
    """How many sessions a part has, as a scalar subquery: read from the counts the triggers
    keep when they are ``kept`` (the public part, perhaps of one tool), else counted."""
    if not kept:
        return select(func.count()).select_from(sessions).where(part, *filters).scalar_subquery()
    count = select(func.coalesce(func.sum(session_counts.c.session_count), 0))
    count = count.where(session_counts.c.is_public)
    if tool:
        count = count.where(session_counts.c.tool == bindparam("tool"))
    return count.scalar_subquery()
