"""Codex CLI / Codex Desktop rollouts into HAIL."""

from __future__ import annotations

import gc
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest

from opensession.hail import model as m
from opensession.hail.validate import validate_session
from opensession.parsers.append_only import IncrementalParse
from opensession.parsers.base import SessionParseError
from opensession.parsers.codex import PARSER, parse_patch
from opensession.parsers.common import read_head

SESSION_ID = "019c8a70-dda7-7f33-98ea-f30553347322"
TURN_ID = "019c8a70-ebe7-7e83-92b2-f77ddd49c5f9"
START = datetime(2026, 2, 23, 12, 0, tzinfo=UTC)
LOCALPUSH = "codex/localpush"
SHORT = "rollout-2026-02-23T13-19-38-019c8a70-dda7-7f33-98ea-f30553347322.jsonl"
FIRST = "rollout-2026-02-23T12-40-23-019c8a4c-ed82-79a1-aa28-7738fc5ab61a.jsonl"
SECOND = "rollout-2026-02-23T12-47-42-019c8a53-a0dd-7130-bcd7-95445d84846a.jsonl"


class Rollout:
    """A rollout written record by record, one second apart."""

    def __init__(self, **meta: Any) -> None:
        self.records: list[dict[str, Any]] = []
        payload = {
            "id": SESSION_ID,
            "timestamp": START.isoformat(),
            "cwd": "/home/dev/project",
            "originator": "codex_cli_rs",
            "cli_version": "0.46.0",
            "git": {"branch": "main", "commit_hash": "abc123", "repository_url": "git@x:y.git"},
            **meta,
        }
        self.add("session_meta", payload)

    def add(self, kind: str, payload: Any) -> Rollout:
        stamp = START + timedelta(seconds=len(self.records))
        self.records.append({"timestamp": stamp.isoformat(), "type": kind, "payload": payload})
        return self

    def item(self, **payload: Any) -> Rollout:
        return self.add("response_item", payload)

    def event(self, **payload: Any) -> Rollout:
        return self.add("event_msg", payload)

    def user(self, text: str) -> Rollout:
        content = [{"type": "input_text", "text": text}]
        return self.item(type="message", role="user", content=content)

    def assistant(self, text: str) -> Rollout:
        content = [{"type": "output_text", "text": text}]
        return self.item(type="message", role="assistant", content=content)

    def call(self, name: str, arguments: Any, call_id: str) -> Rollout:
        if not isinstance(arguments, str):
            arguments = orjson.dumps(arguments).decode()
        return self.item(type="function_call", name=name, arguments=arguments, call_id=call_id)

    def output(self, call_id: str, output: Any) -> Rollout:
        return self.item(type="function_call_output", call_id=call_id, output=output)

    def write(self, path: Path) -> Path:
        path.write_bytes(b"".join(orjson.dumps(record) + b"\n" for record in self.records))
        return path


def parse(tmp_path: Path, rollout: Rollout, name: str = "rollout.jsonl") -> m.Session:
    return PARSER.parse(rollout.write(tmp_path / name)).session


def kinds(session: m.Session) -> list[str]:
    return [event.event_type.type for event in session.events]


def of_type(session: m.Session, kind: type[m.HailModel]) -> list[m.Event]:
    return [event for event in session.events if isinstance(event.event_type, kind)]


def records_of(session: m.Session) -> dict[str, Any]:
    return session.context.attributes["source_records"]


def raw_lines(path: Path) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines() if line.strip()]


def assert_valid(session: m.Session, record_count: int) -> None:
    errors = [finding for finding in validate_session(session) if finding.severity == "error"]
    assert errors == []
    records = records_of(session)
    assert records["total"] == record_count
    assert records["total"] == records["mapped"] + records["merged"] + sum(
        records["skipped"].values()
    )


# --- the real rollouts (localpush: Codex Desktop 0.104, text redacted) ---


def test_short_real_rollout_session_context(corpus: Path) -> None:
    path = corpus / LOCALPUSH / SHORT
    session = PARSER.parse(path).session
    assert session.session_id == SESSION_ID
    assert session.agent.tool == "codex"
    assert session.agent.provider == "openai"
    assert session.agent.model == "gpt-5.3-codex"
    assert session.agent.tool_version == "0.104.0-alpha.1"
    attributes = session.context.attributes
    assert attributes["originator"] == "Codex Desktop"
    assert attributes["cwd"] == "/redacted/path/da0ba47443"
    assert attributes["git"] == {
        "branch": "main",
        "commit_hash": "86b4a8d9581d63089e53845daf7dd787129a9972",
        "repository_url": "redacted://url/d18f1190d0",
    }
    assert attributes["session_role"] == "primary"
    assert attributes["source_path"] == str(path)
    assert session.context.tags == ["codex"]
    assert session.context.created_at == datetime(2026, 2, 23, 12, 19, 42, 561000, tzinfo=UTC)
    assert_valid(session, 19)


def test_short_real_rollout_user_words_and_injected_context(corpus: Path) -> None:
    session = PARSER.parse(corpus / LOCALPUSH / SHORT).session
    # The user's message is logged twice (response item + user_message event): one event,
    # with the event's text. AGENTS.md, environment context and developer messages are
    # system context, as is the item after the user's message that no event echoes.
    users = of_type(session, m.UserMessage)
    assert [event.text() for event in users] == ["[REDACTED_MESSAGE len=86 sha=2239bcba]"]
    assert session.context.title == "[REDACTED_MESSAGE len=86 sha=2239bcba]"
    systems = [event.text() for event in of_type(session, m.SystemMessage)]
    assert "[REDACTED_TEXT len=3017 sha=f3ffd0ed]" in systems  # AGENTS.md
    assert "[REDACTED_TEXT len=108 sha=fc56d2e9]" in systems  # <environment_context>
    assert "[REDACTED_TEXT len=3490 sha=00c48df1]" in systems
    assert len(systems) == 7
    assert session.stats.user_message_count == 1


