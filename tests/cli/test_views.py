from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from opensession.hail import read_session
from opensession.localdb.store import LocalIndex
from tests.cli.conftest import run
from tests.localdb.conftest import CODEX_DAY, SPOTTER_PROJECT, copy_tree

SPOTTER_GQC = "258c7280-ae70-4798-800f-63464d01a85d"
"""The corpus's Claude Code session with file edits and a failed shell command."""


@pytest.fixture
def home(corpus: Path, tmp_path: Path) -> Path:
    """The corpus's Claude Code and Codex sessions (and a broken log), indexed."""
    folder = tmp_path / "home"
    copy_tree(corpus / "claude-code/spotter", folder / SPOTTER_PROJECT)
    copy_tree(corpus / "codex/localpush", folder / CODEX_DAY)
    (folder / SPOTTER_PROJECT / "broken.jsonl").write_text("{oops\n")
    assert run(folder, "index").returncode == 0
    return folder


def index_rows(home: Path) -> list:
    with LocalIndex.open(home / ".opensession" / "data" / "local.db") as index:
        return index.list_sessions(include_auxiliary=True)


def test_log_lists_sessions_newest_first_with_their_columns(home: Path) -> None:
    result = run(home, "log")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == [
        "id",
        "time",
        "tool",
        "model",
        "title",
        "duration",
        "msgs",
        "tokens",
        "in/out",
        "files",
    ]
    assert [line.split()[0] for line in lines[1:]] == [
        "019c8a70",
        "019c8a53",
        "019c8a4c",
        "ae4a77f8",
        "258c7280",
        "d6e0bada",
        "491e126e",
        "55604662",
    ]
    gqc = next(line for line in lines if line.startswith("258c7280"))
    assert "claude-code" in gqc and "claude-opus-4-6" in gqc and "Implement spotter-gqc" in gqc
    assert gqc.split()[-1] == "26"  # files changed


def test_log_filters_and_json(home: Path) -> None:
    codex = orjson.loads(run(home, "log", "--tool", "codex", "--json").stdout)
    assert [row["tool"] for row in codex] == ["codex"] * 3
    assert {"id", "created_at", "model", "title", "stats", "source_path"} <= codex[0].keys()
    assert len(orjson.loads(run(home, "log", "-n", "2", "--json").stdout)) == 2
    since = orjson.loads(run(home, "log", "--since", "2026-02-12", "--json").stdout)
    assert [row["id"][:8] for row in since] == ["019c8a70", "019c8a53", "019c8a4c", "ae4a77f8"]
    assert orjson.loads(run(home, "log", "--since", "1d", "--json").stdout) == []
    found = orjson.loads(run(home, "log", "--search", "phoenix", "--json").stdout)
    assert {row["id"][:8] for row in found} == {"d6e0bada", "258c7280", "ae4a77f8"}
    bad = run(home, "log", "--since", "yesterday")
    assert bad.returncode == 2 and "neither a span" in bad.stderr


def test_log_errors_lists_failed_sources(home: Path) -> None:
    result = run(home, "log", "--errors")
    assert "broken.jsonl: " in result.stdout
    failed = orjson.loads(run(home, "log", "--errors", "--json").stdout)
    assert [Path(item["path"]).name for item in failed] == ["broken.jsonl"]
    assert failed[0]["error"]


def test_log_on_an_empty_index_says_to_index(tmp_path: Path) -> None:
    result = run(tmp_path, "log")
    assert result.returncode == 0
    assert "no sessions indexed yet: run 'opensession index'" in result.stderr


def test_show_text_is_a_coloured_timeline(home: Path) -> None:
    result = run(home, "show", "258c", color=True)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    plain = re.sub(r"\x1b\[[0-9;]*m", "", out)
    assert "Implement spotter-gqc" in plain.splitlines()[1]
    assert "▌ user" in plain
    assert re.search(r"\x1b\[[0-9;]*32m\+", out)  # added diff lines in green
    assert re.search(r"\x1b\[[0-9;]*31m-", out)  # removed ones in red
    assert re.search(r"\x1b\[[0-9;]*31m\s*exit 1", out)  # a failed command in red
    assert "exit 0" in plain
    assert "more lines" in plain  # long outputs folded


