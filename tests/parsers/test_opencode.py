"""OpenCode sessions, from the JSON storage tree and from the SQLite database, into HAIL."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import orjson
import pytest

from opensession.hail import model as m
from opensession.hail.validate import validate_session
from opensession.parsers.base import SessionParseError
from opensession.parsers.common import read_head
from opensession.parsers.gemini import PARSER as GEMINI
from opensession.parsers.opencode import PARSER

T0 = 1_772_359_200_000  # 2026-03-01T10:00:00Z in epoch milliseconds
EDIT_DIFF = (
    "Index: /w/app/parser.py\n"
    "===================================================================\n"
    "--- /w/app/parser.py\n+++ /w/app/parser.py\n@@ -1,1 +1,1 @@\n-a = 1\n+a = 2\n"
)


def at(seconds: float) -> int:
    return T0 + int(seconds * 1000)


def text(part_id: str, value: str, second: float, **extra: Any) -> dict[str, Any]:
    return {"id": part_id, "type": "text", "text": value, "time": {"start": at(second)}, **extra}


def tool(part_id: str, name: str, state: dict[str, Any], call_id: str = "") -> dict[str, Any]:
    return {
        "id": part_id,
        "type": "tool",
        "tool": name,
        "callID": call_id or part_id,
        "state": state,
    }


def done(second: float, args: dict[str, Any], output: str, **extra: Any) -> dict[str, Any]:
    time = {"start": at(second), "end": at(second + 0.5)}
    return {"status": "completed", "input": args, "output": output, "time": time, **extra}


def step_finish(part_id: str, **tokens: Any) -> dict[str, Any]:
    return {"id": part_id, "type": "step-finish", "reason": "stop", "cost": 0.01, "tokens": tokens}


def assistant(message_id: str, second: float, parts: list[dict[str, Any]], **extra: Any) -> dict:
    info = {
        "id": message_id,
        "role": "assistant",
        "modelID": "claude-sonnet-4",
        "providerID": "anthropic",
        "time": {"created": at(second), "completed": at(second + 9)},
        "path": {"cwd": "/w/app", "root": "/w/app"},
        **extra,
    }
    return {"info": info, "parts": parts}


def user(message_id: str, second: float, parts: list[dict[str, Any]]) -> dict[str, Any]:
    model = {"providerID": "anthropic", "modelID": "claude-sonnet-4"}
    info = {"id": message_id, "role": "user", "time": {"created": at(second)}, "model": model}
    return {"info": info, "parts": parts}


def session(session_id: str, second: float, title: str, **extra: Any) -> dict[str, Any]:
    time = {"created": at(second), "updated": at(second + 60)}
    fields = {"projectID": "proj1", "directory": "/w/app", "title": title, "version": "1.1.40"}
    return {"id": session_id, **fields, "time": time, **extra}


IMAGE = {"mime": "image/png", "filename": "shot.png", "url": "data:image/png;base64,AAAA"}
SOURCE = {"type": "file", "path": "/w/app/parser.py"}
ATTACHED = {"mime": "text/plain", "filename": "parser.py", "url": "file:///w/app/parser.py"}
EDIT = {"filePath": "/w/app/parser.py", "oldString": "a = 1", "newString": "a = 2"}
READ_ERROR = {
    "status": "error",
    "input": {"filePath": "/w/app/missing.py"},
    "error": "File not found",
    "time": {"start": at(5), "end": at(5.1)},
}
ABORTED = {"name": "MessageAbortedError", "data": {"message": "The operation was aborted."}}
LAST_STEP = {"input": 200, "output": 30, "reasoning": 10, "cache": {"read": 2000, "write": 0}}
MAIN_MESSAGES = [
    user(
        "msg_001",
        1,
        [
            text("prt_001a", "Fix the failing test in parser.py", 1),
            text("prt_001b", "Called the Read tool with the following input", 1, synthetic=True),
            {"id": "prt_001c", "type": "file", **IMAGE},
            {"id": "prt_001d", "type": "file", **ATTACHED, "source": SOURCE},
        ],
    ),
    assistant(
        "msg_002",
        2,
        [
            {"id": "prt_002a", "type": "step-start"},
            {
                "id": "prt_002b",
                "type": "reasoning",
                "text": "The test probably fails on a = 1.",
                "time": {"start": at(2.1), "end": at(2.2)},
            },
            text("prt_002c", "Let me run the tests.", 2.3),
            tool(
                "prt_002d",
                "bash",
                done(2.4, {"command": "pytest -q"}, "1 failed", metadata={"exit": 1}),
                call_id=" toolu_bash ",
            ),
            step_finish(
                "prt_002e", input=100, output=20, reasoning=0, cache={"read": 1000, "write": 50}
            ),
            {"id": "prt_002f", "type": "step-start"},
            tool("prt_002g", "edit", done(3, EDIT, "", metadata={"diff": EDIT_DIFF})),
            tool(
                "prt_002h",
                "write",
                done(3.5, {"filePath": "/w/app/notes.md"}, "", metadata={"exists": True}),
            ),
            tool(
                "prt_002i",
                "task",
                done(
                    4, {"prompt": "Investigate"}, "It is fine.", metadata={"sessionId": "ses_child"}
                ),
            ),
            tool("prt_002j", "read", READ_ERROR),
            tool("prt_002k", "glob", {"status": "pending", "input": {"pattern": "**/*.py"}}),
            {"id": "prt_002l", "type": "patch", "hash": "4b825dc", "files": ["/w/app/parser.py"]},
            step_finish("prt_002m", **LAST_STEP, total=2240),
        ],
        tokens=LAST_STEP,
    ),
    assistant("msg_003", 20, [], error=ABORTED),
    assistant(
        "msg_004",
        30,
        [
            {"id": "prt_004a", "type": "hologram", "time": {"start": at(30)}},
            text("prt_004b", "Done.", 30.5),
        ],
        tokens={"input": 5, "output": 1, "reasoning": 0, "cache": {"read": 0, "write": 0}},
    ),
]
CHILD_MESSAGES = [
    user("msg_c01", 4.1, [text("prt_c01a", "Investigate the parser", 4.1)]),
    assistant("msg_c02", 4.2, [text("prt_c02a", "It is fine.", 4.3)]),
]
OTHER_MESSAGES = [user("msg_o01", 100, [text("prt_o01a", "hello again", 100)])]
SESSIONS = [
    (session("ses_main", 0, "New session - 2026-03-01T10:00:00.000Z"), MAIN_MESSAGES),
    (session("ses_child", 4, "Explore (@explore subagent)", parentID="ses_main"), CHILD_MESSAGES),
    (session("ses_other", 90, "Say hello"), OTHER_MESSAGES),
]
BROKEN_PART = ("msg_002", "prt_002z")
MAIN_RECORDS = 1 + len(MAIN_MESSAGES) + sum(len(msg["parts"]) for msg in MAIN_MESSAGES) + 1


def write_storage(root: Path) -> Path:
    """The sessions above as OpenCode's JSON storage tree (with one broken part file)."""
    for info, messages in SESSIONS:
        write_json(root / "session" / "proj1" / f"{info['id']}.json", info)
        for message in messages:
            message_id = message["info"]["id"]
            body = {**message["info"], "sessionID": info["id"]}
            write_json(root / "message" / info["id"] / f"{message_id}.json", body)
            for part in message["parts"]:
                part_body = {**part, "sessionID": info["id"], "messageID": message_id}
                write_json(root / "part" / message_id / f"{part['id']}.json", part_body)
    (root / "part" / BROKEN_PART[0] / f"{BROKEN_PART[1]}.json").write_bytes(b"{not json")
    return root