def test_short_real_rollout_turn_tokens_and_echoes(corpus: Path) -> None:
    session = PARSER.parse(corpus / LOCALPUSH / SHORT).session
    (start,) = of_type(session, m.TaskStart)
    assert start.task_id == TURN_ID
    assert start.attributes == {
        "model": "gpt-5.3-codex",
        "cwd": "/redacted/path/da0ba47443",
        "approval_policy": "on-request",
        "effort": "high",
        "sandbox_policy": "workspace-write",
    }
    # Reasoning and the agent message each appear in both streams: one event each.
    assert [e.text() for e in of_type(session, m.Thinking)] == [
        "[REDACTED_TEXT len=34 sha=c8b34894]"
    ]
    assert len(of_type(session, m.AgentMessage)) == 1
    (call,) = of_type(session, m.ToolCall)
    assert call.event_type.data.name == "exec_command"
    assert call.attributes["semantic.call_id"] == "call_UtYwHmwWekzvq83m8Rb9K8jJ"
    assert call.attributes["input_tokens_total"] == 34469
    assert session.stats.total_input_tokens == 34469
    assert session.stats.total_output_tokens == 431
    assert records_of(session)["skipped"] == {
        "read into context": 1,
        "token_count without usage": 1,
    }


@pytest.mark.parametrize("name", [FIRST, SECOND, SHORT])
def test_every_real_rollout_accounts_for_each_line(corpus: Path, name: str) -> None:
    path = corpus / LOCALPUSH / name
    raw = raw_lines(path)
    session = PARSER.parse(path).session
    assert_valid(session, len(raw))
    payloads = [record["payload"] for record in raw]
    count = Counter((record["type"], record["payload"].get("type")) for record in raw)
    # Every turn is a TaskStart/TaskEnd pair with the turn id; the summary is the last message.
    assert len(of_type(session, m.TaskStart)) == count["event_msg", "task_started"]
    ends = of_type(session, m.TaskEnd)
    completions = [p for p in payloads if p.get("type") == "task_complete"]
    assert [end.event_type.data.summary for end in ends] == [
        p["last_agent_message"] for p in completions
    ]
    assert [end.task_id for end in ends] == [p["turn_id"] for p in completions]
    # Echoed messages are merged: one event per user_message / agent_message / summary part.
    assert len(of_type(session, m.UserMessage)) == count["event_msg", "user_message"]
    assert len(of_type(session, m.AgentMessage)) == count["event_msg", "agent_message"]
    assert len(of_type(session, m.Thinking)) == count["event_msg", "agent_reasoning"]
    # Every tool call and output is there, each output pointing at its call.
    calls = count["response_item", "function_call"] + count["response_item", "custom_tool_call"]
    outputs = (
        count["response_item", "function_call_output"]
        + count["response_item", "custom_tool_call_output"]
    )
    assert len(of_type(session, m.ToolCall)) == calls + count["response_item", "web_search_call"]
    results = of_type(session, m.ToolResult)
    assert len(results) == outputs
    by_id = {event.event_id: event for event in session.events}
    for result in results:
        call = by_id[result.event_type.data.call_id]
        assert call.attributes["semantic.call_id"] == result.attributes["semantic.call_id"]
        assert result.event_type.data.name == call.event_type.data.name
    # The token totals are the last running total the file reports.
    totals = [
        p["info"]["total_token_usage"]
        for p in payloads
        if p.get("type") == "token_count" and p.get("info")
    ]
    assert session.stats.total_input_tokens == totals[-1]["input_tokens"]
    assert session.stats.total_output_tokens == totals[-1]["output_tokens"]


def test_first_real_rollout_facts(corpus: Path) -> None:
    session = PARSER.parse(corpus / LOCALPUSH / FIRST).session
    assert session.session_id == "019c8a4c-ed82-79a1-aa28-7738fc5ab61a"
    assert session.context.title == "[REDACTED_MESSAGE len=516 sha=05857781]"
    assert session.stats.user_message_count == 5
    assert session.stats.task_count == 5
    assert records_of(session)["skipped"]["encrypted reasoning"] == 10
    patch_results = [
        e for e in of_type(session, m.ToolResult) if e.event_type.data.name == "apply_patch"
    ]
    assert len(patch_results) == 22
    (search,) = [e for e in of_type(session, m.ToolCall) if e.event_type.data.name == "web_search"]
    assert search.content.blocks == []  # a web_search_call without its action


def test_second_real_rollout_keeps_a_call_without_output(corpus: Path) -> None:
    session = PARSER.parse(corpus / LOCALPUSH / SECOND).session
    answered = {e.event_type.data.call_id for e in of_type(session, m.ToolResult)}
    unanswered = [e for e in of_type(session, m.ToolCall) if e.event_id not in answered]
    assert len(unanswered) == 1
    assert len(of_type(session, m.TaskStart)) == 7
    assert len(of_type(session, m.TaskEnd)) == 5


# --- fixtures from other projects ---


def test_fixture_exec_command_with_cmd_string(corpus: Path) -> None:
    session = PARSER.parse(corpus / "codex/agentsview__fc_args_1.jsonl").session
    assert kinds(session) == ["UserMessage", "ShellCommand"]
    shell = session.events[1]
    assert shell.event_type.data.command == "rg --files"
    assert shell.content.blocks == [m.CodeBlock(code="rg --files", language="bash")]
    assert shell.attributes["semantic.call_id"] == "call_test"
    assert session.context.title == "inspect files"
    assert session.context.attributes["originator"] == "user"


def test_fixture_apply_patch_with_object_arguments(corpus: Path) -> None:
    session = PARSER.parse(corpus / "codex/agentsview__fc_args_2.jsonl").session
    edits = of_type(session, m.FileEdit)
    assert [e.event_type.data.path for e in edits] == [
        "internal/parser/codex.go",
        "internal/parser/parser_test.go",
    ]
    assert session.stats.files_changed == 2


def test_fixture_write_stdin_is_a_tool_call(corpus: Path) -> None:
    session = PARSER.parse(corpus / "codex/agentsview__fc_stdin.jsonl").session
    call = session.events[-1]
    assert call.event_type == m.ToolCall(data=m.NameData(name="write_stdin"))
    assert call.content.blocks == [m.JsonBlock(data={"chars": "yes\n", "session_id": "sess-42"})]


def test_fixture_calls_without_arguments(corpus: Path) -> None:
    session = PARSER.parse(corpus / "codex/agentsview__function_calls.jsonl").session
    assert [e.event_type.data.name for e in of_type(session, m.ToolCall)] == [
        "shell_command",
        "apply_patch",
    ]
    assert session.context.attributes["cwd"] == "/Users/alice/code/app"


