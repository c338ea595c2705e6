from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from opensession.localdb import store as store_module
from opensession.localdb.store import (
    AmbiguousSessionError,
    LocalIndex,
    SessionNotFoundError,
)
from opensession.parsers.registry import parse_path

from .conftest import source_state, write_claude_log


def store(index: LocalIndex, log: Path) -> None:
    index.store_source(source_state(log), parse_path(log, "claude-code").sessions)


def test_a_corrupt_index_is_moved_aside_and_rebuilt_with_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "local.db"
    path.write_bytes(b"this is not a database, just bytes " * 200)
    log = write_claude_log(tmp_path / "a.jsonl", "s-1", prompt="hello")

    with LocalIndex.open(path) as index:
        assert index.warning is not None
        assert "moved it to" in index.warning
        store(index, log)
        assert [row.id for row in index.list_sessions()] == ["s-1"]

    [aside] = tmp_path.glob("local.db.corrupt-*")
    assert aside.read_bytes().startswith(b"this is not a database")  # kept for a post-mortem
    with LocalIndex.open(path) as reopened:
        assert reopened.warning is None
        assert [row.id for row in reopened.list_sessions()] == ["s-1"]


def test_a_malformed_index_is_rebuilt(tmp_path: Path) -> None:
    path = tmp_path / "local.db"
    LocalIndex.open(path).close()
    data = bytearray(path.read_bytes())
    data[100:4096] = b"\xff" * (4096 - 100)  # the schema page
    path.write_bytes(bytes(data))
    with LocalIndex.open(path) as index:
        assert index.warning is not None
        assert index.list_sessions() == []


def test_sessions_are_found_by_id_or_unique_prefix(index: LocalIndex, tmp_path: Path) -> None:
    store(index, write_claude_log(tmp_path / "a.jsonl", "abc-111", prompt="one"))
    store(index, write_claude_log(tmp_path / "b.jsonl", "abd-222", prompt="two"))
    store(index, write_claude_log(tmp_path / "c.jsonl", "ab", prompt="three"))

    assert index.get_session("abc-111").title == "one"
    assert index.get_session("abd").title == "two"
    assert index.get_session("ab").title == "three"  # an exact id wins over a prefix
    with pytest.raises(AmbiguousSessionError) as ambiguous:
        index.get_session("a")
    assert ambiguous.value.candidates == ["ab", "abc-111", "abd-222"]
    with pytest.raises(SessionNotFoundError, match="opensession index"):
        index.get_session("zzz")


def test_listing_is_newest_first_and_filters_by_tool_time_repo_and_text(
    index: LocalIndex, tmp_path: Path
) -> None:
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "src").mkdir()
    for number, day in enumerate(["01", "03", "02"]):
        store(
            index,
            write_claude_log(
                tmp_path / f"{number}.jsonl",
                f"s-{day}",
                prompt=f"task of day {day}" + (" with walrus" if day == "02" else ""),
                cwd=str(repo / "src") if day != "01" else "/elsewhere",
                start=f"2026-03-{day}T10:00",
            ),
        )

    assert [r.id for r in index.list_sessions()] == ["s-03", "s-02", "s-01"]
    assert [r.id for r in index.list_sessions(limit=1, offset=1)] == ["s-02"]  # HEAD~1
    assert [r.id for r in index.list_sessions(repo=str(repo))] == ["s-03", "s-02"]
    assert [r.id for r in index.list_sessions(since=datetime(2026, 3, 2, tzinfo=UTC))] == [
        "s-03",
        "s-02",
    ]
    assert [r.id for r in index.list_sessions(search="walrus")] == ["s-02"]
    assert index.list_sessions(tool="codex") == []
    assert index.get_session("s-02").repo_root == str(repo)
    assert index.get_session("s-01").repo_root is None


