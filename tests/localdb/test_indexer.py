from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest

from opensession.localdb import indexer
from opensession.localdb.indexer import IndexReport, index_sources
from opensession.localdb.store import LocalIndex, SessionNotFoundError, SessionRow, stat_source
from opensession.parsers import registry
from opensession.parsers.append_only import IncrementalParse
from opensession.parsers.base import ParseResult

from .conftest import (
    SPOTTER_MAIN,
    SPOTTER_PROJECT,
    half_written_log,
    indexed,
    sources,
    write_claude_log,
)

PROJECT = ".claude/projects/-work-app"


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Every path the indexer parses, in order."""
    seen: list[Path] = []
    real = registry.parse_path

    def counting(path: Path, tool: str | None = None) -> ParseResult:
        seen.append(path)
        return real(path, tool)

    monkeypatch.setattr(registry, "parse_path", counting)
    return seen


def test_indexing_the_corpus_stores_each_sessions_title_tool_and_stats(
    corpus_home: Path, index: LocalIndex
) -> None:
    found = sources(corpus_home)
    report = index_sources(index, found)

    assert (report.added, report.failed, report.errors) == (len(found), 0, [])
    for source in found:
        for session in registry.parse_path(source.path, source.tool).sessions:
            row = index.get_session(session.session_id)
            assert (row.tool, row.title, row.model) == (
                session.agent.tool,
                session.context.title,
                session.agent.model,
            )
            assert row.stats.message_count == session.stats.message_count
            assert row.stats.total_input_tokens == session.stats.total_input_tokens
            assert row.stats.lines_added == session.stats.lines_added
            assert row.source_path == str(source.path)
    codex = index.list_sessions(tool="codex")
    assert len(codex) == 3
    assert all(row.branch == "main" and row.commit for row in codex)


def test_sub_agent_sessions_are_stored_as_auxiliary_under_their_parent(
    corpus_home: Path, index: LocalIndex
) -> None:
    index_sources(index, sources(corpus_home))
    children = index.children(SPOTTER_MAIN)
    agents = list((corpus_home / SPOTTER_PROJECT / SPOTTER_MAIN / "subagents").glob("*.jsonl"))
    assert len(children) == len(agents) == 2
    assert all(child.is_auxiliary for child in children)
    assert all(child.source_path == str(corpus_home / SPOTTER_PROJECT / f"{SPOTTER_MAIN}.jsonl")
               for child in children)  # fmt: skip
    listed = {row.id for row in index.list_sessions()}
    assert SPOTTER_MAIN in listed
    assert not listed & {child.id for child in children}
    assert {child.id for child in children} <= {
        row.id for row in index.list_sessions(include_auxiliary=True)
    }


def test_a_changed_sub_agent_log_re_reads_its_main_session(
    corpus_home: Path, index: LocalIndex, parses: list[Path]
) -> None:
    index_sources(index, sources(corpus_home))
    [agent, *_] = sorted((corpus_home / SPOTTER_PROJECT / SPOTTER_MAIN / "subagents").iterdir())
    with agent.open("a") as log:
        log.write("\n")
    parses.clear()
    report = index_sources(index, sources(corpus_home))
    assert parses == [corpus_home / SPOTTER_PROJECT / f"{SPOTTER_MAIN}.jsonl"]
    assert report.updated == 1


def test_a_second_run_over_unchanged_files_parses_nothing(
    corpus_home: Path, index: LocalIndex, parses: list[Path]
) -> None:
    found = sources(corpus_home)
    index_sources(index, found)
    assert len(parses) == len(found)
    before = index.list_sessions(include_auxiliary=True)

    parses.clear()
    report = index_sources(index, found)
    assert parses == []
    assert (report.unchanged, report.added, report.updated, report.removed) == (len(found), 0, 0, 0)
    assert index.list_sessions(include_auxiliary=True) == before


def test_full_re_reads_every_source(
    corpus_home: Path, index: LocalIndex, parses: list[Path]
) -> None:
    found = sources(corpus_home)
    index_sources(index, found)
    parses.clear()
    report = index_sources(index, found, full=True)
    assert len(parses) == len(found)
    assert report.updated == len(found)


def test_a_changed_file_is_re_parsed_and_a_deleted_one_forgotten(
    home: Path, index: LocalIndex, parses: list[Path]
) -> None:
    kept = write_claude_log(home / PROJECT / "a.jsonl", "s-a", prompt="first prompt")
    gone = write_claude_log(home / PROJECT / "b.jsonl", "s-b", prompt="doomed")
    index_sources(index, sources(home))
    events_before = index.get_session("s-a").stats.event_count

    write_claude_log(kept, "s-a", prompt="first prompt", command="cargo build --release")
    gone.unlink()
    parses.clear()
    report = index_sources(index, sources(home))

    assert parses == [kept]
    assert (report.updated, report.removed, report.unchanged) == (1, 1, 0)
    assert index.get_session("s-a").stats.event_count == events_before + 2  # command, result
    assert [hit.session.id for hit in index.search("cargo")] == ["s-a"]
    assert [row.id for row in index.list_sessions()] == ["s-a"]
    assert index.search("doomed") == []


def test_a_failing_source_is_recorded_and_retried_only_once_it_changes(
    home: Path, index: LocalIndex, parses: list[Path]
) -> None:
    write_claude_log(home / PROJECT / "good.jsonl", "s-good", prompt="fine")
    broken = home / PROJECT / "broken.jsonl"
    broken.write_text("not json at all\n")

    report = index_sources(index, sources(home))
    assert (report.added, report.failed) == (1, 1)
    [failure] = report.errors
    assert failure.path == str(broken)
    assert "no readable Claude Code records" in failure.error
    assert "\n" not in failure.error
    assert [s.parse_error for s in index.failed_sources()] == [failure.error]

    parses.clear()
    again = index_sources(index, sources(home))
    assert parses == []
    assert (again.failed, again.unchanged) == (1, 1)
    assert again.errors == [failure]

    write_claude_log(broken, "s-fixed", prompt="readable now")
    fixed = index_sources(index, sources(home))
    assert parses == [broken]
    assert (fixed.failed, fixed.updated) == (0, 1)
    assert index.failed_sources() == []
    assert index.get_session("s-fixed").title == "readable now"


def test_a_parser_crash_is_recorded_and_does_not_stop_the_index(
    home: Path, index: LocalIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_claude_log(home / PROJECT / "a.jsonl", "s-a", prompt="fine")
    write_claude_log(home / PROJECT / "b.jsonl", "s-b", prompt="fine too")
    real = registry.parse_path

    def crashing(path: Path, tool: str | None = None) -> ParseResult:
        if path.name == "a.jsonl":
            raise KeyError("message")
        return real(path, tool)

    monkeypatch.setattr(registry, "parse_path", crashing)
    report = index_sources(index, sources(home))
    assert (report.added, report.failed) == (1, 1)
    assert report.errors[0].error == "KeyError: 'message'"
    assert [row.id for row in index.list_sessions()] == ["s-b"]


def test_progress_is_reported_for_every_source(home: Path, index: LocalIndex) -> None:
    for number in range(3):
        write_claude_log(home / PROJECT / f"{number}.jsonl", f"s-{number}", prompt="hi")
    calls: list[tuple[int, int]] = []
    index_sources(index, sources(home), progress=lambda done, total: calls.append((done, total)))
    assert calls == [(1, 3), (2, 3), (3, 3)]


def test_a_folder_source_changes_when_any_file_in_it_does(tmp_path: Path) -> None:
    task = tmp_path / "task"
    (task / "sub").mkdir(parents=True)
    (task / "api_conversation_history.json").write_text("[]")
    (task / "sub" / "ui_messages.json").write_text("[]")
    before = stat_source(task)
    os.utime(task / "sub" / "ui_messages.json", ns=(before[1] + 10**9, before[1] + 10**9))
    assert stat_source(task) != before
    (task / "sub" / "ui_messages.json").write_text("[1, 2]")
    assert stat_source(task)[0] == before[0] + 4


_INDEX_IN_A_PROCESS = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from opensession.localdb.indexer import index_sources
    from opensession.localdb.store import LocalIndex
    from opensession.parsers.discovery import default_locations, discover

    home, db = Path(sys.argv[1]), Path(sys.argv[2])
    found = discover(locations=default_locations("linux", {}, home)).sources
    with LocalIndex.open(db) as index:
        print(index_sources(index, found).summary())
    """
)


