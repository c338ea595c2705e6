"""Fast session listing: an exact count of sessions per tool and visibility kept by triggers,
indexes for each sort (of all sessions, of one tool, of an uploader's private ones), planner
statistics for SQLite, and the upload's ``body_url``.

Counting the public sessions for each page of the feed took milliseconds per request on a big
table; the triggers keep ``session_counts`` right whatever deletes rows (an account deleted
with its sessions included), so a page reads a handful of rows instead.

SQLite plans without statistics unless someone runs ``ANALYZE``, and then assumes that
``is_public = ?`` picks out about ten rows: it sorted a month of sessions instead of walking
the popular index, and searched by index lookups instead of one scan. Its ``sqlite_stat1`` table
is meant to be written for fixed plans, so the sessions table's intended shape (a large feed,
two visibilities) is written there; a later ``ANALYZE`` replaces it with measured figures.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_SQLITE_TRIGGERS = (
    """
    CREATE TRIGGER sessions_count_insert AFTER INSERT ON sessions BEGIN
        INSERT INTO session_counts (tool, is_public, session_count)
        VALUES (NEW.tool, NEW.is_public, 1)
        ON CONFLICT (tool, is_public) DO UPDATE SET session_count = session_count + 1;
    END
    """,
    """
    CREATE TRIGGER sessions_count_delete AFTER DELETE ON sessions BEGIN
        UPDATE session_counts SET session_count = session_count - 1
        WHERE tool = OLD.tool AND is_public = OLD.is_public;
    END
    """,
    """
    CREATE TRIGGER sessions_count_update AFTER UPDATE OF tool, is_public ON sessions
    WHEN OLD.tool IS NOT NEW.tool OR OLD.is_public IS NOT NEW.is_public BEGIN
        UPDATE session_counts SET session_count = session_count - 1
        WHERE tool = OLD.tool AND is_public = OLD.is_public;
        INSERT INTO session_counts (tool, is_public, session_count)
        VALUES (NEW.tool, NEW.is_public, 1)
        ON CONFLICT (tool, is_public) DO UPDATE SET session_count = session_count + 1;
    END
    """,
)

# "rows", then the rows per value of each leading part of the index, as ANALYZE writes them.
_SQLITE_SHAPE = {
    "sessions": "100000",
    "ix_sessions_is_public_created_at": "100000 80000 1",
    "ix_sessions_is_public_session_score_message_count_created_at": "100000 80000 1000 20 1",
    "ix_sessions_is_public_duration_seconds_created_at": "100000 80000 20 1",
    "ix_sessions_tool_created_at": "100000 10000 1",
    "ix_sessions_tool_session_score_message_count": "100000 10000 150 5",
    "ix_sessions_tool_duration_seconds": "100000 10000 5",
    "ix_sessions_user_id_is_public_created_at": "100000 100 50 1",
    "ix_sessions_body_key": "100000 1",
}

# One function for the three operations. A re-upload that moves a session to another tool or
# visibility changes two counters: they are changed in the order of their keys, so that two
# such uploads at once cannot each hold one counter while waiting for the other.
_POSTGRESQL_TRIGGERS = (
    """
    CREATE FUNCTION sessions_count() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'UPDATE' AND OLD.tool = NEW.tool AND OLD.is_public = NEW.is_public THEN
            RETURN NULL;
        END IF;
        IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE'
                AND (NEW.tool, NEW.is_public) < (OLD.tool, OLD.is_public)) THEN
            INSERT INTO session_counts (tool, is_public, session_count)
            VALUES (NEW.tool, NEW.is_public, 1)
            ON CONFLICT (tool, is_public)
            DO UPDATE SET session_count = session_counts.session_count + 1;
        END IF;
        IF TG_OP IN ('DELETE', 'UPDATE') THEN
            UPDATE session_counts SET session_count = session_count - 1
            WHERE tool = OLD.tool AND is_public = OLD.is_public;
        END IF;
        IF TG_OP = 'UPDATE' AND (NEW.tool, NEW.is_public) > (OLD.tool, OLD.is_public) THEN
            INSERT INTO session_counts (tool, is_public, session_count)
            VALUES (NEW.tool, NEW.is_public, 1)
            ON CONFLICT (tool, is_public)
            DO UPDATE SET session_count = session_counts.session_count + 1;
        END IF;
        RETURN NULL;
    END
    $$
    """,
    """
    CREATE TRIGGER sessions_count AFTER INSERT OR DELETE OR UPDATE OF tool, is_public
    ON sessions FOR EACH ROW EXECUTE FUNCTION sessions_count()
    """,
)


# (columns) of the indexes this revision adds: each sort in its order, for all sessions and for
# one tool, with ``created_at`` last so that a time range is checked on the index itself.
_INDEXES = (
    ("is_public", "session_score", "message_count", "created_at"),
    ("is_public", "duration_seconds", "created_at"),
    ("tool", "session_score", "message_count"),
    ("tool", "duration_seconds"),
    ("user_id", "is_public", "created_at"),
)
# Indexes of 0001 that the first two replace.
_REPLACED = (("is_public", "session_score"), ("is_public", "duration_seconds"))


def _index_name(columns: tuple[str, ...]) -> str:
    return f"ix_sessions_{'_'.join(columns)}"


def upgrade() -> None:
    op.add_column("sessions", sa.Column("body_url", sa.Text(), nullable=True))
    for columns in _REPLACED:
        op.drop_index(op.f(_index_name(columns)), table_name="sessions")
    for columns in _INDEXES:
        op.create_index(op.f(_index_name(columns)), "sessions", list(columns), unique=False)
    op.create_table(
        "session_counts",
        sa.Column("tool", sa.String(length=64), nullable=False),
        sa.Column("is_public", sa.Boolean(), nullable=False),
        sa.Column("session_count", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("tool", "is_public", name=op.f("pk_session_counts")),
    )
    op.execute(
        "INSERT INTO session_counts (tool, is_public, session_count) "
        "SELECT tool, is_public, count(*) FROM sessions GROUP BY tool, is_public"
    )
    if op.get_bind().dialect.name == "postgresql":
        for statement in _POSTGRESQL_TRIGGERS:
            op.execute(statement)
        return
    for statement in _SQLITE_TRIGGERS:
        op.execute(statement)
    # ANALYZE of the small counts table creates sqlite_stat1, and again after writing it makes
    # this connection, which the app keeps in its pool, read it (others read it on opening).
    op.execute("ANALYZE session_counts")
    op.execute("DELETE FROM sqlite_stat1 WHERE tbl = 'sessions'")
    for index, stat in _SQLITE_SHAPE.items():
        name = "NULL" if index == "sessions" else f"'{index}'"
        op.execute(f"INSERT INTO sqlite_stat1 VALUES ('sessions', {name}, '{stat}')")
    op.execute("ANALYZE session_counts")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER sessions_count ON sessions")
        op.execute("DROP FUNCTION sessions_count()")
    else:
        for name in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER sessions_count_{name}")
        op.execute("DELETE FROM sqlite_stat1 WHERE tbl = 'sessions'")
    op.drop_table("session_counts")
    for columns in _INDEXES:
        op.drop_index(op.f(_index_name(columns)), table_name="sessions")
    for columns in _REPLACED:
        op.create_index(op.f(_index_name(columns)), "sessions", list(columns), unique=False)
    op.drop_column("sessions", "body_url")
