from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from opensession.localdb.indexer import index_sources
from opensession.localdb.store import LocalIndex, stat_source
from opensession.parsers import registry
from opensession.parsers.base import ParseResult

from .conftest import SPOTTER_MAIN, SPOTTER_PROJECT, sources, write_claude_log

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
