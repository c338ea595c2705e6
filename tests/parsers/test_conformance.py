"""Every real session file in the shared corpus parses into valid HAIL, losing nothing."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from opensession.hail import model as m
from opensession.hail.validate import validate_session
from opensession.parsers.discovery import sources_in
from opensession.parsers.registry import TOOLS, parse_path

# The Cursor corpus holds rows' JSON values, not a state.vscdb: test_cursor.py builds databases.
CORPUS_TOOLS = [tool for tool in TOOLS if tool != "cursor"]

# Sources with no user input at all (read by hand): fixtures of tool traffic or system notices
# only, and an aider run quit before any prompt. Every other source must yield a UserMessage.
WITHOUT_USER_INPUT = {
    "claude-code/opensession__session-fallback.jsonl",
    "codex/opensession__web-search-actions.jsonl",
    "gemini/agentsview__system_messages.json",
    "aider/automataii__.aider.chat.history.md",
}


def corpus_sources(corpus: Path, tool: str) -> list[Path]:
    folder = corpus / tool
    if not folder.is_dir():
        pytest.skip(f"the corpus has no {tool} sessions")
    return [source.path for source in sources_in(folder)]


def json_object_lines(path: Path) -> int:
    count = 0
    for raw in path.read_bytes().splitlines():
        try:
            count += isinstance(orjson.loads(raw), dict)
        except orjson.JSONDecodeError:
            continue
    return count


@pytest.mark.parametrize("tool", CORPUS_TOOLS)
def test_every_corpus_source_is_detected_as_its_tool(corpus: Path, tool: str) -> None:
    folder = corpus / tool
    if not folder.is_dir():
        pytest.skip(f"the corpus has no {tool} sessions")
    found = list(sources_in(folder))
    assert found, f"nothing under {folder} was recognised"
    assert {source.tool for source in found} == {tool}


@pytest.mark.parametrize("tool", CORPUS_TOOLS)
def test_every_corpus_source_parses_into_valid_hail_losing_nothing(corpus: Path, tool: str) -> None:
    for path in corpus_sources(corpus, tool):
        result = parse_path(path, tool)
        main = result.session
        has_user_message = any(isinstance(e.event_type, m.UserMessage) for e in main.events)
        expected = path.relative_to(corpus).as_posix() not in WITHOUT_USER_INPUT
        assert has_user_message == expected, path
        for session in result.sessions:
            assert session.agent.tool == tool, path
            errors = [f for f in validate_session(session) if f.severity == "error"]
            assert errors == [], (path, session.session_id, errors)
            records = session.context.attributes["source_records"]
            skipped = sum(records["skipped"].values())
            assert records["total"] == records["mapped"] + records["merged"] + skipped, path
            assert records["mapped"] > 0, path
        if path.suffix == ".jsonl":
            assert main.context.attributes["source_records"]["total"] == json_object_lines(path)
