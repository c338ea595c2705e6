"""Gemini CLI chat recordings (JSON documents and JSONL logs) into HAIL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from opensession.hail import model as m
from opensession.hail.validate import validate_session
from opensession.parsers.append_only import IncrementalParse
from opensession.parsers.base import SessionParseError
from opensession.parsers.common import read_head
from opensession.parsers.gemini import PARSER
from opensession.parsers.opencode import PARSER as OPENCODE

SESSION_ID = "5a1f0c3e-2b7d-4c11-9e2a-0f6f2d8c9b10"


def write_jsonl(path: Path, records: list[dict[str, Any]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"".join(orjson.dumps(record) + b"\n" for record in records))
    return path


def write_document(path: Path, messages: list[Any], **metadata: Any) -> Path:
    document = {
        "sessionId": SESSION_ID,
        "projectHash": "f" * 64,
        "startTime": "2026-03-01T10:00:00.000Z",
        "lastUpdated": "2026-03-01T10:05:00.000Z",
        **metadata,
        "messages": messages,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(orjson.dumps(document, option=orjson.OPT_INDENT_2))
    return path


def user(message_id: str, content: Any, second: int = 1, **extra: Any) -> dict[str, Any]:
    return {
        "id": message_id,
        "timestamp": f"2026-03-01T10:00:{second:02d}.000Z",
        "type": "user",
        "content": content,
        **extra,
    }


def gemini(message_id: str, content: Any = "", second: int = 2, **extra: Any) -> dict[str, Any]:
    return {
        "id": message_id,
        "timestamp": f"2026-03-01T10:00:{second:02d}.000Z",
        "type": "gemini",
        "content": content,
        "model": "gemini-2.5-pro",
        **extra,
    }


def tool_call(call_id: str, name: str, args: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"id": call_id, "name": name, "args": args, "status": "success", **extra}


def shell_result(call_id: str, output: str) -> list[dict[str, Any]]:
    response = {"id": call_id, "name": "run_shell_command", "response": {"output": output}}
    return [{"functionResponse": response}]


def texts(session: m.Session, kind: type[m.HailModel]) -> list[str]:
    return [event.text() for event in session.events if isinstance(event.event_type, kind)]


def records(session: m.Session) -> dict[str, Any]:
    return session.context.attributes["source_records"]


def is_result(event: m.Event) -> bool:
    return isinstance(event.event_type, m.ToolResult)


def assert_valid(session: m.Session) -> None:
    errors = [f for f in validate_session(session) if f.severity != "info"]
    assert errors == []


# --- The real files of the corpus ---


def test_corpus_standard_session_alternates_user_and_agent(corpus: Path) -> None:
    session = PARSER.parse(corpus / "gemini" / "agentsview__standard_session.json").session
    assert session.session_id == "sess-uuid-1"
    assert session.agent.tool == "gemini"
    assert session.context.title == "Fix the login bug"
    assert [type(e.event_type).__name__ for e in session.events] == [
        "UserMessage",
        "AgentMessage",
        "UserMessage",
        "AgentMessage",
    ]
    assert texts(session, m.AgentMessage) == ["Looking at the auth module...", "Applied the fix."]
    assert session.stats.duration_seconds == 305
    assert records(session) == {"total": 4, "mapped": 4, "merged": 0, "skipped": {}}
    assert session.context.attributes["project_hash"] == "abc123def456"
    assert_valid(session)


def test_corpus_info_warning_and_error_become_system_messages_with_a_level(corpus: Path) -> None:
    session = PARSER.parse(corpus / "gemini" / "agentsview__system_messages.json").session
    levels = [(e.text(), e.attributes["level"]) for e in session.events]
    assert levels == [
        ("Starting session", "info"),
        ("Some error", "error"),
        ("Some warning", "warning"),
    ]
    assert all(isinstance(e.event_type, m.SystemMessage) for e in session.events)
    assert session.context.title is None
    assert records(session)["mapped"] == 3


def test_corpus_thoughts_become_thinking_with_the_subject_in_bold(corpus: Path) -> None:
    session = PARSER.parse(corpus / "gemini" / "agentsview__thinking_only.json").session
    assert texts(session, m.Thinking) == [
        "**Understanding request**\n\nThe user wants an explanation of the system.",
        "**Planning response**\n\nI should describe the config loading flow.",
    ]
    thinking = [e for e in session.events if isinstance(e.event_type, m.Thinking)]
    assert thinking[0].timestamp.isoformat() == "2024-01-01T10:00:01+00:00"
    assert session.agent.model == "gemini-2.5-pro"
    assert session.agent.provider == "google"


def test_corpus_read_file_call_is_a_file_read_paired_with_its_result(corpus: Path) -> None:
    session = PARSER.parse(corpus / "gemini" / "agentsview__tool_calls.json").session
    call, result = session.events[-2:]
    assert call.event_type == m.FileRead(data=m.PathData(path="main.go"))
    assert isinstance(result.event_type, m.ToolResult)
    assert result.event_type.data.name == "read_file"
    assert result.event_type.data.is_error is False
    assert call.attributes["semantic.call_id"] == result.attributes["semantic.call_id"]
    assert result.event_type.data.call_id == call.attributes["semantic.call_id"]
    assert session.stats.tool_call_count == 1
    assert_valid(session)


def test_corpus_content_given_as_parts(corpus: Path) -> None:
    session = PARSER.parse(corpus / "gemini" / "opensession__session-parts.json").session
    assert session.session_id == "gemini-fixture-1"
    assert texts(session, m.UserMessage) == ["review parser"]
    assert texts(session, m.AgentMessage) == ["analysis complete"]
    assert session.context.title == "review parser"


def test_corpus_shell_call_its_output_and_tokens(corpus: Path) -> None:
    session = PARSER.parse(corpus / "gemini" / "opensession__session-toolcalls.json").session
    shell = next(e for e in session.events if isinstance(e.event_type, m.ShellCommand))
    result = next(e for e in session.events if isinstance(e.event_type, m.ToolResult))
    assert shell.event_type.data.command == "git status"
    assert shell.content.blocks == [m.CodeBlock(code="git status", language="bash")]
    assert result.text() == "clean"
    assert shell.attributes["semantic.call_id"] == result.event_type.data.call_id == "call-1"
    assert session.agent.model == "gemini-2.5-flash"
    assert (session.stats.total_input_tokens, session.stats.total_output_tokens) == (11, 7)
    assert_valid(session)


def test_every_corpus_file_is_detected_with_high_confidence(corpus: Path) -> None:
    for path in sorted((corpus / "gemini").iterdir()):
        found = PARSER.detect(path, read_head(path))
        assert found is not None and found.confidence >= 90, path
        assert OPENCODE.detect(path, read_head(path)) is None, path


def test_other_tools_files_are_not_claimed(corpus: Path) -> None:
    others = [p for p in corpus.rglob("*") if p.is_file() and "gemini" not in p.parts]
    assert others
    for path in others:
        found = PARSER.detect(path, read_head(path))
        assert found is None or found.confidence < 50, (path, found)
    for folder in [p for p in corpus.rglob("*") if p.is_dir()]:
        assert PARSER.detect(folder, b"") is None


# --- The JSONL log of newer versions ---


def jsonl_log(tmp_path: Path) -> Path:
    first = gemini("g1", "Let me look.", second=3)
    call = tool_call("call-1", "run_shell_command", {"command": "pytest -q"}, status="executing")
    updated = {
        **first,
        "toolCalls": [
            {
                **call,
                "status": "success",
                "result": shell_result("call-1", "Output: 2 failed\nExit Code: 1"),
            }
        ],
        "tokens": {
            "input": 100,
            "output": 20,
            "cached": 60,
            "thoughts": 5,
            "tool": 3,
            "total": 128,
        },
    }
    return write_jsonl(
        tmp_path / "chats" / "session-2026-03-01T10-00-5a1f0c3e.jsonl",
        [
            {
                "sessionId": SESSION_ID,
                "projectHash": "f" * 64,
                "startTime": "2026-03-01T10:00:00Z",
                "lastUpdated": "2026-03-01T10:00:00Z",
                "kind": "main",
            },
            user("u1", [{"text": "Why do the tests fail?"}]),
            {"$set": {"lastUpdated": "2026-03-01T10:00:01Z"}},
            {**first, "toolCalls": [call]},
            updated,
            user("u2", "never mind", second=5),
            {"$rewindTo": "u2"},
            {"$set": {"summary": "Debug failing tests", "lastUpdated": "2026-03-01T10:09:00Z"}},
        ],
    )


def test_jsonl_last_version_of_a_message_wins_in_the_place_of_the_first(tmp_path: Path) -> None:
    session = PARSER.parse(jsonl_log(tmp_path)).session
    kinds = [type(e.event_type).__name__ for e in session.events]
    assert kinds == ["UserMessage", "AgentMessage", "ShellCommand", "ToolResult"]
    shell = session.events[2]
    assert shell.event_type.data.exit_code == 1
    assert shell.attributes["status"] == "success"
    assert session.events[3].text() == "Output: 2 failed\nExit Code: 1"
    assert session.context.title == "Debug failing tests"
    assert session.context.updated_at.isoformat() == "2026-03-01T10:09:00+00:00"
    assert "never mind" not in texts(session, m.UserMessage)
    assert_valid(session)


def test_jsonl_every_line_is_accounted_for(tmp_path: Path) -> None:
    session = PARSER.parse(jsonl_log(tmp_path)).session
    assert records(session) == {
        "total": 8,
        "mapped": 2,
        "merged": 1,
        "skipped": {
            "metadata update": 2,
            "rewind marker": 1,
            "rewound": 1,
            "session metadata": 1,
        },
    }


def test_tokens_count_prompt_and_tool_prompt_in_and_response_and_thoughts_out(
    tmp_path: Path,
) -> None:
    session = PARSER.parse(jsonl_log(tmp_path)).session
    reply = next(e for e in session.events if isinstance(e.event_type, m.AgentMessage))
    assert reply.attributes["input_tokens"] == 103
    assert reply.attributes["output_tokens"] == 25
    assert reply.attributes["cached_input_tokens"] == 60
    assert reply.attributes["reasoning_tokens"] == 5
    assert (session.stats.total_input_tokens, session.stats.total_output_tokens) == (103, 25)


def test_incremental_parse_equals_full_parse(tmp_path: Path) -> None:
    path = jsonl_log(tmp_path)
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join(lines[:4]))
    incremental = IncrementalParse(PARSER, path)
    early = incremental.update().session
    assert texts(early, m.AgentMessage) == ["Let me look."]
    assert not any(isinstance(e.event_type, m.ToolResult) for e in early.events)
    with path.open("ab") as stream:
        stream.write(b"".join(lines[4:]))
    assert incremental.update().sessions == PARSER.parse(path).sessions


def test_the_typed_log_shape_the_reference_reads(tmp_path: Path) -> None:
    reply = [
        {"type": "thinking", "text": "analyzing..."},
        {"type": "text", "text": "Here is my answer"},
        {"type": "functionCall", "name": "read_file", "args": {"file_path": "/tmp/x.rs"}},
    ]
    path = write_jsonl(
        tmp_path / "session-typed.jsonl",
        [
            {"type": "session_metadata", "sessionId": "sess-1", "startTime": "2026-02-09T15:00Z"},
            {"type": "user", "id": "u1", "content": [{"type": "text", "text": "hello gemini"}]},
            {"type": "gemini", "id": "g1", "model": "gemini-2.5-pro", "content": reply},
            {"type": "message_update", "id": "g1", "tokens": {"input": 100, "output": 50}},
        ],
    )
    assert PARSER.detect(path, read_head(path)).confidence >= 90
    session = PARSER.parse(path).session
    kinds = [type(e.event_type).__name__ for e in session.events]
    assert kinds == ["UserMessage", "Thinking", "AgentMessage", "FileRead"]
    assert session.session_id == "sess-1"
    assert session.stats.total_input_tokens == 100
    assert records(session) == {
        "total": 4,
        "mapped": 2,
        "merged": 1,
        "skipped": {"session metadata": 1},
    }


def test_bad_lines_and_fields_warn_and_the_rest_is_kept(tmp_path: Path) -> None:
    path = write_jsonl(
        tmp_path / "session-bad.jsonl",
        [
            {"sessionId": SESSION_ID, "projectHash": "abc"},
            user("u1", "first question"),
            gemini("g1", "an answer", toolCalls="oops", tokens={"input": "many", "output": 4}),
            {"something": "else"},
        ],
    )
    with path.open("ab") as stream:
        stream.write(b"this is not json\n")
        stream.write(b'{"id": "u9", "type": "user", "content": "cut of')
    result = PARSER.parse(path)
    session = result.session
    assert texts(session, m.AgentMessage) == ["an answer"]
    assert session.events[-1].attributes == {"output_tokens": 4}
    reasons = {(w.line, w.reason.split(";")[0]) for w in result.warnings}
    assert (3, "toolCalls is not a list") in reasons
    assert (3, "tokens.input is not a token count") in reasons
    assert (4, "a record that is neither a message nor session metadata") in reasons
    assert any(w.line == 5 and w.reason.startswith("not JSON") for w in result.warnings)
    assert any(w.line == 6 and "truncated" in w.reason for w in result.warnings)
    assert records(session)["total"] == 4


def test_nothing_readable_is_an_error(tmp_path: Path) -> None:
    empty = tmp_path / "session-empty.jsonl"
    empty.write_bytes(b"garbage\n")
    with pytest.raises(SessionParseError):
        PARSER.parse(empty)
    broken = tmp_path / "session-broken.json"
    broken.write_bytes(b"{ not json at all")
    with pytest.raises(SessionParseError):
        PARSER.parse(broken)


# --- JSON documents: tools, results and content ---


def test_tool_statuses_edits_writes_and_exit_codes(tmp_path: Path) -> None:
    new_file = {"fileDiff": "@@ -0,0 +1 @@\n+print(1)\n", "originalContent": None}
    rewrite = {"fileDiff": "--- a\n+++ b\n@@ -1 +1 @@\n-a\n+b\n", "originalContent": "a\n"}
    failure = {"id": "c4", "name": "run_shell_command", "response": {"error": "make: *** No rule"}}
    edit = {"file_path": "/w/a.py", "old_string": "x = 1\n", "new_string": "x = 2\n"}
    calls = [
        tool_call("c1", "replace", edit),
        tool_call("c2", "write_file", {"file_path": "/w/new.py"}, resultDisplay=new_file),
        tool_call("c3", "write_file", {"file_path": "/w/old.py"}, resultDisplay=rewrite),
        tool_call(
            "c4",
            "run_shell_command",
            {"command": "make"},
            status="error",
            result=[{"functionResponse": failure}],
        ),
        tool_call("c5", "google_web_search", {"query": "gemini cli"}, status="cancelled"),
        tool_call("c6", "glob", {"pattern": "**/*.py"}, status="awaiting_approval"),
        tool_call(
            "c7", "run_shell_command", {"command": "ls"}, result=shell_result("c7", "Exit Code: 0")
        ),
    ]
    messages = [user("u1", "go"), gemini("g1", toolCalls=calls)]
    session = PARSER.parse(write_document(tmp_path / "session-tools.json", messages)).session
    results = {e.event_type.data.call_id: e for e in session.events if is_result(e)}
    by_call = {
        e.attributes["semantic.call_id"]: e
        for e in session.events
        if "semantic.call_id" in e.attributes and not is_result(e)
    }
    assert by_call["c1"].event_type.data.diff.count("+x = 2") == 1
    assert isinstance(by_call["c2"].event_type, m.FileCreate)
    assert by_call["c3"].event_type.data.diff == "--- a\n+++ b\n@@ -1 +1 @@\n-a\n+b\n"
    assert results["c4"].event_type.data.is_error is True
    assert results["c4"].text() == "make: *** No rule"
    assert results["c5"].event_type.data.is_error is True
    assert results["c5"].attributes["status"] == "cancelled"
    assert isinstance(by_call["c6"].event_type, m.FileSearch)
    assert by_call["c6"].attributes["status"] == "awaiting_approval"
    assert "c6" not in results
    assert by_call["c7"].event_type.data.exit_code == 0
    assert by_call["c4"].event_type.data.exit_code is None
    assert session.stats.files_changed == 3
    assert (session.stats.lines_added, session.stats.lines_removed) == (2, 2)
    assert_valid(session)


def test_user_images_and_tool_responses_in_user_turns(tmp_path: Path) -> None:
    image = {"inlineData": {"mimeType": "image/png", "data": "iVBORw0KGgo="}}
    answered = {"functionResponse": {"id": "c1", "name": "read_file", "response": {"output": "x"}}}
    listing = {"id": "c9", "name": "list_directory", "response": {"output": "a b"}}
    read = tool_call("c1", "read_file", {"file_path": "a"}, result=[answered])
    messages = [
        user("u1", [{"text": "what is in this picture?"}, image]),
        gemini("g1", "reading", toolCalls=[read]),
        user("u2", [answered], second=3),
        user("u3", [{"functionResponse": listing}], second=4),
        user("u4", "", second=5),
    ]
    session = PARSER.parse(write_document(tmp_path / "session-media.json", messages)).session
    picture = session.events[0].content.blocks[1]
    assert picture == m.ImageBlock(url="data:image/png;base64,iVBORw0KGgo=", mime="image/png")
    results = [(e.event_type.data.name, e.text()) for e in session.events if is_result(e)]
    assert results == [("read_file", "x"), ("list_directory", "a b")]
    expected = {"total": 5, "mapped": 3, "merged": 1, "skipped": {"empty message": 1}}
    assert records(session) == expected


def test_truncated_document_keeps_its_complete_messages(tmp_path: Path) -> None:
    path = write_document(
        tmp_path / "session-cut.json", [user("u1", "first"), gemini("g1", "reply")]
    )
    data = path.read_bytes()
    path.write_bytes(data[: data.index(b"reply") + 2])
    result = PARSER.parse(path)
    assert texts(result.session, m.UserMessage) == ["first"]
    assert result.session.session_id == SESSION_ID
    assert "1 complete message" in result.warnings[0].reason


def test_subagent_logs_are_auxiliary_sessions_linked_to_their_parent(tmp_path: Path) -> None:
    main = write_document(tmp_path / "chats" / "session-main.json", [user("u1", "delegate it")])
    sub = write_jsonl(
        tmp_path / "chats" / SESSION_ID / "sub-1.jsonl",
        [
            {"sessionId": "sub-1", "projectHash": "f" * 64, "kind": "subagent"},
            user("s1", "investigate the parser"),
        ],
    )
    result = PARSER.parse(main)
    assert [s.session_id for s in result.sessions] == [SESSION_ID, "sub-1"]
    child = result.sessions[1].context
    assert child.attributes["session_role"] == "auxiliary"
    assert child.attributes["parent_session_id"] == SESSION_ID
    assert child.is_auxiliary and not result.session.context.is_auxiliary
    alone = PARSER.parse(sub).session.context.attributes
    assert alone["parent_session_id"] == SESSION_ID


def test_missing_timestamps_take_the_previous_time(tmp_path: Path) -> None:
    late = gemini("g1", "answer", second=30)
    early = {**gemini("g2", "next"), "timestamp": "2026-03-01T09:00:00Z"}
    messages = [user("u1", "q"), late, {**user("u2", "again"), "timestamp": None}, early]
    session = PARSER.parse(write_document(tmp_path / "session-time.json", messages)).session
    times = [e.timestamp for e in session.events]
    assert times == sorted(times)
    assert times[2] == times[1]
    assert session.events[3].attributes["source.timestamp"] == "2026-03-01T09:00:00.000Z"
    assert_valid(session)


def test_a_history_update_replaces_every_message(tmp_path: Path) -> None:
    masked = gemini("g1", "[output masked]")
    path = write_jsonl(
        tmp_path / "session-history.jsonl",
        [
            {"sessionId": SESSION_ID, "projectHash": "abc"},
            user("u1", "show me the secret"),
            gemini("g1", "the secret is 42"),
            user("u2", "thanks", second=3),
            {"$set": {"messages": [user("u1", "show me the secret"), masked]}},
        ],
    )
    session = PARSER.parse(path).session
    assert texts(session, m.AgentMessage) == ["[output masked]"]
    assert texts(session, m.UserMessage) == ["show me the secret"]
    assert records(session) == {
        "total": 5,
        "mapped": 1,
        "merged": 2,
        "skipped": {"replaced by a history update": 1, "session metadata": 1},
    }