def write_json(path: Path, value: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(orjson.dumps(value, option=orjson.OPT_INDENT_2))


SCHEMA = """
CREATE TABLE project (id text PRIMARY KEY, worktree text NOT NULL, time_created integer NOT NULL,
    time_updated integer NOT NULL);
CREATE TABLE session (id text PRIMARY KEY, project_id text NOT NULL, parent_id text,
    slug text NOT NULL, directory text NOT NULL, title text NOT NULL, version text NOT NULL,
    share_url text, summary_additions integer, summary_deletions integer, summary_files integer,
    summary_diffs text, revert text, permission text, time_created integer NOT NULL,
    time_updated integer NOT NULL, time_compacting integer, time_archived integer);
CREATE TABLE message (id text PRIMARY KEY, session_id text NOT NULL,
    time_created integer NOT NULL, time_updated integer NOT NULL, data text NOT NULL);
CREATE TABLE part (id text PRIMARY KEY, message_id text NOT NULL, session_id text NOT NULL,
    time_created integer NOT NULL, time_updated integer NOT NULL, data text NOT NULL);
CREATE INDEX message_session_time_created_id_idx ON message (session_id, time_created, id);
CREATE INDEX part_message_id_id_idx ON part (message_id, id);
CREATE INDEX part_session_idx ON part (session_id);
"""


def write_database(path: Path) -> Path:
    """The sessions above in OpenCode 1.2's SQLite schema (one part row with broken data)."""
    connection = sqlite3.connect(path)
    connection.executescript(SCHEMA)
    for info, messages in SESSIONS:
        values = (info["id"], info["projectID"], info.get("parentID"), "slug", info["directory"])
        values += (info["title"], info["version"], info["time"]["created"], info["time"]["updated"])
        connection.execute(
            "INSERT INTO session (id, project_id, parent_id, slug, directory, title, version,"
            " time_created, time_updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            values,
        )
        for message in messages:
            data = {k: v for k, v in message["info"].items() if k != "id"}
            created = message["info"]["time"]["created"]
            row = (message["info"]["id"], info["id"], created, created, orjson.dumps(data))
            connection.execute("INSERT INTO message VALUES (?, ?, ?, ?, ?)", row)
            for part in message["parts"]:
                body = orjson.dumps({k: v for k, v in part.items() if k != "id"})
                row = (part["id"], message["info"]["id"], info["id"], created, created, body)
                connection.execute("INSERT INTO part VALUES (?, ?, ?, ?, ?, ?)", row)
    broken = (BROKEN_PART[1], BROKEN_PART[0], "ses_main", T0, T0, "{not json")
    connection.execute("INSERT INTO part VALUES (?, ?, ?, ?, ?, ?)", broken)
    connection.commit()
    connection.close()
    return path


def events_of(session: m.Session) -> dict[str, m.Event]:
    return {event.event_id: event for event in session.events}


def assert_valid(session: m.Session) -> None:
    assert [f for f in validate_session(session) if f.severity != "info"] == []


# --- The corpus ---


def test_corpus_storage_folder_gives_both_sessions(corpus: Path) -> None:
    root = corpus / "opencode" / "opensession__storage"
    result = PARSER.parse(root)
    assert [s.session_id for s in result.sessions] == ["ses_company_logic", "ses_fixture"]
    main = result.session
    assert main.context.title == "OpenCode company logic fixture"
    assert main.agent.model == "gpt-5.2-codex" and main.agent.provider == "openai"
    assert main.agent.tool_version == "1.2.0"
    assert main.context.attributes["cwd"] == "/tmp/opencode-company"
    events = events_of(main)
    prompt = events["msg_user"]
    assert prompt.text() == "run diagnostics"
    assert prompt.content.blocks[1] == m.FileBlock(path="/tmp/opencode-company/notes.md")
    grep, grep_result = events["part_tool_done"], events["part_tool_done:result"]
    assert grep.event_type == m.CodeSearch(data=m.QueryData(query="todo"))
    assert grep_result.text() == "Found 1 match"
    assert grep_result.event_type.data.call_id == grep.attributes["semantic.call_id"] == "call_abc"
    assert grep.duration_ms == 100
    running = events["part_tool_running"]
    assert running.event_type == m.FileEdit(
        data=m.FileEditData(path="/tmp/opencode-company/main.rs")
    )
    assert running.attributes["status"] == "running"
    assert running.attributes["semantic.call_id"] == "functions.edit:27"
    assert "part_tool_running:result" not in events
    patch = events["part_patch"]
    assert patch.event_type == m.Custom(data=m.CustomData(kind="patch"))
    assert [b.path for b in patch.content.blocks] == [
        "/tmp/opencode-company/main.rs",
        "/tmp/opencode-company/lib.rs",
    ]
    order = [e.event_id for e in main.events]
    assert (
        order.index("part_tool_done") < order.index("part_patch") < order.index("part_tool_running")
    )
    records = main.context.attributes["source_records"]
    assert records["total"] == 9  # the session, 2 messages and 6 parts
    assert records["skipped"] == {"reasoning without text": 1, "session info": 1}
    assert_valid(main)


def test_corpus_parts_in_a_msg_prefixed_folder_are_found(corpus: Path) -> None:
    path = corpus / "opencode" / "opensession__storage" / "session" / "project" / "ses_fixture.json"
    session = PARSER.parse(path).session
    assert [e.text() for e in session.events] == ["assistant response from fixture"]
    assert session.agent.tool_version == "1.1.30"
    assert session.context.attributes["source_records"]["total"] == 3


def test_corpus_detection(corpus: Path) -> None:
    root = corpus / "opencode" / "opensession__storage"
    assert PARSER.detect(root, b"").confidence >= 90
    session_file = root / "session" / "project" / "ses_company_logic.json"
    assert PARSER.detect(session_file, read_head(session_file)).confidence >= 90
    for path in (root / "message").rglob("*.json"):
        assert PARSER.detect(path, read_head(path)) is None
    for path in (root / "part").rglob("*.json"):
        assert PARSER.detect(path, read_head(path)) is None
    assert PARSER.detect(corpus / "opencode", b"") is None
    for path in root.rglob("*"):
        assert GEMINI.detect(path, read_head(path)) is None, path


def test_other_tools_files_are_not_claimed(corpus: Path) -> None:
    others = [p for p in corpus.rglob("*") if "opencode" not in p.parts]
    assert others
    for path in others:
        assert PARSER.detect(path, read_head(path)) is None, path


# --- A full session, from the storage tree and from the database ---


def test_storage_folder_gives_primary_sessions_first_then_sub_agents(tmp_path: Path) -> None:
    result = PARSER.parse(write_storage(tmp_path / "storage"))
    assert [s.session_id for s in result.sessions] == ["ses_main", "ses_other", "ses_child"]
    child = result.sessions[2].context
    assert child.attributes["session_role"] == "auxiliary"
    assert child.attributes["parent_session_id"] == "ses_main"
    assert child.is_auxiliary and not result.session.context.is_auxiliary
    assert PARSER.parse(tmp_path).sessions == result.sessions  # the data folder holding it


def test_session_file_gives_the_session_then_its_sub_agents(tmp_path: Path) -> None:
    root = write_storage(tmp_path / "storage")
    result = PARSER.parse(root / "session" / "proj1" / "ses_main.json")
    assert [s.session_id for s in result.sessions] == ["ses_main", "ses_child"]
    assert [e.text() for e in result.sessions[1].events] == [
        "Investigate the parser",
        "It is fine.",
    ]


def test_user_message_texts_and_files(tmp_path: Path) -> None:
    main = PARSER.parse(write_storage(tmp_path / "storage")).session
    prompt = events_of(main)["msg_001"]
    assert isinstance(prompt.event_type, m.UserMessage)
    assert prompt.content.blocks == [
        m.TextBlock(text="Fix the failing test in parser.py"),
        m.ImageBlock(url="data:image/png;base64,AAAA", mime="image/png", alt="shot.png"),
        m.FileBlock(path="/w/app/parser.py"),
    ]
    assert main.context.title == "Fix the failing test in parser.py"  # not the placeholder
    assert main.stats.user_message_count == 1


def test_assistant_parts_map_to_events_in_order(tmp_path: Path) -> None:
    main = PARSER.parse(write_storage(tmp_path / "storage")).session
    kinds = [(e.event_id, type(e.event_type).__name__) for e in main.events]
    assert kinds == [
        ("msg_001", "UserMessage"),
        ("prt_002b", "Thinking"),
        ("prt_002c", "AgentMessage"),
        ("prt_002d", "ShellCommand"),
        ("prt_002d:result", "ToolResult"),
        ("prt_002g", "FileEdit"),
        ("prt_002g:result", "ToolResult"),
        ("prt_002h", "FileEdit"),
        ("prt_002h:result", "ToolResult"),
        ("prt_002i", "ToolCall"),
        ("prt_002i:result", "ToolResult"),
        ("prt_002j", "FileRead"),
        ("prt_002j:result", "ToolResult"),
        ("prt_002k", "FileSearch"),
        ("prt_002l", "Custom"),
        ("msg_003:error", "SystemMessage"),
        ("prt_004b", "AgentMessage"),
    ]
    assert_valid(main)


def test_tool_calls_results_diffs_and_exit_codes(tmp_path: Path) -> None:
    events = events_of(PARSER.parse(write_storage(tmp_path / "storage")).session)
    bash = events["prt_002d"]
    assert bash.event_type == m.ShellCommand(
        data=m.ShellCommandData(command="pytest -q", exit_code=1)
    )
    assert bash.attributes["semantic.call_id"] == "toolu_bash"
    assert events["prt_002d:result"].event_type.data.call_id == "toolu_bash"
    assert events["prt_002d:result"].text() == "1 failed"
    assert bash.duration_ms == 500
    assert events["prt_002g"].event_type.data.diff == EDIT_DIFF
    assert events["prt_002h"].event_type == m.FileEdit(data=m.FileEditData(path="/w/app/notes.md"))
    assert events["prt_002i"].attributes["subagent_session_id"] == "ses_child"
    failed = events["prt_002j:result"].event_type.data
    assert (failed.name, failed.is_error) == ("read", True)
    assert events["prt_002j:result"].text() == "File not found"
    assert events["prt_002k"].attributes["status"] == "pending"
    assert "prt_002k:result" not in events


def test_errors_patches_and_unknown_parts(tmp_path: Path) -> None:
    result = PARSER.parse(write_storage(tmp_path / "storage"))
    events = events_of(result.session)
    error = events["msg_003:error"]
    assert error.text() == "The operation was aborted."
    assert error.attributes == {"level": "error", "error_name": "MessageAbortedError"}
    assert events["prt_002l"].attributes["files"] == ["/w/app/parser.py"]
    reasons = [w.reason for w in result.warnings]
    assert any("'hologram'" in reason for reason in reasons)
    broken = [w for w in result.warnings if w.source.endswith("prt_002z.json")]
    assert "not valid JSON" in broken[0].reason


def test_tokens_are_the_sum_of_steps_once_per_message(tmp_path: Path) -> None:
    main = PARSER.parse(write_storage(tmp_path / "storage")).session
    events = events_of(main)
    step_total = events["prt_002l"].attributes  # the message's last event
    assert step_total["input_tokens"] == 100 + 1000 + 50 + 200 + 2000
    assert step_total["output_tokens"] == 20 + 30 + 10  # reasoning counted: total says excluded
    assert step_total["cache_read_tokens"] == 3000
    assert events["prt_004b"].attributes["input_tokens"] == 5
    assert (main.stats.total_input_tokens, main.stats.total_output_tokens) == (3355, 61)


def test_every_file_is_accounted_for(tmp_path: Path) -> None:
    main = PARSER.parse(write_storage(tmp_path / "storage")).session
    records = main.context.attributes["source_records"]
    assert records["total"] == MAIN_RECORDS
    assert records["skipped"] == {
        "session info": 1,
        "synthetic text": 1,
        "step-start": 2,
        "unreadable record": 1,
        "unknown part type": 1,
    }
    assert records["merged"] == 3 + 2 + 2  # user texts/files, step-finish parts, msg_002 and 004


def test_database_gives_the_same_sessions_as_the_storage_tree(tmp_path: Path) -> None:
    database = write_database(tmp_path / "opencode.db")
    before = database.read_bytes()
    from_database = PARSER.parse(database)
    from_storage = PARSER.parse(write_storage(tmp_path / "storage"))
    assert [s.session_id for s in from_database.sessions] == ["ses_main", "ses_other", "ses_child"]
    for db_session, file_session in zip(from_database.sessions, from_storage.sessions, strict=True):
        assert db_session.events == file_session.events
        assert db_session.context.title == file_session.context.title
        db_records = db_session.context.attributes["source_records"]
        assert db_records == file_session.context.attributes["source_records"]
        assert db_session.context.attributes["source_path"] == str(database)
    assert any("part prt_002z" in w.reason for w in from_database.warnings)
    assert database.read_bytes() == before


def test_database_detection_and_read_only_access(tmp_path: Path) -> None:
    database = write_database(tmp_path / "opencode.db")
    database.chmod(0o444)
    assert PARSER.detect(database, read_head(database)).confidence >= 90
    assert PARSER.detect(tmp_path, b"").confidence >= 90
    assert PARSER.parse(tmp_path).session.session_id == "ses_main"
    other = tmp_path / "other" / "state.vscdb"
    other.parent.mkdir()
    connection = sqlite3.connect(other)
    connection.execute("CREATE TABLE ItemTable (key TEXT, value BLOB)")
    connection.close()
    assert PARSER.detect(other, read_head(other)) is None
    with pytest.raises(SessionParseError):
        PARSER.parse(other)


def test_not_an_opencode_source(tmp_path: Path) -> None:
    stray = tmp_path / "notes.json"
    stray.write_bytes(b'{"id": "x", "title": "not a session"}')
    assert PARSER.detect(stray, read_head(stray)) is None
    with pytest.raises(SessionParseError):
        PARSER.parse(stray)
    with pytest.raises(SessionParseError):
        PARSER.parse(tmp_path)
    broken = tmp_path / "ses_broken.json"
    broken.write_bytes(b'{"id": "ses_broken", ')
    with pytest.raises(SessionParseError):
        PARSER.parse(broken)


def test_a_part_of_another_message_is_skipped_and_counted(tmp_path: Path) -> None:
    root = write_storage(tmp_path / "storage")
    stray = {"id": "prt_zzz", "messageID": "msg_999", "type": "text", "text": "lost"}
    write_json(root / "part" / "msg_001" / "prt_zzz.json", stray)
    result = PARSER.parse(root / "session" / "proj1" / "ses_main.json")
    records = result.session.context.attributes["source_records"]
    assert records["total"] == MAIN_RECORDS + 1
    assert records["skipped"]["part of another message"] == 1
    assert "lost" not in [e.text() for e in result.session.events]
    assert any("msg_999" in w.reason for w in result.warnings)