def test_fixture_message_items_without_a_type(corpus: Path) -> None:
    session = PARSER.parse(corpus / "codex/agentsview__standard_session.jsonl").session
    assert [(e.event_type.type, e.text()) for e in session.events] == [
        ("UserMessage", "Add rate limiting"),
        ("AgentMessage", "I'll add rate limiting to the API."),
    ]
    assert session.session_id == "abc-123"
    assert session.agent.model == "unknown"
    assert session.agent.provider == "openai"


def test_fixture_desktop_rollout_with_legacy_token_count(corpus: Path) -> None:
    session = PARSER.parse(corpus / "codex/opensession__rollout-desktop.jsonl").session
    assert [(e.event_type.type, e.text()) for e in session.events] == [
        ("UserMessage", "inspect this session"),
        ("Thinking", "checking project structure"),
        ("AgentMessage", "done"),
    ]
    assert session.context.attributes["originator"] == "Codex Desktop"
    assert session.agent.tool_version == "0.94.0"
    assert session.events[-1].attributes == {"input_tokens": 12, "output_tokens": 7}
    assert (session.stats.total_input_tokens, session.stats.total_output_tokens) == (12, 7)


def test_fixture_web_search_actions(corpus: Path) -> None:
    session = PARSER.parse(corpus / "codex/opensession__web-search-actions.jsonl").session
    assert [e.event_type for e in session.events] == [
        m.WebSearch(data=m.QueryData(query="rust serde flatten")),
        m.WebFetch(data=m.UrlData(url="https://serde.rs/attr-flatten.html")),
        m.WebFetch(data=m.UrlData(url="https://serde.rs/attr-flatten.html")),
        m.Custom(data=m.CustomData(kind="context_compacted")),
        m.Custom(data=m.CustomData(kind="plan_completed")),
    ]
    assert session.events[-1].text() == "Codex fixture plan line"
    assert session.events[2].content.blocks == [
        m.JsonBlock(
            data={
                "type": "find_in_page",
                "url": "https://serde.rs/attr-flatten.html",
                "pattern": "flatten",
            }
        )
    ]
    assert (session.stats.total_input_tokens, session.stats.total_output_tokens) == (19, 7)
    assert_valid(session, 7)


# --- the reference's mapping (opensession__c96e93e8.hail.jsonl, a Codex Desktop session) ---

REFERENCE_PROMPT = (
    "Locate where landing page disabled capability descriptions are defined and determine "
    "current implementation status in code for: git-based preview, key-based upload, ingest "
    "preview. Include exact files/lines and runtime differences (server vs worker)."
)


def reference_like_rollout() -> Rollout:
    rollout = Rollout(originator="Codex Desktop", cli_version="0.104.0-alpha.1")
    rollout.item(
        type="message",
        role="developer",
        content=[{"type": "input_text", "text": "<permissions instructions>…"}],
    )
    rollout.user("# AGENTS.md instructions for /Users/me/ops\n\n<INSTRUCTIONS>…</INSTRUCTIONS>")
    rollout.user("<environment_context>\n  <cwd>/Users/me/ops</cwd>\n</environment_context>")
    rollout.event(type="task_started", turn_id=TURN_ID, model_context_window=258400)
    rollout.user(REFERENCE_PROMPT)
    rollout.event(type="user_message", message=REFERENCE_PROMPT, images=[])
    rollout.add(
        "turn_context",
        {"turn_id": TURN_ID, "cwd": "/Users/me/ops", "model": "gpt-5.3-codex", "effort": "high"},
    )
    rollout.event(type="agent_reasoning", text="**Listing repository contents**")
    rollout.item(
        type="reasoning",
        summary=[{"type": "summary_text", "text": "**Listing repository contents**"}],
        content=None,
        encrypted_content="gAAAA…",
    )
    rollout.call("exec_command", {"cmd": "pwd", "workdir": "/Users/me/ops"}, "call_pwd")
    rollout.output(
        "call_pwd",
        "Chunk ID: e35540\nWall time: 0.0515 seconds\nProcess exited with code 0\n"
        "Original token count: 6\nOutput:\n/Users/me/ops\n",
    )
    rollout.event(type="agent_message", message="**Landing Copy**\n- done")
    rollout.assistant("**Landing Copy**\n- done")
    rollout.event(
        type="task_complete", turn_id=TURN_ID, last_agent_message="**Landing Copy**\n- done"
    )
    return rollout


def test_reference_mapping_of_a_desktop_turn(tmp_path: Path) -> None:
    session = parse(tmp_path, reference_like_rollout())
    assert kinds(session) == [
        "SystemMessage", "SystemMessage", "SystemMessage", "TaskStart", "UserMessage",
        "Thinking", "ShellCommand", "ToolResult", "AgentMessage", "TaskEnd",
    ]  # fmt: skip
    assert session.context.title == (
        "Locate where landing page disabled capability descriptions are defined and de..."
    )
    start, user, thinking, shell, result, agent, end = session.events[3:]
    assert start.event_type == m.TaskStart() and start.task_id == TURN_ID
    assert start.text() == "task started"
    assert user.text() == REFERENCE_PROMPT and user.task_id is None
    assert thinking.text() == "**Listing repository contents**"
    assert shell.event_type == m.ShellCommand(data=m.ShellCommandData(command="pwd", exit_code=0))
    assert shell.content.blocks == [m.CodeBlock(code="pwd", language="bash")]
    assert result.event_type == m.ToolResult(
        data=m.ToolResultData(name="exec_command", is_error=False, call_id=shell.event_id)
    )
    assert result.attributes["semantic.call_id"] == shell.attributes["semantic.call_id"]
    assert "Process exited with code 0" in result.text()
    assert agent.text() == "**Landing Copy**\n- done"
    assert end.event_type == m.TaskEnd(data=m.TaskEndData(summary="**Landing Copy**\n- done"))
    assert end.task_id == TURN_ID
    assert [event.event_id for event in session.events] == [f"codex-{n}" for n in range(1, 11)]
    assert session.context.attributes["originator"] == "Codex Desktop"
    assert session.agent.tool_version == "0.104.0-alpha.1"
    assert session.stats.message_count == 3  # user, agent, and the task's summary
    assert_valid(session, 15)
    assert records_of(session) == {
        "total": 15,
        "mapped": 10,
        "merged": 4,  # user_message, turn_context, reasoning item, assistant item
        "skipped": {"read into context": 1},
    }


