from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from opensession.localdb import migrations
from opensession.localdb.migrations import SCHEMA_VERSION, schema_version
from opensession.localdb.store import LocalIndex

from .conftest import source_state, write_claude_log


def tables(path: Path) -> set[str]:
    with sqlite3.connect(path) as db:
        return {row[0] for row in db.execute("SELECT name FROM sqlite_master")}


def test_a_new_index_has_the_current_schema_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "local.db"
    with LocalIndex.open(path) as index:
        assert schema_version(index.db) == SCHEMA_VERSION
        assert index.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert index.db.execute("PRAGMA busy_timeout").fetchone()[0] > 0
        assert index.warning is None
    assert {"sources", "sessions", "sessions_fts"} <= tables(path)


def test_opening_again_applies_nothing_and_keeps_the_sessions(tmp_path: Path) -> None:
    from opensession.parsers.registry import parse_path

    log = write_claude_log(tmp_path / "a.jsonl", "s-1", prompt="hello")
    path = tmp_path / "local.db"
    with LocalIndex.open(path) as index:
        index.store_source(source_state(log), parse_path(log, "claude-code").sessions)
    for _ in range(2):
        with LocalIndex.open(path) as index:
            assert schema_version(index.db) == SCHEMA_VERSION
            assert [row.id for row in index.list_sessions()] == ["s-1"]


def test_an_empty_database_of_another_program_version_is_migrated(tmp_path: Path) -> None:
    path = tmp_path / "local.db"
    sqlite3.connect(path).close()
    with LocalIndex.open(path) as index:
        assert schema_version(index.db) == SCHEMA_VERSION
        assert index.list_sessions() == []


def test_an_index_of_an_older_version_gets_the_new_migrations_and_keeps_its_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from opensession.parsers.registry import parse_path

    log = write_claude_log(tmp_path / "a.jsonl", "s-1", prompt="hello")
    path = tmp_path / "local.db"
    with LocalIndex.open(path) as index:
        index.store_source(source_state(log), parse_path(log, "claude-code").sessions)

    def m002_add_pinned(db: sqlite3.Connection) -> None:
        db.execute("ALTER TABLE sessions ADD COLUMN pinned INTEGER NOT NULL DEFAULT 0")

    monkeypatch.setattr(migrations, "MIGRATIONS", (*migrations.MIGRATIONS, m002_add_pinned))
    with LocalIndex.open(path) as index:
        assert schema_version(index.db) == SCHEMA_VERSION + 1
        assert index.db.execute("SELECT id, pinned FROM sessions").fetchall() == [("s-1", 0)]


def test_a_failing_migration_leaves_the_index_at_its_last_good_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "local.db"
    LocalIndex.open(path).close()

    def m002_broken(db: sqlite3.Connection) -> None:
        db.execute("CREATE TABLE half_done (x)")
        db.execute("THIS IS NOT SQL")

    monkeypatch.setattr(migrations, "MIGRATIONS", (*migrations.MIGRATIONS, m002_broken))
    db = sqlite3.connect(path, isolation_level=None)
    with pytest.raises(sqlite3.OperationalError):
        migrations.migrate(db)
    assert schema_version(db) == SCHEMA_VERSION
    db.close()
    assert "half_done" not in tables(path)