@pytest.mark.parametrize(
    "filters",
    [{}, {"tool": "codex"}, {"repo": "/r"}, {"tool": "codex", "since": "2026"}, {"search": "x"}],
)
def test_listing_reads_only_through_indexes(index: LocalIndex, filters: dict[str, str]) -> None:
    where = {"tool": "tool = ?", "repo": "repo_root = ?", "since": "created_at >= ?"}
    clauses = [where[name] for name in filters if name in where] + ["is_auxiliary = 0"]
    sql = "SELECT id FROM sessions WHERE " + " AND ".join(clauses)
    params = [value for name, value in filters.items() if name in where]
    if "search" in filters:
        sql += " AND rowid IN (SELECT rowid FROM sessions_fts WHERE sessions_fts MATCH ?)"
        params.append('"x"')
    sql += " ORDER BY created_at DESC, rowid DESC LIMIT 50"
    plan = " | ".join(row[3] for row in index.db.execute("EXPLAIN QUERY PLAN " + sql, params))
    if "search" in filters:
        # Matches come from the full-text index; only they are looked up and sorted.
        assert "sessions_fts VIRTUAL TABLE INDEX" in plan, plan
        assert "USING INTEGER PRIMARY KEY" in plan, plan
    else:
        assert "USING INDEX" in plan, plan
        assert "TEMP B-TREE" not in plan, plan


def test_search_finds_message_words_commands_and_file_paths_with_a_snippet(
    index: LocalIndex, tmp_path: Path
) -> None:
    store(
        index,
        write_claude_log(
            tmp_path / "a.jsonl",
            "s-1",
            prompt="please refactor the flamingo module",
            command="pytest -q tests/unit --maxfail=3",
            read="src/app/zebra_utils.py",
        ),
    )
    store(index, write_claude_log(tmp_path / "b.jsonl", "s-2", prompt="something else"))

    for query, marked in [
        ("flamingo", "[flamingo]"),
        ("--maxfail=3", "[maxfail=3]"),
        ("zebra_utils.py", "[zebra_utils.py]"),
        ("src/app/zebra_utils.py", "[src/app/zebra_utils.py]"),
    ]:
        hits = index.search(query)
        assert [hit.session.id for hit in hits] == ["s-1"], query
        assert marked in hits[0].snippet, (query, hits[0].snippet)
    assert index.search("flamingo", marks=("<b>", "</b>"))[0].snippet.count("<b>") == 1
    assert index.search("flamingo walrus") == []  # every word must match
    assert [row.id for row in index.list_sessions(search="Flamingo")] == ["s-1"]


def test_re_indexing_a_source_keeps_its_sync_state_and_drops_sessions_it_lost(
    index: LocalIndex, tmp_path: Path
) -> None:
    log = write_claude_log(tmp_path / "a.jsonl", "s-1", prompt="first version")
    store(index, log)
    when = datetime(2026, 3, 5, 12, tzinfo=UTC)
    index.set_sync_state("s-1", "uploaded", server_id="srv-9", synced_at=when)

    write_claude_log(log, "s-1", prompt="second version", command="make")
    store(index, log)
    row = index.get_session("s-1")
    assert row.title == "second version"
    assert (row.sync_state, row.server_id, row.synced_at) == ("uploaded", "srv-9", when)

    write_claude_log(log, "s-2", prompt="the file now holds another session")
    store(index, log)
    assert [r.id for r in index.list_sessions()] == ["s-2"]
    assert index.search("version") == []
    with pytest.raises(SessionNotFoundError):
        index.set_sync_state("s-1", "in_git")


def test_a_locked_index_is_not_mistaken_for_a_corrupt_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "local.db"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE other_program (x)")
    holder.execute("BEGIN EXCLUSIVE")
    monkeypatch.setattr(store_module, "BUSY_TIMEOUT_MS", 50)
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        LocalIndex.open(path)
    holder.execute("ROLLBACK")
    holder.close()
    assert not list(tmp_path.glob("local.db.corrupt-*"))
    with LocalIndex.open(path) as index:
        assert index.warning is None