def test_two_processes_indexing_at_once_both_finish_without_duplicates(
    corpus_home: Path, tmp_path: Path
) -> None:
    for number in range(60):
        write_claude_log(
            corpus_home / PROJECT / f"{number}.jsonl", f"gen-{number}", prompt=f"task {number}"
        )
    db = tmp_path / "shared" / "local.db"
    runs = [
        subprocess.Popen(
            [sys.executable, "-c", _INDEX_IN_A_PROCESS, str(corpus_home), str(db)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for _ in range(2)
    ]
    outputs = [run.communicate(timeout=120) for run in runs]
    for run, (out, err) in zip(runs, outputs, strict=True):
        assert run.returncode == 0, err.decode()
        assert err == b""
        assert out.startswith(b"indexed ")

    found = sources(corpus_home)
    expected = {s.session_id for src in found for s in registry.parse_path(src.path).sessions}
    with LocalIndex.open(db) as index:
        ids = [row[0] for row in index.db.execute("SELECT id FROM sessions")]
        assert sorted(ids) == sorted(expected)
        assert index.db.execute("SELECT count(*) FROM sources").fetchone()[0] == len(found)
        assert index.db.execute("SELECT count(*) FROM sessions_fts").fetchone()[0] == len(ids)
        assert index_sources(index, found).unchanged == len(found)


@pytest.fixture
def resume_any_size(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every Claude Code and Codex log keeps its parse, as only large ones do otherwise."""
    monkeypatch.setattr(indexer, "RESUME_MIN_BYTES", 1)


def fresh_index(home: Path, folder: Path) -> tuple[list[SessionRow], list[tuple[Any, ...]]]:
    """What a new index of everything under ``home``, parsed from scratch, holds."""
    with LocalIndex.open(folder / "fresh" / "local.db") as fresh:
        index_sources(fresh, sources(home), full=True)
        return indexed(fresh)


def append(path: Path, data: bytes) -> None:
    with path.open("ab") as stream:
        stream.write(data)


def index_in_new_object(db: Path, home: Path) -> IndexReport:
    with LocalIndex.open(db) as index:
        return index_sources(index, sources(home))


def seen_growing(db: Path, home: Path, log: Path, rest: bytes) -> bytes:
    """Index ``log``, then grow it by one line and index it again, as a log the tool is still
    writing: the second run saves its parse. Returns what is left of ``rest``."""
    assert index_in_new_object(db, home).added == 1
    line_end = rest.index(b"\n") + 1
    append(log, rest[:line_end])
    assert index_in_new_object(db, home).updated == 1
    return rest[line_end:]


@pytest.mark.usefixtures("resume_any_size")
def test_a_grown_log_is_read_on_from_the_parse_an_earlier_run_saved(
    corpus: Path, home: Path, tmp_path: Path, parses: list[Path]
) -> None:
    log, rest = half_written_log(corpus, home)
    db = tmp_path / "data" / "local.db"
    rest = seen_growing(db, home, log, rest)
    parses.clear()
    append(log, rest)

    report = index_in_new_object(db, home)
    assert (report.updated, report.resumed, report.sessions) == (1, 1, 3)
    assert report.summary().endswith("0 failed; 1 resumed")
    assert parses == []
    with LocalIndex.open(db) as index:
        assert index.source_states()[str(log)].parse_offset == log.stat().st_size
        assert indexed(index) == fresh_index(home, tmp_path)


OTHER_ID = SPOTTER_MAIN[::-1]
"""A session id as long as the corpus session's: a rewrite with it keeps the log's length."""


def rewrite_same_size(log: Path, rest: bytes) -> None:
    log.write_bytes(log.read_bytes().replace(SPOTTER_MAIN.encode(), OTHER_ID.encode()))


def rewrite_larger(log: Path, rest: bytes) -> None:
    log.write_bytes((log.read_bytes() + rest).replace(SPOTTER_MAIN.encode(), OTHER_ID.encode()))


@pytest.mark.usefixtures("resume_any_size")
@pytest.mark.parametrize("rewrite", [rewrite_same_size, rewrite_larger], ids=lambda f: f.__name__)
def test_a_log_rewritten_rather_than_appended_to_is_parsed_whole(
    corpus: Path, home: Path, tmp_path: Path, rewrite: Callable[[Path, bytes], None]
) -> None:
    log, rest = half_written_log(corpus, home)
    db = tmp_path / "data" / "local.db"
    rest = seen_growing(db, home, log, rest)
    inode, mtime_ns = log.stat().st_ino, log.stat().st_mtime_ns
    rewrite(log, rest)
    os.utime(log, ns=(mtime_ns + 10**9, mtime_ns + 10**9))
    assert log.stat().st_ino == inode

    report = index_in_new_object(db, home)
    assert (report.updated, report.resumed) == (1, 0)
    with LocalIndex.open(db) as index:
        assert indexed(index) == fresh_index(home, tmp_path)
        assert index.get_session(OTHER_ID).source_path == str(log)
        with pytest.raises(SessionNotFoundError):
            index.get_session(SPOTTER_MAIN)


@pytest.mark.usefixtures("resume_any_size")
def test_a_corrupt_saved_parse_is_parsed_whole_without_error_then_saved_anew(
    corpus: Path, home: Path, tmp_path: Path
) -> None:
    log, rest = half_written_log(corpus, home)
    db = tmp_path / "data" / "local.db"
    rest = seen_growing(db, home, log, rest)
    with LocalIndex.open(db) as index:
        state = index.parse_state_file(str(log))
    data = state.read_bytes()
    state.write_bytes(data[: len(data) // 2])
    middle = len(rest) // 2
    append(log, rest[:middle])

    report = index_in_new_object(db, home)
    assert (report.updated, report.resumed, report.failed, report.errors) == (1, 0, 0, [])
    with LocalIndex.open(db) as index:
        assert indexed(index) == fresh_index(home, tmp_path / "middle")

    append(log, rest[middle:])
    assert index_in_new_object(db, home).resumed == 1
    with LocalIndex.open(db) as index:
        assert indexed(index) == fresh_index(home, tmp_path / "end")


@pytest.mark.usefixtures("resume_any_size")
def test_a_last_line_still_being_written_is_read_as_a_full_parse_reads_it(
    corpus: Path, home: Path, tmp_path: Path, parses: list[Path]
) -> None:
    log, rest = half_written_log(corpus, home)
    db = tmp_path / "data" / "local.db"
    rest = seen_growing(db, home, log, rest)
    parses.clear()
    last = {
        "type": "user",
        "uuid": "last-line",
        "sessionId": SPOTTER_MAIN,
        "timestamp": "2026-02-12T23:00:00.000Z",
        "message": {"role": "user", "content": "zebracorn stampede"},
    }
    append(log, rest + orjson.dumps(last))

    assert index_in_new_object(db, home).resumed == 1
    assert parses == [log]  # the unterminated line made it a full parse
    with LocalIndex.open(db) as index:
        assert [hit.session.id for hit in index.search("zebracorn")] == [SPOTTER_MAIN]
        assert index.source_states()[str(log)].parse_offset == log.stat().st_size - len(
            orjson.dumps(last)
        )
        assert indexed(index) == fresh_index(home, tmp_path / "unterminated")

    parses.clear()
    append(log, b"\n")
    assert index_in_new_object(db, home).resumed == 1
    assert parses == []
    with LocalIndex.open(db) as index:
        assert indexed(index) == fresh_index(home, tmp_path / "terminated")


@pytest.mark.usefixtures("resume_any_size")
def test_full_parses_a_grown_log_from_the_start(corpus: Path, home: Path, tmp_path: Path) -> None:
    log, rest = half_written_log(corpus, home)
    db = tmp_path / "data" / "local.db"
    rest = seen_growing(db, home, log, rest)
    with LocalIndex.open(db) as index:
        append(log, rest)
        report = index_sources(index, sources(home), full=True)
        assert (report.updated, report.resumed) == (1, 0)
        assert indexed(index) == fresh_index(home, tmp_path)


@pytest.mark.usefixtures("resume_any_size")
def test_a_parse_that_cannot_be_saved_is_parsed_whole_the_next_time(
    corpus: Path, home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(live: IncrementalParse, file: Path) -> None:
        raise TypeError("cannot pickle 'generator' object")

    monkeypatch.setattr(IncrementalParse, "save", refuse)
    log, rest = half_written_log(corpus, home)
    db = tmp_path / "data" / "local.db"
    rest = seen_growing(db, home, log, rest)
    with LocalIndex.open(db) as index:
        assert not index.parse_state_file(str(log)).exists()
        append(log, rest)
        report = index_sources(index, sources(home))
        assert (report.updated, report.resumed, report.failed) == (1, 0, 0)
        assert indexed(index) == fresh_index(home, tmp_path)


@pytest.mark.usefixtures("resume_any_size")
def test_a_removed_log_takes_its_saved_parse_with_it(
    corpus: Path, home: Path, tmp_path: Path
) -> None:
    log, rest = half_written_log(corpus, home)
    db = tmp_path / "data" / "local.db"
    seen_growing(db, home, log, rest)
    with LocalIndex.open(db) as index:
        state = index.parse_state_file(str(log))
        assert state.is_file()
        log.unlink()
        assert index_sources(index, sources(home)).removed == 1
        assert not state.exists()


@pytest.mark.usefixtures("resume_any_size")
def test_a_log_indexed_for_the_first_time_saves_no_parse(
    corpus: Path, home: Path, index: LocalIndex
) -> None:
    log, _ = half_written_log(corpus, home)
    assert index_sources(index, sources(home)).added == 1
    assert not index.parse_state_file(str(log)).exists()


def test_logs_smaller_than_resume_min_bytes_keep_no_saved_parse(
    corpus_home: Path, index: LocalIndex
) -> None:
    found = sources(corpus_home)
    assert all(source.path.stat().st_size < indexer.RESUME_MIN_BYTES for source in found)
    index_sources(index, found)
    assert not index.parse_state_file(str(found[0].path)).parent.exists()