def test_originator_of_the_cli(tmp_path: Path) -> None:
    session = parse(tmp_path, Rollout().user("hi"))
    assert session.context.attributes["originator"] == "codex_cli_rs"
    assert session.context.attributes["version"] == "0.46.0"
    assert session.context.attributes["git"]["commit_hash"] == "abc123"


# --- echoes between the two streams ---


def test_echoes_are_merged_in_either_order(tmp_path: Path) -> None:
    rollout = Rollout()
    rollout.event(type="user_message", message="fix it")
    rollout.user("fix it")
    rollout.assistant("On it.")
    rollout.event(type="agent_message", message="On it.")
    rollout.event(type="agent_reasoning", text="**Part one**")
    rollout.event(type="agent_reasoning", text="**Part two**")
    rollout.item(
        type="reasoning",
        summary=[
            {"type": "summary_text", "text": "**Part one**"},
            {"type": "summary_text", "text": "**Part two**"},
        ],
    )
    rollout.item(type="reasoning", summary=[{"type": "summary_text", "text": "**Three**"}])
    rollout.event(type="agent_reasoning", text="**Three**")
    session = parse(tmp_path, rollout)
    assert [(e.event_type.type, e.text()) for e in session.events] == [
        ("UserMessage", "fix it"),
        ("AgentMessage", "On it."),
        ("Thinking", "**Part one**"),
        ("Thinking", "**Part two**"),
        ("Thinking", "**Three**"),
    ]
    assert records_of(session)["merged"] == 4
    assert_valid(session, 10)


def test_a_repeated_message_is_not_taken_for_an_echo(tmp_path: Path) -> None:
    rollout = Rollout().event(type="user_message", message="again").user("again")
    rollout.call("exec_command", {"cmd": "ls"}, "c1").output("c1", "Exit code: 0")
    rollout.event(type="user_message", message="again").user("again")
    session = parse(tmp_path, rollout)
    assert kinds(session) == ["UserMessage", "ShellCommand", "ToolResult", "UserMessage"]


def test_user_words_come_from_the_event_and_images_from_the_item(tmp_path: Path) -> None:
    rollout = Rollout()
    rollout.item(
        type="message",
        role="user",
        content=[
            {"type": "input_text", "text": "## My request for Codex:\nwhat is this?"},
            {"type": "input_image", "image_url": "data:image/png;base64,iVBORw0KGgo="},
        ],
    )
    rollout.event(type="user_message", message="what is this?", images=["data:image/png;base64,x"])
    session = parse(tmp_path, rollout)
    (user,) = session.events
    assert user.content.blocks == [
        m.TextBlock(text="what is this?"),
        m.ImageBlock(url="data:image/png;base64,iVBORw0KGgo=", mime="image/png"),
    ]


def test_injected_context_is_system_and_old_files_keep_user_items(tmp_path: Path) -> None:
    rollout = Rollout()
    rollout.user("<user_instructions>\nbe brief\n</user_instructions>")
    rollout.user("<environment_context>\n<cwd>/x</cwd>\n</environment_context>")
    rollout.item(type="message", role="developer", content=[{"type": "input_text", "text": "dev"}])
    rollout.user("please refactor")  # no user_message events in this file: the user's words
    session = parse(tmp_path, rollout)
    assert kinds(session) == ["SystemMessage", "SystemMessage", "SystemMessage", "UserMessage"]
    assert session.context.title == "please refactor"


def test_context_kinds_of_user_message_events(tmp_path: Path) -> None:
    rollout = Rollout()
    rollout.event(type="user_message", message="<environment_context/>", kind="environment_context")
    rollout.event(type="user_message", message="real question", kind="plain")
    session = parse(tmp_path, rollout)
    assert kinds(session) == ["SystemMessage", "UserMessage"]


# --- tools ---


def test_shell_calls_their_commands_and_exit_codes(tmp_path: Path) -> None:
    rollout = Rollout()
    rollout.call("shell", {"command": ["bash", "-lc", "ls -la"], "workdir": "/x"}, "c1")
    rollout.output(
        "c1", '{"output":"total 0\\n","metadata":{"exit_code":1,"duration_seconds":0.1}}'
    )
    rollout.call("container.exec", {"command": ["rg", "-n", "two words"]}, "c2")
    rollout.output("c2", {"content": "boom", "success": False})
    rollout.call("shell_command", {"command": "pytest -q"}, "c3")
    rollout.output("c3", "Exit code: 0\nWall time: 1.2 seconds\nOutput:\n3 passed\n")
    rollout.call("exec_command", {"cmd": "sleep 100"}, "c4")
    rollout.output("c4", "Chunk ID: 1\nWall time: 10 seconds\nProcess running with session ID 7")
    rollout.item(
        type="local_shell_call",
        call_id="c5",
        status="completed",
        action={"type": "exec", "command": ["bash", "-lc", "make"], "timeout_ms": 1000},
    )
    rollout.output("c5", "Process exited with code 2\n")
    session = parse(tmp_path, rollout)
    shells = of_type(session, m.ShellCommand)
    assert [(s.event_type.data.command, s.event_type.data.exit_code) for s in shells] == [
        ("ls -la", 1),
        ("rg -n 'two words'", None),
        ("pytest -q", 0),
        ("sleep 100", None),
        ("make", 2),
    ]
    results = of_type(session, m.ToolResult)
    assert [(r.event_type.data.name, r.event_type.data.is_error) for r in results] == [
        ("shell", True),
        ("container.exec", True),
        ("shell_command", False),
        ("exec_command", False),
        ("local_shell", True),
    ]
    assert results[0].text() == "total 0\n"  # the output, out of its JSON wrapper
    assert results[1].text() == "boom"
    assert [r.event_type.data.call_id for r in results] == [s.event_id for s in shells]
    assert_valid(session, 11)


