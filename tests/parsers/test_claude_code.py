"""The Claude Code parser: real logs from the corpus, and small logs written here for each rule."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import orjson
import pytest

from opensession.hail import model as m
from opensession.hail.validate import validate_session
from opensession.parsers.append_only import IncrementalParse
from opensession.parsers.base import SessionParseError
from opensession.parsers.claude_code import PARSER
from opensession.parsers.common import read_head
from opensession.parsers.registry import detect, get_parser
from opensession.parsers.tool_events import tool_call_blocks, tool_event_type

MAIN = "258c7280-ae70-4798-800f-63464d01a85d"
SECOND = "ae4a77f8-aedd-4bc1-888f-c94edc91af04"


@pytest.fixture
def spotter(corpus: Path) -> Path:
    return corpus / "claude-code" / "spotter"


def object_lines(path: Path) -> int:
    count = 0
    for raw in path.read_bytes().splitlines():
        try:
            count += isinstance(orjson.loads(raw), dict)
        except orjson.JSONDecodeError:
            continue
    return count


def of_type(session: m.Session, kind: type[m.HailModel]) -> list[m.Event]:
    return [event for event in session.events if isinstance(event.event_type, kind)]


def by_call(session: m.Session, call_id: str) -> list[m.Event]:
    return [e for e in session.events if e.attributes.get("semantic.call_id") == call_id]


def write_log(path: Path, records: list[dict[str, Any]]) -> Path:
    path.write_bytes(b"".join(orjson.dumps(record) + b"\n" for record in records))
    return path


_clock = iter(range(10_000))


def record(kind: str, content: Any = None, **fields: Any) -> dict[str, Any]:
    """A conversation record as Claude Code writes it, stamped one second after the last."""
    second = next(_clock)
    base: dict[str, Any] = {
        "type": kind,
        "uuid": f"{kind}-{second}",
        "sessionId": "s-1",
        "cwd": "/work/app",
        "gitBranch": "main",
        "version": "2.1.40",
        "timestamp": f"2026-03-01T10:{second // 60 % 60:02d}:{second % 60:02d}.000Z",
    }
    if content is not None:
        role = "assistant" if kind == "assistant" else "user"
        base["message"] = {"role": role, "content": content}
    base.update(fields)
    return base


def assistant(blocks: list[dict[str, Any]], message_id: str, **usage: int) -> dict[str, Any]:
    entry = record("assistant", blocks)
    entry["message"].update(id=message_id, model="claude-opus-4-6", usage=usage or None)
    return entry


def tool_use(call_id: str | None, name: str, **arguments: Any) -> dict[str, Any]:
    block = {"type": "tool_use", "name": name, "input": arguments}
    if call_id is not None:
        block["id"] = call_id
    return block


def tool_result(
    call_id: str | None, content: Any, *, error: bool = False, side: Any = None
) -> dict:
    block: dict[str, Any] = {"type": "tool_result", "content": content, "is_error": error}
    if call_id is not None:
        block["tool_use_id"] = call_id
    entry = record("user", [block])
    if side is not None:
        entry["toolUseResult"] = side
    return entry


# --- The corpus ---


def test_every_corpus_log_is_valid_hail_with_every_record_accounted_for(corpus: Path) -> None:
    logs = sorted((corpus / "claude-code").rglob("*.jsonl"))
    assert len(logs) == 11
    for path in logs:
        result = PARSER.parse(path)
        assert result.warnings == [], path
        session = result.session
        assert session.context.attributes["source_records"]["total"] == object_lines(path)
        for each in result.sessions:
            assert [f for f in validate_session(each) if f.severity == "error"] == [], path
            stamps = [event.timestamp for event in each.events]
            assert stamps == sorted(stamps)
            assert len({event.event_id for event in each.events}) == len(each.events)


def test_short_session_merges_one_streamed_response_and_counts_its_usage_once(
    spotter: Path,
) -> None:
    session = PARSER.parse(spotter / "short.jsonl").session
    assert session.session_id == "55604662-cf2a-4331-851a-ec234028f8ca"
    assert session.context.title == "mix phx.server doesnt seem to start"
    assert session.agent == m.Agent(
        provider="anthropic", model="claude-opus-4-6", tool="claude-code", tool_version="2.1.38"
    )
    attributes = session.context.attributes
    assert attributes["cwd"] == "/home/marco/projects/spotter"
    assert attributes["git"] == {"branch": "master"}
    assert attributes["session_role"] == "primary"
    # Five records of msg_01MKH1cc…: a blank text, a thought, a text and two tool calls.
    kinds = [type(e.event_type).__name__ for e in session.events[:5]]
    assert kinds == ["UserMessage", "Thinking", "AgentMessage", "ShellCommand", "FileSearch"]
    thought = session.events[1]
    assert thought.text().startswith("The user is having trouble starting their Phoenix server")
    assert thought.attributes["input_tokens"] == 3 + 13835 + 11515
    assert thought.attributes["cache_read_input_tokens"] == 11515
    assert thought.attributes["output_tokens"] == 13
    assert session.stats.total_input_tokens == 25353
    assert session.stats.total_output_tokens == 13
    assert attributes["source_records"] == {
        "total": 15,
        "mapped": 7,
        "merged": 4,
        "skipped": {"file-history-snapshot": 1, "progress": 3},
    }


def test_short_session_rejected_calls_interruption_and_local_commands(spotter: Path) -> None:
    session = PARSER.parse(spotter / "short.jsonl").session
    (shell,) = of_type(session, m.ShellCommand)
    assert shell.event_type.data.command == "mix phx.server 2>&1 | head -80"
    assert shell.event_type.data.exit_code is None  # the user rejected it: it never ran
    result = by_call(session, "toolu_0116Hyi5v8ut7Ffb7d8qV1Sc")[1]
    assert result.event_type == m.ToolResult(
        data=m.ToolResultData(name="Bash", is_error=True, call_id="toolu_0116Hyi5v8ut7Ffb7d8qV1Sc")
    )
    assert result.attributes["rejected"] is True
    (interrupted,) = of_type(session, m.Custom)
    assert interrupted.event_type.data.kind == "interrupted"
    assert interrupted.text() == "[Request interrupted by user for tool use]"
    assert [e.text() for e in of_type(session, m.SystemMessage)] == [
        "/model",
        "Kept model as Default (recommended)",
    ]
    assert session.stats.user_message_count == 1


def test_tool_heavy_session_maps_every_tool_and_command(spotter: Path) -> None:
    session = PARSER.parse(spotter / "tool_heavy.jsonl").session
    assert session.context.title == "start phoenix in background"
    background = by_call(session, "toolu_018GZVh9ymkrdx1TnR8reg5Y")
    assert background[0].event_type.data.exit_code is None
    assert background[1].attributes["background_task_id"] == "bae407b"
    tail = by_call(session, "toolu_01FZ9TWbiy1LPzHm1AAyUazo")[0]
    assert tail.event_type.data.exit_code == 0
    assert of_type(session, m.WebSearch)[0].event_type.data.query.startswith("xterm.js scroll")
    assert of_type(session, m.WebFetch)[0].event_type.data.url == (
        "https://github.com/xtermjs/xterm.js/issues/1343"
    )
    (read,) = of_type(session, m.FileRead)
    assert read.event_type.data.path == "/home/marco/projects/spotter/assets/js/app.js"
    read_result = by_call(session, read.attributes["semantic.call_id"])[1]
    assert read_result.event_type.data.name == "Read"
    assert 'import "phoenix_html"' in read_result.text()
    command = next(e for e in session.events if e.attributes.get("command") == "/mcp")
    assert isinstance(command.event_type, m.UserMessage)
    assert command.text() == "/mcp"
    outputs = [e.text() for e in of_type(session, m.SystemMessage)]
    assert "Reconnected to tidewave." in outputs
    assert any(text.startswith("<local-command-caveat>") for text in outputs)
    assert session.stats.user_message_count == 3
    assert session.context.attributes["source_records"]["skipped"]["queue-operation"] == 2


def test_task_call_becomes_task_start_and_end_around_the_sub_agent(spotter: Path) -> None:
    session = PARSER.parse(spotter / "subagent.jsonl").session
    assert session.context.title == (
        "/handgemacht:create-beads websearch to learn how to fastest setup credo, dial..."
    )
    (start,) = of_type(session, m.TaskStart)
    (end,) = of_type(session, m.TaskEnd)
    assert start.event_type.data.title == "Draft beads for linting setup"
    assert start.task_id == end.task_id == "toolu_01Cz2Pnv7qNcnK1ZiocxWhQX"
    assert start.attributes["subagent_type"] == "Plan"
    assert start.text().startswith("Draft bead content for setting up Credo")
    assert end.event_type.data.summary.startswith("Excellent! Now I have all the information")
    assert "agentId:" not in end.event_type.data.summary
    assert end.attributes["subagent_session_id"] == "afb92ff"
    assert end.duration_ms == 38799
    assert session.stats.task_count == 1
    (plan,) = of_type(session, m.FileCreate)
    assert plan.event_type.data.path == "/home/marco/projects/spotter/plan.md"
    assert session.context.related_session_ids == []


def test_main_log_returns_its_sub_agents_as_linked_auxiliary_sessions(spotter: Path) -> None:
    result = PARSER.parse(spotter / f"{MAIN}.jsonl")
    main, agent, compaction = result.sessions
    assert main.session_id == MAIN
    assert main.context.related_session_ids == ["a881341", "acompact-fffbd0"]
    for auxiliary in (agent, compaction):
        assert auxiliary.context.is_auxiliary
        assert auxiliary.context.attributes["session_role"] == "auxiliary"
        assert auxiliary.context.attributes["parent_session_id"] == MAIN
        assert auxiliary.context.related_session_ids == [MAIN]
    assert agent.session_id == "a881341"
    assert agent.context.attributes["agent_kind"] == "subagent"
    assert agent.agent.model == "claude-sonnet-4-5-20250929"
    assert agent.context.title.startswith("What is the output contract for Claude Code hooks")
    assert [e.event_type.data.url for e in of_type(agent, m.WebFetch)] == [
        "https://code.claude.com/docs/en/claude_code_docs_map.md",
        "https://code.claude.com/docs/en/hooks.md",
    ]
    assert compaction.session_id == "acompact-fffbd0"
    assert compaction.context.attributes["agent_kind"] == "compaction"
    assert compaction.context.title == "Context compaction"
    (end,) = of_type(main, m.TaskEnd)
    assert end.attributes["subagent_session_id"] == agent.session_id
    assert end.event_type.data.summary.startswith("Based on the official Claude Code hooks")


def test_main_log_edits_writes_exit_codes_and_compaction(spotter: Path) -> None:
    session = PARSER.parse(spotter / f"{MAIN}.jsonl").session
    edit = by_call(session, "toolu_01JPL5vAoTHHbKA7AEixmzrt")[0]
    path = "/home/USER/projects/spotter-worktrees/spotter-gqc/lib/spotter/transcripts/annotation.ex"
    assert edit.event_type.data.path == path
    diff = edit.event_type.data.diff
    assert diff.startswith(f"--- a/{path[1:]}\n+++ b/{path[1:]}\n@@ -14,7 +14,17 @@\n")
    assert "\n-      accept [:session_id, :selected_text," in diff
    created = by_call(session, "toolu_01HL6bQARAhNZJigpYm977Zq")[0]
    assert isinstance(created.event_type, m.FileCreate)
    rewritten = by_call(session, "toolu_01KzY16LN9UDJhmxrsawXP6C")[0]
    assert isinstance(rewritten.event_type, m.FileEdit)  # the result says "update"
    assert "@@ -1,68 +1,90 @@" in rewritten.event_type.data.diff
    push = next(
        e for e in of_type(session, m.ShellCommand) if e.event_type.data.command == "git push 2>&1"
    )
    assert push.event_type.data.exit_code == 128
    (compacted,) = [
        e for e in of_type(session, m.Custom) if e.event_type.data.kind != "interrupted"
    ]
    assert compacted.event_type.data.kind == "context_compacted"
    assert compacted.attributes["trigger"] == "auto"
    assert compacted.attributes["pre_tokens"] == 167094
    summary = next(e for e in session.events if e.attributes.get("compact_summary"))
    assert isinstance(summary.event_type, m.SystemMessage)
    users = [e.text() for e in of_type(session, m.UserMessage)]
    assert users == ["Implement spotter-gqc", "did you push?"]
    assert session.stats.files_changed == 26
    assert session.stats.lines_added == 739


def test_parallel_calls_streamed_around_their_results_all_survive(spotter: Path) -> None:
    result = PARSER.parse(spotter / f"{SECOND}.jsonl")
    agent = next(s for s in result.sessions if s.session_id == "aac57f5")
    searches = of_type(agent, m.WebSearch)
    fetches = of_type(agent, m.WebFetch)
    assert len(searches) == 6
    assert len(fetches) == 6
    results = of_type(agent, m.ToolResult)
    assert {e.event_type.data.call_id for e in results} == {
        e.attributes["semantic.call_id"] for e in searches + fetches
    }
    # One response: usage on its first event only.
    tokens = [e.attributes.get("input_tokens") for e in agent.events]
    assert tokens.count(None) == len(agent.events) - 3
    assert agent.context.attributes["source_records"] == {
        "total": 40,
        "mapped": 16,
        "merged": 12,
        "skipped": {"progress": 12},
    }


def test_an_agent_log_parsed_alone_equals_the_one_found_by_its_parent(spotter: Path) -> None:
    by_parent = PARSER.parse(spotter / f"{MAIN}.jsonl").sessions[1:]
    for found in by_parent:
        path = Path(found.context.attributes["source_path"])
        alone = PARSER.parse(path)
        assert len(alone.sessions) == 1
        assert alone.session.model_dump() == found.model_dump()


def test_records_without_ids_pair_calls_and_results_by_order(corpus: Path) -> None:
    session = PARSER.parse(corpus / "claude-code" / "opensession__session-fallback.jsonl").session
    assert session.session_id == "claude-fixture-1"
    read, result, answer = session.events
    assert read.event_type == m.FileRead(data=m.PathData(path="src/main.rs"))
    assert result.event_type.data.name == "Read"
    assert result.event_type.data.call_id == read.attributes["semantic.call_id"] == "a1"
    assert answer.text() == "response complete"
    assert session.context.title is None


def test_a_minimal_log_takes_its_id_from_the_file_name(corpus: Path) -> None:
    session = PARSER.parse(corpus / "claude-code" / "agentsview__valid_session.jsonl").session
    assert session.session_id == "agentsview__valid_session"
    assert session.context.title == "Fix the login bug"
    assert session.agent.model == "unknown"
    assert session.agent.provider == "anthropic"
    assert session.context.attributes["cwd"] == "/Users/alice/code/my-app"
    assert session.stats.user_message_count == 2
    assert of_type(session, m.FileRead)[0].event_type.data.path == "src/auth.ts"


# --- Detection ---


def test_detection_is_sure_of_claude_code_logs_and_claims_no_other_tools(corpus: Path) -> None:
    for path in sorted((corpus / "claude-code").rglob("*.jsonl")):
        claim = PARSER.detect(path, read_head(path))
        assert claim is not None and claim.tool == "claude-code", path
        expected = 60 if path.name == "agentsview__valid_session.jsonl" else 95
        assert claim.confidence == expected, path
    others = [p for p in corpus.rglob("*") if p.is_file() and "claude-code" not in p.parts]
    assert others
    for path in others:
        claim = PARSER.detect(path, read_head(path))
        assert claim is None or claim.confidence < 50, path


def test_registry_picks_claude_code_for_its_logs(spotter: Path) -> None:
    assert get_parser("claude-code") is PARSER
    assert detect(spotter / "short.jsonl")[0].tool == "claude-code"


def test_a_jsonl_under_claude_projects_with_nothing_readable_is_a_weak_claim(
    tmp_path: Path,
) -> None:
    path = tmp_path / ".claude" / "projects" / "p" / "s.jsonl"
    path.parent.mkdir(parents=True)
    path.write_text("{not json\n")
    claim = PARSER.detect(path, read_head(path))
    assert claim is not None and claim.confidence == 30
    assert PARSER.detect(tmp_path / "x.jsonl", b'{"type":"header","version":"hail-1"}\n') is None


# --- Rules, on small logs ---


def test_streamed_records_keep_each_block_once_and_usage_at_its_largest(tmp_path: Path) -> None:
    text = {"type": "text", "text": "Looking."}
    call = tool_use("t1", "Bash", command="ls")
    path = write_log(
        tmp_path / "s.jsonl",
        [
            record("user", "list files"),
            assistant(
                [text], "msg_1", input_tokens=5, cache_read_input_tokens=100, output_tokens=1
            ),
            assistant(
                [text, call], "msg_1", input_tokens=5, cache_read_input_tokens=100, output_tokens=9
            ),
            assistant(
                [call], "msg_1", input_tokens=5, cache_read_input_tokens=100, output_tokens=7
            ),
        ],
    )
    session = PARSER.parse(path).session
    kinds = [type(e.event_type).__name__ for e in session.events]
    assert kinds == ["UserMessage", "AgentMessage", "ShellCommand"]
    first = session.events[1]
    assert first.attributes["input_tokens"] == 105
    assert first.attributes["uncached_input_tokens"] == 5
    assert first.attributes["output_tokens"] == 9
    assert "input_tokens" not in session.events[2].attributes
    assert session.stats.total_output_tokens == 9
    records = session.context.attributes["source_records"]
    assert (records["mapped"], records["merged"]) == (2, 2)


def test_results_without_ids_pair_with_calls_in_order(tmp_path: Path) -> None:
    path = write_log(
        tmp_path / "s.jsonl",
        [
            record("user", "look"),
            assistant([tool_use(None, "Read", file_path="a.py")], "m1"),
            assistant([tool_use(None, "Grep", pattern="TODO")], "m1"),
            tool_result(None, "print('a')"),
            tool_result(None, "a.py:3: TODO"),
        ],
    )
    session = PARSER.parse(path).session
    read, grep, read_result, grep_result = session.events[1:]
    assert isinstance(grep.event_type, m.CodeSearch)
    assert read_result.event_type.data.name == "Read"
    assert read_result.event_type.data.call_id == read.attributes["semantic.call_id"]
    assert grep_result.event_type.data.name == "Grep"
    assert grep_result.event_type.data.call_id == grep.attributes["semantic.call_id"]
    assert read.attributes["semantic.call_id"] != grep.attributes["semantic.call_id"]


@pytest.mark.parametrize(
    ("content", "error", "side", "exit_code"),
    [
        ("ok", False, {"stdout": "ok", "stderr": "", "interrupted": False}, 0),
        ("Exit code 2\nboom", True, "Error: Exit code 2\nboom", 2),
        ("Pre-commit validation failed", True, "Error: Pre-commit validation failed", 1),
        (
            "The user doesn't want to proceed with this tool use.",
            True,
            "User rejected tool use",
            None,
        ),
        ("", False, {"stdout": "", "stderr": "", "interrupted": True}, None),
        ("", False, {"stdout": "", "returnCodeInterpretation": "No matches found"}, None),
    ],
)
def test_shell_exit_codes_come_from_the_result(
    tmp_path: Path, content: str, error: bool, side: Any, exit_code: int | None
) -> None:
    path = write_log(
        tmp_path / "s.jsonl",
        [
            record("user", "run it"),
            assistant([tool_use("t1", "Bash", command="make")], "m1"),
            tool_result("t1", content, error=error, side=side),
        ],
    )
    session = PARSER.parse(path).session
    assert session.events[1].event_type.data.exit_code == exit_code
    assert session.events[2].event_type.data.is_error is error


def test_a_write_is_an_edit_when_the_file_was_read_or_the_result_says_updated(
    tmp_path: Path,
) -> None:
    patch = [{"oldStart": 1, "oldLines": 1, "newStart": 1, "newLines": 1, "lines": ["-a", "+b"]}]
    path = write_log(
        tmp_path / "s.jsonl",
        [
            record("user", "rewrite"),
            assistant([tool_use("w1", "Write", file_path="/p/new.py", content="x")], "m1"),
            tool_result("w1", "File created", side={"type": "create", "structuredPatch": []}),
            assistant([tool_use("r1", "Read", file_path="/p/old.py")], "m2"),
            tool_result("r1", "a"),
            assistant([tool_use("w2", "Write", file_path="/p/old.py", content="b")], "m3"),
            assistant([tool_use("w3", "Write", file_path="/p/other.py", content="b")], "m4"),
            tool_result("w3", "updated", side={"type": "update", "structuredPatch": patch}),
        ],
    )
    session = PARSER.parse(path).session
    assert isinstance(by_call(session, "w1")[0].event_type, m.FileCreate)
    assert by_call(session, "w2")[0].event_type == m.FileEdit(data=m.FileEditData(path="/p/old.py"))
    updated = by_call(session, "w3")[0].event_type
    assert updated.data.diff == "--- a/p/other.py\n+++ b/p/other.py\n@@ -1,1 +1,1 @@\n-a\n+b\n"
    assert (session.stats.lines_added, session.stats.lines_removed) == (1, 1)


@pytest.mark.parametrize(
    ("name", "arguments"),
    [
        ("Bash", {"command": "make", "description": "build"}),
        ("Bash", {"command": ""}),
        ("Bash", {"command": ["git", "log", "-1"]}),
        ("Bash", {"cmd": "make"}),
        ("Bash", "make"),
        ("Read", {"file_path": "/p/a.py", "offset": 3}),
        ("Read", {"file_path": "", "path": "/p/b.py"}),
        ("Read", {}),
        ("Write", {"file_path": "/p/a.py", "content": "x"}),
        ("Write", {"path": "/p/a.py", "content": "x"}),
        ("Edit", {"file_path": "/p/a.py", "old_string": "a", "new_string": "b"}),
        ("Glob", {"pattern": "**/*.py", "path": "/p"}),
        ("Glob", {"path": "/p"}),
        ("Grep", {"pattern": "TODO", "path": "/p"}),
        ("Grep", {"pattern": "", "query": "TODO"}),
        ("Grep", {"file_path": "/p/a.py", "pattern": "TODO"}),
        ("WebFetch", {"url": "https://example.com"}),
        ("TaskOutput", {}),
    ],
)
def test_calls_are_mapped_as_tool_events_maps_them(
    tmp_path: Path, name: str, arguments: Any
) -> None:
    block = {"type": "tool_use", "id": "t1", "name": name, "input": arguments}
    path = write_log(tmp_path / "s.jsonl", [record("user", "go"), assistant([block], "m1")])
    call = PARSER.parse(path).session.events[1]
    expected = tool_event_type(name, arguments if isinstance(arguments, dict) else None)
    assert call.event_type.model_dump() == expected.model_dump()
    blocks = [b.model_dump() for b in tool_call_blocks(expected, arguments)]
    assert [b.model_dump() for b in call.content.blocks] == blocks


def test_an_edit_without_its_result_gets_a_diff_of_its_strings(tmp_path: Path) -> None:
    edit = tool_use("e1", "Edit", file_path="/p/a.py", old_string="x = 1\n", new_string="x = 2\n")
    path = write_log(tmp_path / "s.jsonl", [record("user", "fix"), assistant([edit], "m1")])
    diff = PARSER.parse(path).session.events[1].event_type.data.diff
    assert "-x = 1\n+x = 2\n" in diff


def test_images_become_data_urls_in_messages_and_results(tmp_path: Path) -> None:
    image = {
        "type": "image",
        "source": {"type": "base64", "media_type": "image/png", "data": "iVBO"},
    }
    path = write_log(
        tmp_path / "s.jsonl",
        [
            record("user", [{"type": "text", "text": "what is this?"}, image]),
            assistant([tool_use("t1", "Read", file_path="/p/shot.png")], "m1"),
            tool_result("t1", [image, {"type": "text", "text": "an image"}]),
        ],
    )
    session = PARSER.parse(path).session
    question = session.events[0]
    assert question.content.blocks[1] == m.ImageBlock(
        url="data:image/png;base64,iVBO", mime="image/png"
    )
    result = session.events[2]
    assert isinstance(result.content.blocks[0], m.ImageBlock)
    assert result.text() == "an image"


def test_summary_and_custom_title_name_the_session(tmp_path: Path) -> None:
    records = [
        {"type": "summary", "summary": "First summary", "leafUuid": "elsewhere"},
        record("user", "hello there"),
        {"type": "summary", "summary": "Second summary", "leafUuid": "x"},
    ]
    path = write_log(tmp_path / "s.jsonl", records)
    session = PARSER.parse(path).session
    assert session.context.title == "Second summary"
    assert session.context.attributes["source_records"]["skipped"] == {"summary": 2}
    records.append({"type": "custom-title", "customTitle": "My title", "sessionId": "s-1"})
    records.append({"type": "agent-name", "agentName": "helper", "sessionId": "s-1"})
    renamed = PARSER.parse(write_log(path, records))
    assert renamed.session.context.title == "My title"
    assert renamed.warnings == []
    bare = write_log(tmp_path / "t.jsonl", [record("user", "  \n  Fix the build\nplease")])
    assert PARSER.parse(bare).session.context.title == "Fix the build"


def test_what_claude_code_wrote_itself_is_not_the_users_words(tmp_path: Path) -> None:
    command = "<command-name>/review</command-name>\n<command-message>review</command-message>\n"
    path = write_log(
        tmp_path / "s.jsonl",
        [
            record("user", "<local-command-caveat>Caveat</local-command-caveat>", isMeta=True),
            record("user", command + "<command-args>the PR</command-args>"),
            record("user", "<local-command-stdout>\x1b[2mdone\x1b[22m</local-command-stdout>"),
            record("user", "<task-notification>finished</task-notification>"),
            record("user", "Summary of the earlier part", isCompactSummary=True),
            record("user", [{"type": "text", "text": "[Request interrupted by user]"}]),
            dict(record("system"), subtype="turn_duration", durationMs=5),
            dict(record("system"), subtype="api_error", content="Overloaded", level="error"),
        ],
    )
    session = PARSER.parse(path).session
    kinds = [type(e.event_type).__name__ for e in session.events]
    assert kinds == [
        "SystemMessage",
        "UserMessage",
        "SystemMessage",
        "SystemMessage",
        "SystemMessage",
        "Custom",
        "SystemMessage",
    ]
    assert session.events[1].text() == "/review the PR"
    assert session.events[2].text() == "done"
    assert session.events[6].attributes == {"subtype": "api_error", "level": "error"}
    assert session.context.title == "/review the PR"
    assert session.stats.user_message_count == 1
    skipped = session.context.attributes["source_records"]["skipped"]
    assert skipped == {"system turn_duration": 1}


def test_inline_sidechain_records_join_their_task(tmp_path: Path) -> None:
    task = tool_use("task1", "Task", description="Find the bug", prompt="Look for the bug")
    side = {"isSidechain": True}
    prompt = record("user", "Look for the bug", **side)
    reply = record(
        "assistant", [{"type": "text", "text": "Found it"}], parentUuid=prompt["uuid"], **side
    )
    path = write_log(
        tmp_path / "s.jsonl",
        [
            record("user", "debug this"),
            assistant([task], "m1"),
            prompt,
            reply,
            tool_result("task1", [{"type": "text", "text": "It was a typo"}]),
            record("assistant", [{"type": "text", "text": "Orphan"}], parentUuid="nowhere", **side),
        ],
    )
    session = PARSER.parse(path).session
    start, inner_prompt, inner_reply, end, orphan = session.events[1:]
    assert start.event_type.data.title == "Find the bug"
    assert inner_prompt.task_id == inner_reply.task_id == end.task_id == "task1"
    assert inner_prompt.attributes["sidechain"] is True
    assert end.event_type.data.summary == "It was a typo"
    assert orphan.task_id is None and orphan.attributes["sidechain"] is True
    assert session.context.title == "debug this"


def test_sub_agent_logs_beside_the_session_are_found_by_their_session_id(tmp_path: Path) -> None:
    main = write_log(tmp_path / "s-1.jsonl", [record("user", "go")])
    agent = record("user", "sub task", agentId="b12", isSidechain=True)
    write_log(tmp_path / "agent-b12.jsonl", [agent])
    write_log(tmp_path / "agent-c34.jsonl", [dict(agent, sessionId="other", agentId="c34")])
    result = PARSER.parse(main)
    assert [s.session_id for s in result.sessions] == ["s-1", "b12"]
    assert result.session.context.related_session_ids == ["b12"]


def test_an_unreadable_sub_agent_log_is_a_warning_not_a_failure(tmp_path: Path) -> None:
    main = write_log(tmp_path / "s-1.jsonl", [record("user", "go")])
    folder = tmp_path / "s-1" / "subagents"
    folder.mkdir(parents=True)
    (folder / "agent-e56.jsonl").write_text("")
    write_log(folder / "agent-f78.jsonl", [record("user", "sub", agentId="f78", isSidechain=True)])
    result = PARSER.parse(main)
    assert [s.session_id for s in result.sessions] == ["s-1", "f78"]
    (warning,) = result.warnings
    assert warning.source.endswith("agent-e56.jsonl")
    assert "no readable Claude Code records" in warning.reason


def test_bad_lines_warn_and_the_rest_is_kept(tmp_path: Path) -> None:
    good = orjson.dumps(record("user", "hello")) + b"\n"
    wrong = orjson.dumps(record("user", 42)) + b"\n"
    odd = orjson.dumps({"type": "pr-link", "url": "x"}) + b"\n"
    path = tmp_path / "s.jsonl"
    path.write_bytes(good + b"not json\n" + wrong + odd + odd + b"[1]\n" + b'{"type":"user","mess')
    result = PARSER.parse(path)
    reasons = [(w.line, w.reason) for w in result.warnings]
    assert reasons[0][0] == 2 and reasons[0][1].startswith("not JSON")
    assert (3, "'message.content' is neither text nor a list; record skipped") in reasons
    assert (4, "unknown record type 'pr-link'; records of this type skipped") in reasons
    assert (6, "expected a JSON object, found list; line skipped") in reasons
    assert reasons[-1] == (7, "truncated last line; line skipped")
    assert len(reasons) == 5  # the second unknown record is not warned about again
    records = result.session.context.attributes["source_records"]
    assert records == {
        "total": 4,
        "mapped": 1,
        "merged": 0,
        "skipped": {"malformed message": 1, "unknown type pr-link": 2},
    }
    assert result.session.events[0].text() == "hello"


def test_a_log_with_nothing_readable_is_an_error_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    path.write_text("")
    with pytest.raises(SessionParseError, match=r"s\.jsonl"):
        PARSER.parse(path)


def test_a_log_of_bookkeeping_only_is_an_empty_session(tmp_path: Path) -> None:
    snapshot = {"type": "file-history-snapshot", "messageId": "x", "snapshot": {}}
    session = PARSER.parse(write_log(tmp_path / "s.jsonl", [snapshot])).session
    assert session.events == []
    assert session.context.attributes["source_records"]["skipped"] == {"file-history-snapshot": 1}


def test_records_without_a_time_take_the_one_before(tmp_path: Path) -> None:
    first = record("user", "one")
    second = record("assistant", [{"type": "text", "text": "two"}])
    del second["timestamp"]
    session = PARSER.parse(write_log(tmp_path / "s.jsonl", [first, second])).session
    assert session.events[1].timestamp == session.events[0].timestamp


def test_an_event_stamped_before_the_one_before_takes_its_time(tmp_path: Path) -> None:
    early = record("user", "one")
    late = record("assistant", [{"type": "text", "text": "two"}])
    back = record("assistant", [{"type": "text", "text": "three"}])
    back["timestamp"] = early["timestamp"]
    session = PARSER.parse(write_log(tmp_path / "s.jsonl", [early, late, back])).session
    assert session.events[2].timestamp == session.events[1].timestamp
    assert session.events[2].attributes["source.timestamp"] == early["timestamp"]
    assert "source.timestamp" not in session.events[1].attributes


# --- Incremental parsing ---


@pytest.mark.parametrize("cut", [0.5, 0.37])
def test_appending_to_a_log_gives_what_a_full_parse_gives(
    spotter: Path, tmp_path: Path, cut: float
) -> None:
    source = spotter / f"{MAIN}.jsonl"
    shutil.copytree(spotter / MAIN, tmp_path / MAIN)
    data = source.read_bytes()
    middle = int(len(data) * cut)  # 0.37 falls inside a line: only complete lines are read
    path = tmp_path / source.name
    path.write_bytes(data[:middle])
    live = IncrementalParse(PARSER, path)
    early = live.update()
    assert 0 < len(early.session.events) < 483
    before = early.session.model_dump()
    with path.open("ab") as stream:
        stream.write(data[middle:])
    updated = live.update()
    full = PARSER.parse(path)
    assert [s.model_dump() for s in updated.sessions] == [s.model_dump() for s in full.sessions]
    assert len(updated.session.events) == 483
    assert early.session.model_dump() == before  # what was returned before is left as it was


def test_every_split_point_of_a_log_whose_times_go_back_gives_the_full_parse(
    tmp_path: Path,
) -> None:
    records = [
        record("user", "start"),
        assistant([{"type": "text", "text": "plan"}], "m1", input_tokens=1, output_tokens=1),
        assistant([tool_use("b1", "Bash", command="make")], "m2", input_tokens=1, output_tokens=2),
        assistant([tool_use("r1", "Read", file_path="/a")], "m2", input_tokens=1, output_tokens=5),
        tool_result("b1", "Exit code 2\nfailed", error=True),
        tool_result("r1", "a"),
        record("user", "again"),
    ]
    for entry in records[2:4]:  # a response stamped before the one before it
        entry["timestamp"] = records[0]["timestamp"]
    del records[5]["timestamp"]
    lines = [orjson.dumps(entry) + b"\n" for entry in records]
    full_path = tmp_path / "full.jsonl"
    full_path.write_bytes(b"".join(lines))
    expected = PARSER.parse(full_path).session.model_dump()
    expected["context"]["attributes"].pop("source_path")
    assert [e.get("attributes", {}).get("source.timestamp") for e in expected["events"]][2:4] == [
        records[0]["timestamp"]
    ] * 2
    for cut in range(1, len(lines)):
        path = tmp_path / f"cut-{cut}.jsonl"
        path.write_bytes(b"".join(lines[:cut]))
        live = IncrementalParse(PARSER, path)
        live.update()
        with path.open("ab") as stream:
            stream.write(b"".join(lines[cut:]))
        session = live.update().session.model_dump()
        session["context"]["attributes"].pop("source_path")
        assert session == expected, cut


def test_every_split_point_of_a_log_gives_the_full_parse(tmp_path: Path) -> None:
    task = tool_use("task1", "Task", description="Check", prompt="Check it")
    patch = [{"oldStart": 3, "oldLines": 1, "newStart": 3, "newLines": 1, "lines": ["-a", "+b"]}]
    records = [
        record("user", "start"),
        assistant([{"type": "text", "text": "\n\n"}], "m1", input_tokens=1, output_tokens=1),
        assistant([{"type": "thinking", "thinking": "hmm"}], "m1", input_tokens=1, output_tokens=2),
        assistant([tool_use("e1", "Edit", file_path="/a", old_string="a", new_string="b")], "m1"),
        assistant([tool_use("b1", "Bash", command="make")], "m1", input_tokens=1, output_tokens=9),
        tool_result("e1", "updated", side={"structuredPatch": patch}),
        tool_result("b1", "Exit code 3\nfailed", error=True),
        assistant([task], "m2", input_tokens=2, output_tokens=3),
        tool_result("task1", [{"type": "text", "text": "done"}], side={"agentId": "x1"}),
        {"type": "summary", "summary": "Edits and builds", "leafUuid": "u"},
    ]
    lines = [orjson.dumps(entry) + b"\n" for entry in records]
    full_path = tmp_path / "full.jsonl"
    full_path.write_bytes(b"".join(lines))
    expected = PARSER.parse(full_path).session.model_dump()
    expected["context"]["attributes"].pop("source_path")
    for cut in range(1, len(lines)):
        path = tmp_path / f"cut-{cut}.jsonl"
        path.write_bytes(b"".join(lines[:cut]))
        live = IncrementalParse(PARSER, path)
        live.update()
        with path.open("ab") as stream:
            stream.write(b"".join(lines[cut:]))
        session = live.update().session.model_dump()
        session["context"]["attributes"].pop("source_path")
        assert session == expected, cut
    assert expected["events"][1]["attributes"]["output_tokens"] == 9
    assert expected["events"][3]["event_type"]["data"]["exit_code"] == 3