def test_show_per_tool_refs_and_errors(home: Path) -> None:
    codex = run(home, "show", "--tool", "codex HEAD", "--format", "json")
    assert orjson.loads(codex.stdout)["session_id"] == "019c8a70-dda7-7f33-98ea-f30553347322"
    claude = run(home, "show", "--claude", "HEAD~1", "--format", "json")
    assert orjson.loads(claude.stdout)["session_id"] == SPOTTER_GQC
    bad = run(home, "show", "--tool", "kodex HEAD")
    assert bad.returncode == 1
    assert bad.stderr.strip().startswith(
        "Error: unknown tool 'kodex'; supported tools: claude-code"
    )
    too_far = run(home, "show", "HEAD~20")
    assert too_far.stderr.strip() == (
        "Error: no session HEAD~20: only 8 sessions (HEAD to HEAD~7); "
        "run 'opensession index' to pick up new sessions"
    )


def test_show_hail_round_trips(home: Path, tmp_path: Path) -> None:
    result = subprocess.run(
        [str(Path(sys.executable).with_name("opensession")), "show", "ae4a", "--format", "hail"],
        capture_output=True,
        env=dict(os.environ, HOME=str(home), OPENSESSION_HOME=str(home / ".opensession")),
        check=True,
    )
    target = tmp_path / "out.hail.jsonl"
    target.write_bytes(result.stdout)
    session = read_session(target)
    assert session.session_id.startswith("ae4a")
    assert len(session.events) > 100
    markdown = run(home, "show", "ae4a", "--format", "md").stdout
    assert markdown.startswith("# Work on bead spotter-4te")


def test_show_a_file_path_that_is_not_indexed(corpus: Path, tmp_path: Path) -> None:
    path = corpus / "gemini/agentsview__tool_calls.json"
    result = run(tmp_path, "show", str(path))
    assert result.returncode == 0, result.stderr
    assert "gemini" in result.stdout and "▌ user" in result.stdout


def test_search_highlights_the_matched_word(home: Path) -> None:
    result = run(home, "search", "phoenix", "--tool", "claude-code", color=True)
    assert result.returncode == 0, result.stderr
    assert re.search(r"\x1b\[[0-9;]*7[;0-9]*m[Pp]hoenix\x1b\[0m", result.stdout)
    hits = orjson.loads(run(home, "search", "phoenix", "--json").stdout)
    assert hits and all(
        hit["snippet"][start:end].lower() == "phoenix"
        for hit in hits
        for start, end in hit["highlights"]
    )
    assert run(home, "search", "zzzqqq").stderr.strip() == "no indexed session matches 'zzzqqq'"


def test_stats_totals_match_the_index(home: Path) -> None:
    rows = index_rows(home)
    total = orjson.loads(run(home, "stats", "--json").stdout)
    assert total["sessions"] == sum(not row.is_auxiliary for row in rows) == 8
    assert total["sub_agents"] == 4
    assert total["input_tokens"] == sum(row.stats.total_input_tokens for row in rows)
    assert total["lines_added"] == sum(row.stats.lines_added for row in rows)
    by_tool = orjson.loads(run(home, "stats", "--by", "tool", "--json").stdout)
    assert {group["group"]: group["sessions"] for group in by_tool} == {
        "claude-code": 5,
        "codex": 3,
    }
    assert sum(group["tool_calls"] for group in by_tool) == total["tool_calls"]
    by_day = orjson.loads(run(home, "stats", "--by", "day", "--json").stdout)
    assert [group["group"] for group in by_day] == [
        "2026-02-23",
        "2026-02-12",
        "2026-02-11",
        "2026-02-10",
    ]
    table = run(home, "stats", "--by", "tool").stdout
    assert "claude-code" in table and "codex" in table