def test_shell_calls_without_a_command_are_tool_calls(tmp_path: Path) -> None:
    rollout = Rollout()
    rollout.call("shell", {"command": ["bash", "-lc", ""]}, "c1")
    rollout.call("exec_command", {"cmd": ["git", "log", "-1"]}, "c2")
    rollout.call("exec_command", {"workdir": "/x"}, "c3")
    rollout.call("shell_command", {"command": None, "cmd": "ignored"}, "c4")
    session = parse(tmp_path, rollout)
    empty, listed, missing, null = session.events
    assert empty.event_type == m.ToolCall(data=m.NameData(name="shell"))
    assert empty.content.blocks == [m.JsonBlock(data={"command": ["bash", "-lc", ""]})]
    assert listed.event_type == m.ShellCommand(data=m.ShellCommandData(command="git log -1"))
    assert listed.content.blocks == [m.CodeBlock(code="git log -1", language="bash")]
    assert missing.event_type == m.ToolCall(data=m.NameData(name="exec_command"))
    assert missing.content.blocks == [m.JsonBlock(data={"workdir": "/x"})]
    assert null.event_type == m.ToolCall(data=m.NameData(name="shell_command"))
    assert_valid(session, 5)


def test_exec_command_end_and_patch_apply_end_are_folded_into_their_call(tmp_path: Path) -> None:
    patch = "*** Begin Patch\n*** Delete File: old.txt\n*** End Patch"
    rollout = Rollout()
    rollout.call("exec_command", {"cmd": "false"}, "c1")
    rollout.event(
        type="exec_command_end",
        call_id="c1",
        exit_code=1,
        duration={"secs": 1, "nanos": 500_000_000},
    )
    rollout.output("c1", "no exit code in this output")
    rollout.item(type="custom_tool_call", call_id="c2", name="apply_patch", input=patch)
    rollout.event(type="patch_apply_end", call_id="c2", success=False, stdout="", stderr="x")
    rollout.item(type="custom_tool_call_output", call_id="c2", output="apply_patch failed")
    rollout.event(type="exec_command_end", call_id="nobody", exit_code=0)
    session = parse(tmp_path, rollout)
    shell, result, delete, patch_result = session.events
    assert shell.event_type.data.exit_code == 1
    assert shell.duration_ms == 1500
    assert result.event_type.data.is_error is True
    assert delete.event_type == m.FileDelete(data=m.PathData(path="old.txt"))
    assert patch_result.event_type.data.is_error is True
    assert records_of(session)["skipped"]["exec_command_end without its call"] == 1
    assert_valid(session, 8)


PATCH = """*** Begin Patch
*** Add File: src/new.py
+print("hi")
+print("there")
*** Update File: src/app.py
*** Move to: src/main.py
@@ def main():
-    return 1
+    return 2
*** End of File
*** Delete File: src/gone.py
*** End Patch"""


def test_apply_patch_becomes_one_event_per_file(tmp_path: Path) -> None:
    rollout = Rollout()
    rollout.item(type="custom_tool_call", call_id="p1", name="apply_patch", input=PATCH)
    rollout.item(
        type="custom_tool_call_output",
        call_id="p1",
        output='{"output":"Success. Updated the following files:\\nA src/new.py\\n",'
        '"metadata":{"exit_code":0,"duration_seconds":0.0}}',
    )
    rollout.call("apply_patch", {"input": PATCH.replace("src/", "lib/")}, "p2")
    session = parse(tmp_path, rollout)
    create, edit, delete, result = session.events[:4]
    assert create.event_type == m.FileCreate(data=m.PathData(path="src/new.py"))
    assert create.content.blocks[0].code == (
        '--- /dev/null\n+++ b/src/new.py\n@@ -0,0 +1,2 @@\n+print("hi")\n+print("there")\n'
    )
    assert edit.event_type == m.FileEdit(
        data=m.FileEditData(
            path="src/app.py",
            diff="--- a/src/app.py\n+++ b/src/main.py\n@@ def main():\n-    return 1\n"
            "+    return 2\n",
        )
    )
    assert edit.attributes["move_to"] == "src/main.py"
    assert delete.event_type == m.FileDelete(data=m.PathData(path="src/gone.py"))
    assert all(e.attributes["semantic.call_id"] == "p1" for e in (create, edit, delete))
    assert result.event_type == m.ToolResult(
        data=m.ToolResultData(name="apply_patch", is_error=False, call_id=create.event_id)
    )
    assert result.text() == "Success. Updated the following files:\nA src/new.py\n"
    assert [e.event_type.data.path for e in session.events[4:]] == [
        "lib/new.py",
        "lib/app.py",
        "lib/gone.py",
    ]
    assert session.stats.files_changed == 6
    assert (session.stats.lines_added, session.stats.lines_removed) == (2, 2)
    assert records_of(session)["mapped"] == 3  # three records, seven events
    assert_valid(session, 4)


def test_parse_patch_keeps_hunks_apart() -> None:
    files = parse_patch(PATCH)
    assert [(f.operation, f.path, f.move_to) for f in files] == [
        ("add", "src/new.py", None),
        ("update", "src/app.py", "src/main.py"),
        ("delete", "src/gone.py", None),
    ]
    assert parse_patch("no patch here") == []


def test_other_tools_and_unanswered_outputs(tmp_path: Path) -> None:
    rollout = Rollout()
    rollout.call("update_plan", {"plan": [{"step": "a", "status": "pending"}]}, "u1")
    rollout.call("view_image", "not json", "v1")
    rollout.output("missing-call", [{"type": "input_text", "text": "orphan"}])
    session = parse(tmp_path, rollout)
    plan, image, orphan = session.events
    assert plan.event_type == m.ToolCall(data=m.NameData(name="update_plan"))
    assert plan.content.blocks == [m.JsonBlock(data={"plan": [{"step": "a", "status": "pending"}]})]
    assert image.content.blocks == [m.TextBlock(text="not json")]
    assert orphan.event_type == m.ToolResult(data=m.ToolResultData(name="unknown"))
    assert orphan.attributes == {"semantic.call_id": "missing-call"}
    assert orphan.text() == "orphan"


