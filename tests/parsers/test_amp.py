"""Amp thread documents: messages, tool calls and results, usage, environment, accounting."""

from __future__ import annotations

import copy
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from opensession.hail import model as m
from opensession.hail.validate import validate_session
from opensession.parsers.amp import PARSER
from opensession.parsers.base import SessionParseError
from opensession.parsers.cline import PARSER as CLINE
from opensession.parsers.common import read_head
from opensession.parsers.cursor import PARSER as CURSOR

CREATED = 1_767_865_803_494
THREAD_ID = "T-019b9d03-62e3-772f-9780-3e637f90eaec"


def usage(input_tokens: int, output_tokens: int, **cache: int) -> dict[str, Any]:
    return {
        "model": "claude-sonnet-4-5-20250929",
        "inputTokens": input_tokens,
        "outputTokens": output_tokens,
        "cacheCreationInputTokens": cache.get("creation", 0),
        "cacheReadInputTokens": cache.get("read", 0),
    }


# Shaped after threads written by Amp's CLI (fields as public readers of ~/.local/share/amp
# describe them: role/content blocks, toolUseID + run on results, meta.sentAt, usage, env).
THREAD: dict[str, Any] = {
    "v": 42,
    "id": THREAD_ID,
    "created": CREATED,
    "title": "Fix the failing date test",
    "agentMode": "smart",
    "env": {
        "initial": {
            "trees": [{
                "displayName": "calendar",
                "uri": "file:///home/ada/src/calendar",
                "repository": {"type": "git", "url": "https://github.com/ada/calendar",
                               "ref": "refs/heads/main", "sha": "4f2a9c1"},
            }],
            "platform": {"os": "linux", "client": "CLI", "clientVersion": "0.0.1767000000"},
        }
    },
    "messages": [
        {"role": "user", "messageId": 0, "meta": {"sentAt": CREATED + 1000},
         "content": [{"type": "text", "text": "The date test fails, please fix it"}]},
        {"role": "assistant", "messageId": 1,
         "state": {"type": "complete", "stopReason": "tool_use"},
         "usage": usage(12, 180, creation=9000, read=2000),
         "content": [
             {"type": "thinking", "thinking": "Look at the test first.", "signature": "s1"},
             {"type": "text", "text": "Let me run the tests."},
             {"type": "tool_use", "id": "toolu_bash", "name": "Bash",
              "input": {"cmd": "npm test -- dates", "cwd": "/home/ada/src/calendar"}},
         ]},
        {"role": "user", "messageId": 2, "meta": {"sentAt": CREATED + 9000},
         "content": [{"type": "tool_result", "toolUseID": "toolu_bash",
                      "run": {"status": "done",
                              "result": {"output": "1 failing: parses ISO dates",
                                         "exitCode": 1}}}]},
        {"role": "assistant", "messageId": 3, "usage": usage(8, 240, read=11000),
         "content": [
             {"type": "tool_use", "id": "toolu_read", "name": "Read",
              "input": {"path": "/home/ada/src/calendar/src/dates.ts"}},
             {"type": "tool_use", "id": "toolu_edit", "name": "edit_file",
              "input": {"path": "/home/ada/src/calendar/src/dates.ts",
                        "old_str": "return new Date(s)", "new_str": "return parseISO(s)"}},
         ]},
        {"role": "user", "messageId": 4, "meta": {"sentAt": CREATED + 15000},
         "content": [
             {"type": "tool_result", "toolUseID": "toolu_read",
              "run": {"status": "done",
                      "result": {"content": "1: export function parse(s) {\n"
                                            "2:   return new Date(s)"}}},
             {"type": "tool_result", "toolUseID": "toolu_edit",
              "run": {"status": "error", "error": {"message": "file changed on disk"}}},
         ]},
        {"role": "assistant", "messageId": 5, "usage": usage(5, 60),
         "content": [{"type": "text", "text": "Fixed: dates are now parsed as ISO 8601."}]},
        {"role": "info", "messageId": 6, "meta": {"sentAt": CREATED + 30000},
         "content": [{"type": "summary",
                      "summary": {"type": "message", "summary": "Fixed ISO parsing."}}]},
    ],
}  # fmt: skip


