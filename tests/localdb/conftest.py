"""Session sources laid out as the tools keep them, in a temporary home folder."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from opensession.localdb.store import LocalIndex, SessionRow, SourceState, stat_source
from opensession.parsers.discovery import Location, SessionSource, default_locations, discover

SPOTTER_MAIN = "ae4a77f8-aedd-4bc1-888f-c94edc91af04"
"""A Claude Code session of the corpus with two sub-agent logs beside it."""
SPOTTER_PROJECT = ".claude/projects/-home-marco-projects-spotter"
CODEX_DAY = ".codex/sessions/2026/02/23"


def copy_tree(source: Path, target: Path) -> None:
    """Copy files without their (read-only) modes, so that tests can change and delete them."""
    for path in source.rglob("*"):
        if path.is_file():
            destination = target / path.relative_to(source)
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, destination)


def write_claude_log(
    path: Path,
    session_id: str,
    *,
    prompt: str,
    cwd: str = "/work/app",
    start: str = "2026-03-01T10:00",
    command: str | None = None,
    read: str | None = None,
) -> Path:
    """A small Claude Code log: a prompt, optionally a shell command and a file read, a reply."""
    clock = iter(range(60))

    def record(kind: str, content: Any, **fields: Any) -> dict[str, Any]:
        second = next(clock)
        role = "assistant" if kind == "assistant" else "user"
        return {
            "type": kind,
            "uuid": f"{session_id}-{second}",
            "sessionId": session_id,
            "cwd": cwd,
            "gitBranch": "main",
            "version": "2.1.40",
            "timestamp": f"{start}:{second:02d}.000Z",
            "message": {"role": role, "content": content, **fields},
        }

    def call(call_id: str, name: str, result: str, **arguments: Any) -> list[dict[str, Any]]:
        use = {"type": "tool_use", "id": call_id, "name": name, "input": arguments}
        done = {"type": "tool_result", "tool_use_id": call_id, "content": result}
        return [
            record("assistant", [use], id=f"m-{call_id}", model="claude-opus-4-6"),
            record("user", [done]),
        ]

    records = [record("user", prompt)]
    if command:
        records += call(f"{session_id}-sh", "Bash", "ok", command=command)
    if read:
        records += call(f"{session_id}-rd", "Read", "contents", file_path=read)
    records.append(
        record(
            "assistant", [{"type": "text", "text": "Done."}], id="m-end", model="claude-opus-4-6"
        )
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"".join(orjson.dumps(entry) + b"\n" for entry in records))
    return path


def half_written_log(corpus: Path, home: Path) -> tuple[Path, bytes]:
    """The corpus's Claude Code session with sub-agents, in its project under ``home``, with
    only the first half of its lines written; returns the log and the lines still to come."""
    source = corpus / "claude-code/spotter" / f"{SPOTTER_MAIN}.jsonl"
    copy_tree(source.with_suffix(""), home / SPOTTER_PROJECT / SPOTTER_MAIN)
    lines = source.read_bytes().splitlines(keepends=True)
    log = home / SPOTTER_PROJECT / source.name
    log.write_bytes(b"".join(lines[: len(lines) // 2]))
    return log, b"".join(lines[len(lines) // 2 :])


def source_state(path: Path, tool: str = "claude-code") -> SourceState:
    """``path`` as the indexer sees it now."""
    size, mtime_ns, inode = stat_source(path)
    return SourceState(str(path), tool, size, mtime_ns, inode, parse_offset=size)


def indexed(index: LocalIndex) -> tuple[list[SessionRow], list[tuple[Any, ...]]]:
    """Every session of the index and its searchable text, by id: what two indexes of the same
    files must agree on."""
    rows = sorted(index.list_sessions(include_auxiliary=True), key=lambda row: row.id)
    text = index.db.execute(
        "SELECT s.id, f.messages, f.tools, f.files, f.commands "
        "FROM sessions s JOIN sessions_fts f ON f.rowid = s.rowid ORDER BY s.id"
    ).fetchall()
    return rows, text


def locations(home: Path) -> list[Location]:
    """The tools' default locations under ``home`` (Linux layout, no environment overrides)."""
    return default_locations("linux", {}, home)


def sources(home: Path) -> list[SessionSource]:
    """Every session source discovered under ``home``."""
    return discover(locations=locations(home)).sources


@pytest.fixture
def home(tmp_path: Path) -> Path:
    folder = tmp_path / "home"
    folder.mkdir()
    return folder


@pytest.fixture
def corpus_home(corpus: Path, home: Path) -> Path:
    """Claude Code (with sub-agents) and Codex sessions of the corpus where the tools keep them."""
    copy_tree(corpus / "claude-code/spotter", home / SPOTTER_PROJECT)
    copy_tree(corpus / "codex/localpush", home / CODEX_DAY)
    return home


@pytest.fixture
def index(tmp_path: Path) -> Iterator[LocalIndex]:
    with LocalIndex.open(tmp_path / "data" / "local.db") as opened:
        yield opened