def test_web_search_without_url_or_query_is_a_tool_call(tmp_path: Path) -> None:
    rollout = Rollout()
    rollout.item(type="web_search_call", status="completed", action={"type": "open_page"})
    rollout.item(type="web_search_call", action={"type": "search", "queries": ["a b", "c"]})
    session = parse(tmp_path, rollout)
    assert [e.event_type for e in session.events] == [
        m.ToolCall(data=m.NameData(name="web_search")),
        m.WebSearch(data=m.QueryData(query="a b")),
    ]


# --- tokens, turns, compaction ---


def test_running_token_totals_counted_once_per_response(tmp_path: Path) -> None:
    def usage(total_in: int, total_out: int, last_in: int, last_out: int) -> dict[str, Any]:
        return {
            "total_token_usage": {"input_tokens": total_in, "output_tokens": total_out},
            "last_token_usage": {"input_tokens": last_in, "output_tokens": last_out},
        }

    rollout = Rollout()
    rollout.event(type="token_count", info=None, rate_limits={})
    rollout.assistant("one")
    rollout.event(type="token_count", info=usage(100, 10, 100, 10))
    rollout.event(type="token_count", info=usage(100, 10, 100, 10), rate_limits={"x": 1})
    rollout.assistant("two")
    rollout.event(type="token_count", info=usage(250, 30, 150, 20))
    session = parse(tmp_path, rollout)
    one, two = session.events
    assert one.attributes == {
        "input_tokens_total": 100,
        "output_tokens_total": 10,
        "input_tokens": 100,
        "output_tokens": 10,
    }
    assert two.attributes["input_tokens_total"] == 250
    assert two.attributes["input_tokens"] == 150
    assert (session.stats.total_input_tokens, session.stats.total_output_tokens) == (250, 30)
    assert records_of(session)["skipped"]["token_count without usage"] == 1


def test_token_count_before_any_event(tmp_path: Path) -> None:
    rollout = Rollout().event(type="token_count", input_tokens=5, output_tokens=1)
    rollout.user("late")
    session = parse(tmp_path, rollout)
    assert session.events[0].attributes == {"input_tokens": 5, "output_tokens": 1}
    only_tokens = parse(tmp_path, Rollout().event(type="token_count", input_tokens=5), "b.jsonl")
    assert only_tokens.events == []
    assert records_of(only_tokens)["skipped"]["token_count before any event"] == 1


def test_an_event_stamped_early_takes_the_time_before_it(tmp_path: Path) -> None:
    rollout = Rollout().assistant("first").assistant("second").assistant("third")
    rollout.records[2]["timestamp"] = "2026-02-23T11:00:00.5+01:00"  # 10:00Z, before the start
    rollout.event(type="token_count", input_tokens=5, output_tokens=1)  # on "third"
    session = parse(tmp_path, rollout)
    first, second, third = session.events
    assert second.timestamp == first.timestamp
    assert second.attributes == {"source.timestamp": "2026-02-23T10:00:00.500Z"}
    assert third.timestamp > second.timestamp
    assert "source.timestamp" not in third.attributes
    assert [event.timestamp for event in session.events] == sorted(
        event.timestamp for event in session.events
    )


def test_incremental_parse_keeps_early_stamps_and_later_tokens_apart(tmp_path: Path) -> None:
    rollout = Rollout().assistant("first").assistant("early")
    rollout.records[2]["timestamp"] = "2026-02-23T11:00:00Z"
    path = rollout.write(tmp_path / "rollout.jsonl")
    incremental = IncrementalParse(PARSER, path)
    first = incremental.update().session
    with path.open("ab") as stream:
        record = {
            "timestamp": "2026-02-23T12:01:00Z",
            "type": "event_msg",
            "payload": {"type": "token_count", "input_tokens": 5, "output_tokens": 1},
        }
        stream.write(orjson.dumps(record) + b"\n")
    second = incremental.update().session
    assert first.events[1].attributes == {"source.timestamp": "2026-02-23T11:00:00.000Z"}
    assert second.events[1].attributes == {
        "input_tokens": 5,
        "output_tokens": 1,
        "source.timestamp": "2026-02-23T11:00:00.000Z",
    }
    assert second.model_dump() == PARSER.parse(path).session.model_dump()


def test_turns_aborted_and_compacted(tmp_path: Path) -> None:
    rollout = Rollout()
    rollout.event(type="task_started", turn_id="t1")
    rollout.user("long task")
    rollout.event(type="turn_aborted", reason="interrupted")
    rollout.add("compacted", {"message": "summary of earlier work", "replacement_history": []})
    rollout.event(type="context_compacted")
    rollout.event(type="item_completed", turn_id="t2", item={"type": "AgentMessage", "id": "x"})
    rollout.event(type="entered_review_mode", target="uncommitted changes")
    session = parse(tmp_path, rollout)
    assert kinds(session) == ["TaskStart", "UserMessage", "TaskEnd", "Custom", "Custom"]
    aborted = session.events[2]
    assert aborted.task_id == "t1"
    assert aborted.attributes == {"abort_reason": "interrupted"}
    assert aborted.text() == "turn aborted (interrupted)"
    assert session.events[3].event_type.data.kind == "compacted"
    assert session.events[3].text() == "summary of earlier work"
    assert session.events[4].event_type.data.kind == "entered_review_mode"
    skipped = records_of(session)["skipped"]
    assert skipped["item_completed:AgentMessage"] == 1
    assert records_of(session)["merged"] == 1  # context_compacted announces the compaction
    assert_valid(session, 8)


def test_model_is_the_most_used_and_sub_agents_are_auxiliary(tmp_path: Path) -> None:
    parent = "019c0000-0000-7000-8000-000000000001"
    rollout = Rollout(
        source={"subagent": {"thread_spawn": {"parent_thread_id": parent}}}, model_provider="azure"
    )
    for model in ("gpt-5-codex", "o4-mini", "o4-mini"):
        rollout.add("turn_context", {"model": model, "cwd": "/x"})
    rollout.user("go")
    session = parse(tmp_path, rollout)
    assert session.agent.model == "o4-mini"
    assert session.agent.provider == "azure"
    assert session.context.attributes["session_role"] == "auxiliary"
    assert session.context.attributes["parent_session_id"] == parent
    assert session.context.is_auxiliary


# --- the older format, without the envelope ---