def write(path: Path, thread: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(orjson.dumps(thread, option=orjson.OPT_INDENT_2))
    return path


@pytest.fixture
def thread_file(tmp_path: Path) -> Path:
    return write(tmp_path / ".local/share/amp/threads" / f"{THREAD_ID}.json", THREAD)


def at(offset_ms: int) -> datetime:
    return datetime.fromtimestamp((CREATED + offset_ms) / 1000, tz=UTC)


def test_thread_becomes_a_session_with_its_own_title_and_context(thread_file: Path) -> None:
    session = PARSER.parse(thread_file).session
    assert session.session_id == THREAD_ID
    assert session.context.title == "Fix the failing date test"
    assert session.agent == m.Agent(
        provider="anthropic",
        model="claude-sonnet-4-5-20250929",
        tool="amp",
        tool_version="0.0.1767000000",
    )
    attributes = session.context.attributes
    assert attributes["cwd"] == "/home/ada/src/calendar"
    assert attributes["git"] == {
        "branch": "main",
        "commit_hash": "4f2a9c1",
        "repository_url": "https://github.com/ada/calendar",
    }
    assert attributes["originator"] == "CLI"
    assert attributes["amp.agent_mode"] == "smart"
    assert session.context.created_at == at(0)
    assert session.context.updated_at == at(30000)
    assert validate_session(session) == []


def test_messages_map_to_events_in_order(thread_file: Path) -> None:
    session = PARSER.parse(thread_file).session
    assert [e.event_type.type for e in session.events] == [
        "UserMessage", "Thinking", "AgentMessage", "ShellCommand", "ToolResult",
        "FileRead", "FileEdit", "ToolResult", "ToolResult", "AgentMessage", "SystemMessage",
    ]  # fmt: skip
    assert session.events[0].text() == "The date test fails, please fix it"
    assert session.events[1].text() == "Look at the test first."
    assert session.events[-1].text() == "Fixed ISO parsing."
    assert len({e.event_id for e in session.events}) == len(session.events)


def test_tool_calls_pair_with_results_and_carry_exit_codes(thread_file: Path) -> None:
    events = PARSER.parse(thread_file).session.events
    bash, bash_result = events[3], events[4]
    assert bash.event_type.data == m.ShellCommandData(command="npm test -- dates", exit_code=1)
    assert bash.content.blocks == [m.CodeBlock(code="npm test -- dates", language="bash")]
    assert bash_result.event_type.data == m.ToolResultData(
        name="Bash", is_error=True, call_id="toolu_bash"
    )
    assert bash_result.text() == "1 failing: parses ISO dates"
    assert bash.attributes["semantic.call_id"] == bash_result.attributes["semantic.call_id"]
    read_result, edit_result = events[7], events[8]
    assert read_result.event_type.data.name == "Read"
    assert "return new Date(s)" in read_result.text()
    assert edit_result.event_type.data == m.ToolResultData(
        name="edit_file", is_error=True, call_id="toolu_edit"
    )
    assert edit_result.text() == "file changed on disk"


def test_edit_file_has_a_diff_of_its_strings(thread_file: Path) -> None:
    session = PARSER.parse(thread_file).session
    edit = session.events[6]
    assert edit.event_type.data.path == "/home/ada/src/calendar/src/dates.ts"
    assert "-return new Date(s)\n+return parseISO(s)\n" in edit.event_type.data.diff
    assert (session.stats.lines_added, session.stats.lines_removed) == (1, 1)


def test_usage_is_counted_once_per_answer(thread_file: Path) -> None:
    session = PARSER.parse(thread_file).session
    thinking = session.events[1]
    assert thinking.attributes["input_tokens"] == 12
    assert thinking.attributes["output_tokens"] == 180
    assert thinking.attributes["cache_creation_input_tokens"] == 9000
    assert thinking.attributes["cache_read_input_tokens"] == 2000
    assert "input_tokens" not in session.events[2].attributes
    assert session.stats.total_input_tokens == 12 + 8 + 5
    assert session.stats.total_output_tokens == 180 + 240 + 60


def test_messages_without_sent_at_take_the_previous_time(thread_file: Path) -> None:
    events = PARSER.parse(thread_file).session.events
    assert events[0].timestamp == at(1000)
    assert events[1].timestamp == at(1000)  # the answer has no meta.sentAt
    assert events[4].timestamp == at(9000)
    assert events[9].timestamp == at(15000)
    times = [e.timestamp for e in events]
    assert times == sorted(times)


def test_every_message_is_accounted_for(thread_file: Path) -> None:
    records = PARSER.parse(thread_file).session.context.attributes["source_records"]
    assert records == {"total": 7, "mapped": 7, "merged": 0, "skipped": {}}


def test_bad_messages_are_skipped_with_warnings(tmp_path: Path) -> None:
    thread = copy.deepcopy(THREAD)
    del thread["title"]
    thread["messages"] += [
        "garbage",
        {"role": "narrator", "content": []},
        {"role": "assistant", "content": {"not": "a list"}},
        {"role": "assistant", "content": [{"type": "redacted_thinking", "data": "…"}]},
        {"role": "assistant", "content": [{"type": "text", "text": "ok"}], "usage": "lots"},
    ]
    result = PARSER.parse(write(tmp_path / "T-x.json", thread))
    session = result.session
    assert session.context.title == "The date test fails, please fix it"
    records = session.context.attributes["source_records"]
    assert records["total"] == 12
    assert records["skipped"] == {
        "unreadable message": 2,
        "unknown role": 1,
        "empty message": 1,
    }
    reasons = [w.reason for w in result.warnings]
    assert "message 7: expected a JSON object; skipped" in reasons
    assert "message 8: unknown role 'narrator'; skipped" in reasons
    assert "message 11: field 'usage' is not an object; ignored" in reasons
    assert session.events[-1].text() == "ok"


def test_results_without_ids_pair_with_the_last_call_and_legacy_shapes(tmp_path: Path) -> None:
    thread = {
        "id": "T-legacy",
        "created": CREATED,
        "messages": [
            {"role": "user", "content": "write a file"},
            {"role": "assistant", "content": [
                {"type": "tool_use", "id": "t1", "name": "create_file",
                 "input": {"path": "a.txt", "content": "hello"}},
            ]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "t1", "content": "created",
                 "is_error": False},
            ]},
            {"role": "assistant", "content": [
                {"type": "tool_use", "name": "create_file", "input": {"path": "a.txt"}},
                {"type": "tool_use", "id": "t3", "name": "glob", "input": {"filePattern": "*.ts"}},
            ]},
            {"role": "user", "content": [
                {"type": "tool_result",
                 "run": {"status": "cancelled", "progress": ["half", "way"]}},
            ]},
        ],
    }  # fmt: skip
    events = PARSER.parse(write(tmp_path / "T-legacy.json", thread)).session.events
    assert events[0].text() == "write a file"
    assert events[1].event_type == m.FileCreate(data=m.PathData(path="a.txt"))
    assert events[2].event_type.data == m.ToolResultData(
        name="create_file", is_error=False, call_id="t1"
    )
    assert events[3].event_type == m.FileEdit(data=m.FileEditData(path="a.txt"))  # it existed
    last = events[-1]
    assert last.event_type.data == m.ToolResultData(name="glob", is_error=True, call_id="t3")
    assert last.text() == "half\nway"


