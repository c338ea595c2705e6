from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import orjson

from opensession.localdb.indexer import index_sources
from opensession.localdb.store import LocalIndex
from tests.localdb.conftest import (
    CODEX_DAY,
    SPOTTER_PROJECT,
    copy_tree,
    half_written_log,
    indexed,
    sources,
    write_claude_log,
)


def environment(home: Path) -> dict[str, str]:
    """The environment of a user whose home is ``home`` (no tool location overridden)."""
    env = dict(os.environ, HOME=str(home), OPENSESSION_HOME=str(home / ".opensession"))
    for variable in ("CLAUDE_CONFIG_DIR", "CODEX_HOME", "XDG_DATA_HOME", "XDG_CONFIG_HOME"):
        env.pop(variable, None)
    return env


def run(home: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    executable = Path(sys.executable).with_name("opensession")
    return subprocess.run(
        [str(executable), "index", *args], capture_output=True, env=environment(home), check=False
    )


def test_index_json_end_to_end_then_nothing_to_do(corpus: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    copy_tree(corpus / "claude-code/spotter", home / SPOTTER_PROJECT)
    copy_tree(corpus / "codex/localpush", home / CODEX_DAY)
    (home / SPOTTER_PROJECT / "broken.jsonl").write_text("{oops\n")

    first = run(home, "--json")
    assert first.returncode == 0, first.stderr
    report = orjson.loads(first.stdout)
    assert (report["sources"], report["added"], report["failed"]) == (9, 8, 1)
    assert report["sessions"] == 8 + 4  # two main logs have two sub-agents each
    assert report["errors"][0]["path"].endswith("broken.jsonl")

    second = orjson.loads(run(home, "--json").stdout)
    assert (second["unchanged"], second["added"], second["failed"]) == (8, 0, 1)

    with LocalIndex.open(home / ".opensession" / "data" / "local.db") as index:
        assert {row.tool for row in index.list_sessions()} == {"claude-code", "codex"}
        assert len(index.list_sessions()) == 8


_INDEX_RESUMING_ANY_SIZE = (
    "import opensession.localdb.indexer as indexer; indexer.RESUME_MIN_BYTES = 1; "
    "from opensession.cli.main import cli; cli(['index', '--json'])"
)
"""``opensession index --json``, with every Claude Code log keeping its parse (as large ones do)."""


def test_index_reads_a_grown_log_on_from_the_parse_its_last_run_saved(
    corpus: Path, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    log, rest = half_written_log(corpus, home)

    def index() -> dict[str, object]:
        done = subprocess.run(
            [sys.executable, "-c", _INDEX_RESUMING_ANY_SIZE],
            capture_output=True,
            env=environment(home),
            check=True,
        )
        report: dict[str, object] = orjson.loads(done.stdout)
        return report

    first = index()
    assert (first["added"], first["resumed"]) == (1, 0)
    line_end = rest.index(b"\n") + 1
    with log.open("ab") as stream:
        stream.write(rest[:line_end])
    second = index()
    assert (second["updated"], second["resumed"]) == (1, 0)
    with log.open("ab") as stream:
        stream.write(rest[line_end:])
    third = index()
    assert (third["updated"], third["resumed"], third["sessions"]) == (1, 1, 3)

    with LocalIndex.open(tmp_path / "fresh.db") as fresh:
        index_sources(fresh, sources(home), full=True)
        expected = indexed(fresh)
    with LocalIndex.open(home / ".opensession" / "data" / "local.db") as resumed:
        assert indexed(resumed) == expected


def test_index_prints_a_one_line_summary_and_failures_on_stderr(tmp_path: Path) -> None:
    home = tmp_path / "home"
    project = home / ".claude/projects/-work-app"
    write_claude_log(project / "a.jsonl", "s-a", prompt="hello")
    (project / "broken.jsonl").write_text("{oops\n")

    result = run(home)
    assert result.returncode == 0, result.stderr
    assert result.stdout.decode() == (
        "indexed 2 sources: 1 added, 0 updated, 0 unchanged, 0 removed, 1 failed\n"
    )
    assert f"failed: {project / 'broken.jsonl'}: " in result.stderr.decode()

    (project / "a.jsonl").unlink()
    assert run(home).stdout.decode() == (
        "indexed 1 sources: 0 added, 0 updated, 0 unchanged, 1 removed, 1 failed\n"
    )


def test_index_repo_takes_only_that_repos_sessions(tmp_path: Path) -> None:
    home = tmp_path / "home"
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    project = home / ".claude/projects/-work-app"
    write_claude_log(project / "in.jsonl", "s-in", prompt="inside", cwd=str(repo))
    write_claude_log(project / "out.jsonl", "s-out", prompt="outside", cwd="/somewhere/else")

    report = orjson.loads(run(home, "--repo", str(repo), "--json").stdout)
    assert (report["sources"], report["added"]) == (1, 1)
    with LocalIndex.open(home / ".opensession" / "data" / "local.db") as index:
        assert [row.id for row in index.list_sessions()] == ["s-in"]
        assert index.list_sessions()[0].repo_root == str(repo)

    everything = orjson.loads(run(home, "--json").stdout)
    assert (everything["unchanged"], everything["added"]) == (1, 1)


def test_a_corrupt_index_is_rebuilt_with_a_warning(tmp_path: Path) -> None:
    home = tmp_path / "home"
    write_claude_log(home / ".claude/projects/-work-app/a.jsonl", "s-a", prompt="hello")
    database = home / ".opensession" / "data" / "local.db"
    database.parent.mkdir(parents=True)
    database.write_bytes(b"garbage " * 1000)

    result = run(home)
    assert result.returncode == 0, result.stderr
    assert "warning: the local index" in result.stderr.decode()
    assert "1 added" in result.stdout.decode()
    assert list(database.parent.glob("local.db.corrupt-*"))


def damage_pages(database: Path) -> None:
    """Garbage over the pages of the sessions and sources tables: the file still opens (its
    schema is intact), reading sessions fails."""
    with sqlite3.connect(database) as db:
        page_size = db.execute("PRAGMA page_size").fetchone()[0]
        roots = db.execute(
            "SELECT rootpage FROM sqlite_master WHERE name IN ('sessions', 'sources')"
        ).fetchall()
    db.close()
    data = bytearray(database.read_bytes())
    for (root,) in roots:
        start = (root - 1) * page_size
        data[start : start + page_size] = b"\xa5" * page_size
    database.write_bytes(bytes(data))


def test_damage_found_while_reading_sets_the_index_aside_and_index_rebuilds_it(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    project = home / ".claude/projects/-work-app"
    for number in range(40):
        write_claude_log(project / f"{number}.jsonl", f"s-{number}", prompt=f"task {number} " * 50)
    assert run(home).returncode == 0
    database = home / ".opensession" / "data" / "local.db"
    damage_pages(database)

    env = dict(os.environ, HOME=str(home), OPENSESSION_HOME=str(home / ".opensession"))
    executable = Path(sys.executable).with_name("opensession")
    listing = subprocess.run(
        [str(executable), "search", "task"], capture_output=True, env=env, check=False
    )
    assert listing.returncode == 1
    error = listing.stderr.decode().strip().splitlines()
    assert error[-1].startswith("Error: the local index was damaged (")
    assert error[-1].endswith("run 'opensession index' to rebuild it")
    assert any(p.name.startswith("local.db.corrupt-") for p in database.parent.iterdir())

    rebuilt = run(home)
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert rebuilt.stdout.decode().startswith("indexed 40 sources: 40 added")
    with LocalIndex.open(database) as index:
        assert index.count_sessions() == 40


def test_index_rebuilds_a_database_damaged_behind_its_first_page(tmp_path: Path) -> None:
    home = tmp_path / "home"
    project = home / ".claude/projects/-work-app"
    for number in range(40):
        write_claude_log(project / f"{number}.jsonl", f"s-{number}", prompt=f"task {number} " * 50)
    assert run(home).returncode == 0
    damage_pages(home / ".opensession" / "data" / "local.db")
    write_claude_log(project / "new.jsonl", "s-new", prompt="one more")

    result = run(home)
    assert result.returncode == 0, result.stderr
    assert "warning: the local index was damaged" in result.stderr.decode()
    assert result.stdout.decode().startswith("indexed 41 sources: 41 added")