def test_pre_envelope_rollout(tmp_path: Path) -> None:
    lines: list[dict[str, Any]] = [
        {
            "id": "5973b6c0-94b8-487b-a530-2aeb6098ae0e",
            "timestamp": "2025-05-07T17:24:21.123Z",
            "instructions": "Always run the tests.",
            "git": {"branch": "dev"},
        },
        {"record_type": "state"},
        {
            "type": "message",
            "role": "user",
            "content": [{"type": "input_text", "text": "<environment_context>/x"}],
        },
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "hello"}]},
        {
            "type": "reasoning",
            "id": "rs_1",
            "summary": [{"type": "summary_text", "text": "**Thinking**"}],
            "encrypted_content": "gAAA",
        },
        {
            "type": "function_call",
            "name": "shell",
            "arguments": '{"command":["bash","-lc","ls"]}',
            "call_id": "call_1",
        },
        {
            "type": "function_call_output",
            "call_id": "call_1",
            "output": '{"output":"a.txt\\n","metadata":{"exit_code":0,"duration_seconds":0.1}}',
        },
        {"record_type": "state"},
        {
            "type": "message",
            "role": "assistant",
            "content": [{"type": "output_text", "text": "ok"}],
        },
    ]
    path = tmp_path / "rollout-2025-05-07T17-24-21-5973b6c0-94b8-487b-a530-2aeb6098ae0e.jsonl"
    path.write_bytes(b"".join(orjson.dumps(line) + b"\n" for line in lines))
    detection = PARSER.detect(path, read_head(path))
    assert detection is not None and detection.confidence == 85
    session = PARSER.parse(path).session
    assert session.session_id == "5973b6c0-94b8-487b-a530-2aeb6098ae0e"
    assert [(e.event_type.type, e.text()) for e in session.events] == [
        ("SystemMessage", "Always run the tests."),
        ("SystemMessage", "<environment_context>/x"),
        ("UserMessage", "hello"),
        ("Thinking", "**Thinking**"),
        ("ShellCommand", ""),
        ("ToolResult", "a.txt\n"),
        ("AgentMessage", "ok"),
    ]
    assert session.events[4].event_type.data.exit_code == 0
    start = datetime(2025, 5, 7, 17, 24, 21, 123000, tzinfo=UTC)
    assert {event.timestamp for event in session.events} == {start}  # no times of their own
    assert session.context.attributes["git"] == {"branch": "dev"}
    assert session.context.title == "hello"
    assert records_of(session)["skipped"] == {"state": 2}
    assert_valid(session, 9)


# --- bad input ---


def test_unknown_types_are_skipped_with_one_warning_each(tmp_path: Path) -> None:
    rollout = Rollout().user("hi")
    rollout.event(type="brand_new_event", x=1)
    rollout.event(type="brand_new_event", x=2)
    rollout.item(type="hologram", data="?")
    rollout.add("future_record", {"a": 1})
    path = rollout.write(tmp_path / "rollout.jsonl")
    result = PARSER.parse(path)
    assert records_of(result.session)["skipped"] == {
        "read into context": 1,
        "unknown:event_msg:brand_new_event": 2,
        "unknown:response_item:hologram": 1,
        "unknown:future_record": 1,
    }
    assert [(w.line, "unknown" in w.reason) for w in result.warnings] == [
        (3, True),
        (5, True),
        (6, True),
    ]


def test_bad_lines_and_fields_warn_and_keep_the_rest(tmp_path: Path) -> None:
    path = Rollout().user("first").write(tmp_path / "rollout.jsonl")
    with path.open("ab") as stream:
        stream.write(b"not json\n")
        stream.write(b"[1, 2]\n")
        stream.write(b'{"timestamp":"x","type":"event_msg","payload":"oops"}\n')
        stream.write(b'{"type":"response_item","payload":{"type":"function_call","name":7,')
        stream.write(b'"call_id":"c","arguments":"{}"}}\n')
        stream.write(b'{"type":"response_item","payload":{"type":"message","role":"user",')
        stream.write(b'"content":[{"type":"input_text","text":"second"}]}}\n')
        stream.write(b'{"type":"event_msg","payload":{"type":"agent_mess')
    result = PARSER.parse(path)
    session = result.session
    assert [(e.event_type.type, e.text()) for e in session.events] == [
        ("UserMessage", "first"),
        ("ToolCall", ""),
        ("UserMessage", "second"),
    ]
    assert session.events[1].event_type.data.name == "unknown"
    assert session.events[2].timestamp == session.events[0].timestamp  # no time: the previous
    reasons = {w.line: w.reason for w in result.warnings}
    assert "not JSON" in reasons[3]
    assert "expected a JSON object" in reasons[4]
    assert "payload" in reasons[5]
    assert "'name'" in reasons[6]
    assert "truncated" in reasons[8]
    assert_valid(session, 5)


def test_large_output_is_kept_whole(tmp_path: Path) -> None:
    output = "x" * 5_000_000 + "\nProcess exited with code 3"
    rollout = Rollout().call("exec_command", {"cmd": "yes"}, "c").output("c", output)
    session = parse(tmp_path, rollout)
    assert session.events[1].text() == output
    assert session.events[0].event_type.data.exit_code is None  # not in the output's head


def test_nothing_readable_raises(tmp_path: Path) -> None:
    empty = tmp_path / "rollout-empty.jsonl"
    empty.write_bytes(b"")
    with pytest.raises(SessionParseError):
        PARSER.parse(empty)
    garbage = tmp_path / "garbage.jsonl"
    garbage.write_bytes(b"\x00\x01 not json\n")
    with pytest.raises(SessionParseError):
        PARSER.parse(garbage)


def test_parse_leaves_the_garbage_collector_as_it_found_it(tmp_path: Path) -> None:
    path = Rollout().user("hi").write(tmp_path / "rollout.jsonl")
    assert gc.isenabled()
    PARSER.parse(path)
    assert gc.isenabled()
    gc.disable()
    try:
        PARSER.parse(path)
        assert not gc.isenabled()
    finally:
        gc.enable()
    with pytest.raises(SessionParseError):
        PARSER.parse(tmp_path / "missing.jsonl")
    assert gc.isenabled()


# --- incremental parsing ---