def test_unreadable_threads_are_one_line_errors(tmp_path: Path) -> None:
    broken = tmp_path / "T-broken.json"
    broken.write_text('{"id": "T-broken", "messages": [')
    with pytest.raises(SessionParseError, match="not valid JSON"):
        PARSER.parse(broken)
    with pytest.raises(SessionParseError, match="no messages list"):
        PARSER.parse(write(tmp_path / "T-a.json", {"id": "T-a"}))
    with pytest.raises(SessionParseError, match="no readable messages"):
        PARSER.parse(write(tmp_path / "T-b.json", {"id": "T-b", "messages": [{"role": "x"}]}))


def test_detects_threads_by_content(thread_file: Path, tmp_path: Path) -> None:
    claim = PARSER.detect(thread_file, read_head(thread_file))
    assert claim is not None and claim.confidence >= 90
    compact = tmp_path / "anything.json"
    compact.write_bytes(orjson.dumps(THREAD))
    assert PARSER.detect(compact, read_head(compact)).confidence >= 90
    named = tmp_path / "T-abc.json"
    named.write_text("{}")
    assert PARSER.detect(named, read_head(named)).confidence < 50
    other = tmp_path / "other.json"
    other.write_text('{"id": "session-1", "messages": [{"role": "user"}]}')
    assert PARSER.detect(other, read_head(other)) is None


def test_does_not_claim_other_tools_files(corpus: Path) -> None:
    for path in corpus.rglob("*"):
        assert PARSER.detect(path, read_head(path)) is None, path


def test_cursor_and_cline_do_not_claim_a_thread(thread_file: Path) -> None:
    for path in (thread_file, thread_file.parent):
        head = read_head(path)
        assert CURSOR.detect(path, head) is None
        assert CLINE.detect(path, head) is None


@pytest.mark.slow
def test_speed_on_a_large_thread(tmp_path: Path) -> None:
    """About 50 MB of thread: reports MB/s (run with -s to see it)."""
    thread = copy.deepcopy(THREAD)
    output = "line of output\n" * 1500
    body = THREAD["messages"][1:5]
    for round_number in range(1000):
        for message in copy.deepcopy(body):
            for block in message["content"]:
                if block.get("type") == "tool_use":
                    block["id"] = f"{block['id']}-{round_number}"
                if block.get("type") == "tool_result":
                    block["toolUseID"] = f"{block['toolUseID']}-{round_number}"
                    if isinstance(block["run"].get("result"), dict):
                        block["run"]["result"]["content"] = output
            thread["messages"].append(message)
    path = write(tmp_path / "T-big.json", thread)
    size = path.stat().st_size
    started = time.perf_counter()
    session = PARSER.parse(path).session
    elapsed = time.perf_counter() - started
    print(f"\namp: {size / 1e6:.1f} MB in {elapsed:.2f} s = {size / 1e6 / elapsed:.1f} MB/s")
    assert session.context.attributes["source_records"]["total"] == 7 + 4000