def test_incremental_parse_of_a_real_rollout_equals_a_full_parse(
    corpus: Path, tmp_path: Path
) -> None:
    lines = (corpus / LOCALPUSH / FIRST).read_bytes().splitlines(keepends=True)
    path = tmp_path / FIRST
    path.write_bytes(b"".join(lines[:350]))
    incremental = IncrementalParse(PARSER, path)
    early = incremental.update().session
    early_copy = early.model_dump()
    assert len(early.events) < 341
    with path.open("ab") as stream:
        stream.write(b"".join(lines[350:]))
    later = incremental.update().session
    assert later.model_dump() == PARSER.parse(path).session.model_dump()
    assert early.model_dump() == early_copy  # the first result is left as it was


def test_incremental_parse_does_not_touch_handed_out_events(tmp_path: Path) -> None:
    rollout = Rollout().call("exec_command", {"cmd": "make"}, "c1")
    path = rollout.write(tmp_path / "rollout.jsonl")
    incremental = IncrementalParse(PARSER, path)
    first = incremental.update().session
    with path.open("ab") as stream:
        record = {
            "timestamp": "2026-02-23T12:01:00Z",
            "type": "response_item",
            "payload": {
                "type": "function_call_output",
                "call_id": "c1",
                "output": "Process exited with code 1",
            },
        }
        stream.write(orjson.dumps(record) + b"\n")
    second = incremental.update().session
    assert first.events[0].event_type.data.exit_code is None
    assert second.events[0].event_type.data.exit_code == 1
    assert second.model_dump() == PARSER.parse(path).session.model_dump()


def test_incremental_parse_does_not_touch_handed_out_attributes(tmp_path: Path) -> None:
    rollout = Rollout().call("exec_command", {"cmd": "make"}, "c1")
    path = rollout.write(tmp_path / "rollout.jsonl")
    incremental = IncrementalParse(PARSER, path)
    first = incremental.update().session
    with path.open("ab") as stream:
        record = {
            "timestamp": "2026-02-23T12:01:00Z",
            "type": "event_msg",
            "payload": {"type": "token_count", "input_tokens": 5, "output_tokens": 1},
        }
        stream.write(orjson.dumps(record) + b"\n")
    second = incremental.update().session
    assert first.events[0].attributes == {"semantic.call_id": "c1"}
    assert second.events[0].attributes == {
        "semantic.call_id": "c1",
        "input_tokens": 5,
        "output_tokens": 1,
    }
    assert second.model_dump() == PARSER.parse(path).session.model_dump()


# --- the models built ---


def test_events_are_what_validating_their_fields_makes(corpus: Path, tmp_path: Path) -> None:
    """Events and their content are built without validation: each must equal what validating
    the fields it counts as set makes (the others keep their defaults)."""
    rollout = Rollout().assistant("first").assistant("early")
    rollout.records[2]["timestamp"] = "2026-02-23T11:00:00Z"  # gets a source.timestamp
    rollout.event(type="task_started", turn_id="t1")
    rollout.call("exec_command", {"cmd": "false"}, "c1")
    rollout.event(type="exec_command_end", call_id="c1", exit_code=1, duration={"secs": 2})
    rollout.output("c1", "failed")
    rollout.event(type="task_complete", turn_id="t1")
    sessions = [parse(tmp_path, rollout), PARSER.parse(corpus / LOCALPUSH / SECOND).session]
    for model in (
        part for session in sessions for event in session.events for part in (event, event.content)
    ):
        again = type(model).model_validate(
            {name: getattr(model, name) for name in model.model_fields_set}
        )
        assert again == model
        assert again.model_fields_set == model.model_fields_set
    assert {"task_id", "duration_ms", "attributes"} <= {
        name for event in sessions[0].events for name in event.model_fields_set
    }
    event = sessions[0].events[0]
    event.attributes["kept"] = True  # mutable as a validated event is
    event.timestamp = START
    assert event.model_copy().model_dump()["attributes"]["kept"] is True


# --- detection ---


def test_detects_rollouts_by_content(corpus: Path, tmp_path: Path) -> None:
    for path in sorted((corpus / "codex").rglob("*.jsonl")):
        detection = PARSER.detect(path, read_head(path))
        assert detection is not None and detection.confidence >= 90, path
    renamed = tmp_path / "session.jsonl"
    renamed.write_bytes((corpus / LOCALPUSH / SHORT).read_bytes())
    assert PARSER.detect(renamed, read_head(renamed)).confidence == 95


def test_detection_of_long_first_lines_and_names(tmp_path: Path) -> None:
    huge = tmp_path / "a.jsonl"
    huge.write_bytes(
        orjson.dumps(
            {
                "timestamp": "2026-01-01T00:00:00Z",
                "type": "session_meta",
                "payload": {"id": "x", "base_instructions": {"text": "y" * 100_000}},
            }
        )
        + b"\n"
    )
    assert PARSER.detect(huge, read_head(huge)).confidence == 90
    named = tmp_path / "rollout-2025-01-01T00-00-00-x.jsonl"
    named.write_bytes(b'{"unfinished": ')
    assert PARSER.detect(named, read_head(named)).confidence == 40
    assert PARSER.detect(tmp_path, b"") is None


def test_detects_pre_envelope_rollouts_without_instructions(tmp_path: Path) -> None:
    path = tmp_path / "session.jsonl"
    path.write_bytes(
        b'{"id":"5973b6c0","timestamp":"2025-05-07T17:24:21.123Z"}\n{"record_type":"state"}\n'
        b'{"type":"message","role":"user","content":[{"type":"input_text","text":"hi"}]}\n'
    )
    assert PARSER.detect(path, read_head(path)).confidence == 75
    lone = tmp_path / "other.jsonl"
    lone.write_bytes(b'{"id":"5973b6c0","timestamp":"2025-05-07T17:24:21.123Z"}\n')
    assert PARSER.detect(lone, read_head(lone)) is None


def test_does_not_claim_other_tools_files(corpus: Path) -> None:
    others = [
        path
        for tool in ("claude-code", "gemini", "hail", "aider", "cursor", "opencode")
        for path in sorted((corpus / tool).rglob("*"))
        if path.is_file()
    ]
    assert others
    for path in others:
        assert PARSER.detect(path, read_head(path)) is None, path
