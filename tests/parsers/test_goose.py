"""Goose sessions: the JSONL files of older versions and the sessions.db of newer ones."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from opensession.hail import model as m
from opensession.hail.validate import validate_session
from opensession.parsers.base import ParseResult, SessionParseError
from opensession.parsers.common import read_head
from opensession.parsers.goose import PARSER, goose_tool_event

T0 = 1_740_171_500  # 2025-02-21T20:58:20Z
DB_SHIFT = 1_759_309_205 - T0  # database messages start at 2025-10-01T09:00:05Z

METADATA = {
    "working_dir": "/home/dev/calc",
    "description": "Fix failing add test",
    "schedule_id": None,
    "message_count": 12,
    "total_tokens": 6_100,
    "input_tokens": 5_800,
    "output_tokens": 300,
    "accumulated_total_tokens": 14_250,
    "accumulated_input_tokens": 13_000,
    "accumulated_output_tokens": 1_250,
}


def text(value: str) -> dict[str, Any]:
    return {"type": "text", "text": value}


def request(call_id: str, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "toolRequest",
        "id": call_id,
        "toolCall": {"status": "success", "value": {"name": name, "arguments": arguments}},
    }


def response(call_id: str, value: Any) -> dict[str, Any]:
    return {
        "type": "toolResponse",
        "id": call_id,
        "toolResult": {"status": "success", "value": value},
    }


def for_both(output: str) -> list[dict[str, Any]]:
    """What goose's developer tools return: the output once for the model, once for the user."""
    return [
        {"type": "text", "text": output, "annotations": {"audience": ["assistant"]}},
        {"type": "text", "text": output, "annotations": {"audience": ["user"], "priority": 0.0}},
    ]


def message(role: str, offset: int, *content: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"role": role, "created": T0 + offset, "content": list(content), **extra}


def conversation() -> list[dict[str, Any]]:
    """A realistic goose session: view, edit, run the tests (failing then passing)."""
    return [
        message("user", 0, text("The add test in tests/test_calc.py fails, please fix it")),
        message(
            "assistant",
            3,
            text("Let me look at the code."),
            request(
                "toolu_01",
                "developer__text_editor",
                {"command": "view", "path": "/home/dev/calc/calc.py"},
            ),
        ),
        message("user", 4, response("toolu_01", for_both("def add(a, b):\n    return a - b\n"))),
        message(
            "assistant",
            9,
            {"type": "thinking", "thinking": "add() subtracts.", "signature": "sig"},
            request(
                "toolu_02",
                "developer__text_editor",
                {
                    "command": "str_replace",
                    "path": "/home/dev/calc/calc.py",
                    "old_str": "    return a - b",
                    "new_str": "    return a + b",
                },
            ),
        ),
        message(
            "user",
            10,
            response(
                "toolu_02",
                {
                    "content": [text("The file /home/dev/calc/calc.py has been edited")],
                    "isError": False,
                },
            ),
        ),
        message("assistant", 12, request("toolu_03", "developer__shell", {"command": "pytest -q"})),
        message(
            "user",
            30,
            {
                "type": "toolResponse",
                "id": "toolu_03",
                "toolResult": {
                    "status": "error",
                    "error": "-32603: Command failed with exit code 1",
                },
            },
        ),
        message("assistant", 31, request("toolu_04", "developer__shell", {"command": "pytest -q"})),
        message(
            "user", 40, response("toolu_04", {"content": for_both("1 passed"), "isError": False})
        ),
        message(
            "assistant",
            41,
            request(
                "toolu_05",
                "developer__text_editor",
                {"command": "write", "path": "/home/dev/calc/NOTES.md", "file_text": "# Notes\n"},
            ),
            request("toolu_06", "platform__read_resource", {"uri": "file:///tmp/x"}),
        ),
        message(
            "user",
            42,
            response("toolu_05", [text("Successfully wrote to /home/dev/calc/NOTES.md")]),
            response("toolu_06", {"content": [], "isError": True}),
        ),
        message("assistant", 45, text("Fixed: `add` now adds, and the tests pass.")),
    ]


def write_jsonl(path: Path, lines: list[Any]) -> Path:
    path.write_bytes(b"".join(orjson.dumps(line) + b"\n" for line in lines))
    return path


def session_file(tmp_path: Path) -> Path:
    return write_jsonl(tmp_path / "20250221_211140.jsonl", [METADATA, *conversation()])


def of_type(session: m.Session, kind: type) -> list[m.Event]:
    return [e for e in session.events if isinstance(e.event_type, kind)]


def assert_valid(result: ParseResult) -> None:
    for session in result.sessions:
        assert [f for f in validate_session(session) if f.severity == "error"] == []
        records = session.context.attributes["source_records"]
        skipped = sum(records["skipped"].values())
        assert records["total"] == records["mapped"] + records["merged"] + skipped


# --- JSONL ---


def test_jsonl_session_header(tmp_path: Path) -> None:
    result = PARSER.parse(session_file(tmp_path))
    assert_valid(result)
    assert result.warnings == []
    session = result.session
    assert session.session_id == "20250221_211140"
    assert session.agent.tool == "goose"
    assert session.agent.model == "unknown"
    assert session.context.title == "Fix failing add test"
    assert session.context.attributes["cwd"] == "/home/dev/calc"
    assert session.context.attributes["session_role"] == "primary"
    assert session.context.created_at == datetime(2025, 2, 21, 20, 58, 20, tzinfo=UTC)
    assert session.context.updated_at == datetime(2025, 2, 21, 20, 59, 5, tzinfo=UTC)
    assert session.context.attributes["source_records"] == {
        "total": 13,
        "mapped": 12,
        "merged": 0,
        "skipped": {"session metadata": 1},
    }


def test_messages_and_title_without_description(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "s.jsonl", [{**METADATA, "description": ""}, *conversation()])
    session = PARSER.parse(path).session
    assert session.context.title == "The add test in tests/test_calc.py fails, please fix it"
    assert [e.text() for e in of_type(session, m.UserMessage)] == [
        "The add test in tests/test_calc.py fails, please fix it"
    ]
    replies = [e.text() for e in of_type(session, m.AgentMessage)]
    assert replies == ["Let me look at the code.", "Fixed: `add` now adds, and the tests pass."]
    (thinking,) = of_type(session, m.Thinking)
    assert thinking.text() == "add() subtracts."
    assert session.stats.user_message_count == 1


def test_text_editor_and_shell_calls_map_to_hail_types(tmp_path: Path) -> None:
    session = PARSER.parse(session_file(tmp_path)).session
    (read,) = of_type(session, m.FileRead)
    assert read.event_type.data.path == "/home/dev/calc/calc.py"
    assert read.attributes["source.raw_type"] == "developer__text_editor"
    assert read.attributes["semantic.tool_kind"] == "read"
    (edit,) = of_type(session, m.FileEdit)
    assert edit.event_type.data.diff == (
        "--- a/home/dev/calc/calc.py\n+++ b/home/dev/calc/calc.py\n@@ -1 +1 @@\n"
        "-    return a - b\n+    return a + b\n"
    )
    (created,) = of_type(session, m.FileCreate)
    assert created.event_type.data.path == "/home/dev/calc/NOTES.md"
    shells = of_type(session, m.ShellCommand)
    assert [e.event_type.data.command for e in shells] == ["pytest -q", "pytest -q"]
    assert shells[0].content.blocks == [m.CodeBlock(code="pytest -q", language="bash")]
    (other,) = of_type(session, m.ToolCall)
    assert other.event_type.data.name == "platform__read_resource"
    assert other.content.blocks == [m.JsonBlock(data={"uri": "file:///tmp/x"})]
    assert session.stats.files_changed == 2
    assert session.stats.lines_added == 1
    assert session.stats.lines_removed == 1


def test_results_pair_with_calls_and_carry_errors(tmp_path: Path) -> None:
    session = PARSER.parse(session_file(tmp_path)).session
    results = of_type(session, m.ToolResult)
    assert [r.event_type.data.call_id for r in results] == [f"toolu_0{i}" for i in range(1, 7)]
    assert [r.event_type.data.is_error for r in results] == [False, False, True, False, False, True]
    assert [r.event_type.data.name for r in results] == [
        "developer__text_editor",
        "developer__text_editor",
        "developer__shell",
        "developer__shell",
        "developer__text_editor",
        "platform__read_resource",
    ]
    calls = {
        e.attributes["semantic.call_id"]: e
        for e in session.events
        if "source.raw_type" in e.attributes
    }
    for result in results:
        assert result.attributes["semantic.call_id"] in calls
        assert calls[result.attributes["semantic.call_id"]].timestamp <= result.timestamp
    assert results[2].text() == "-32603: Command failed with exit code 1"
    # Output meant for both the model and the user is kept once.
    assert results[0].text() == "def add(a, b):\n    return a - b\n"
    assert results[3].text() == "1 passed"


def test_accumulated_tokens_are_the_session_totals(tmp_path: Path) -> None:
    session = PARSER.parse(session_file(tmp_path)).session
    assert session.stats.total_input_tokens == 13_000
    assert session.stats.total_output_tokens == 1_250
    assert session.events[-1].attributes["input_tokens_total"] == 13_000
    assert session.context.attributes["goose.tokens"]["input_tokens"] == 5_800


def test_event_ids_are_unique_and_derived_from_message_ids(tmp_path: Path) -> None:
    lines = [METADATA, {**conversation()[0], "id": "msg_1"}, {**conversation()[0], "id": "msg_1"}]
    session = PARSER.parse(write_jsonl(tmp_path / "s.jsonl", lines)).session
    assert [e.event_id for e in session.events] == ["msg_1:0", "msg_1:0#2"]
    plain = PARSER.parse(session_file(tmp_path)).session
    assert plain.events[0].event_id == "goose-2:0"
    assert len({e.event_id for e in plain.events}) == len(plain.events)


def test_hidden_messages_notices_and_unknown_content(tmp_path: Path) -> None:
    lines = [
        METADATA,
        message("user", 0, text("hello")),
        message(
            "user",
            1,
            text("Summary of earlier work"),
            metadata={"userVisible": False, "agentVisible": True},
        ),
        message("assistant", 2, {"type": "redactedThinking", "data": "xyz"}, text("Hi")),
        message("assistant", 3, {"type": "contextLengthExceeded", "msg": "Context limit reached"}),
        message(
            "assistant",
            4,
            {
                "type": "systemNotification",
                "notificationType": "inlineMessage",
                "msg": "Compacting",
            },
        ),
        message("assistant", 5, {"type": "hologram", "beam": 1}, {"type": "hologram", "beam": 2}),
        message("user", 6, {"type": "image", "data": "iVBORw0KGgo=", "mimeType": "image/png"}),
    ]
    result = PARSER.parse(write_jsonl(tmp_path / "s.jsonl", lines))
    assert_valid(result)
    session = result.session
    kinds = [type(e.event_type).__name__ for e in session.events]
    assert kinds == [
        "UserMessage",
        "SystemMessage",
        "Thinking",
        "AgentMessage",
        "Custom",
        "SystemMessage",
        "Custom",
        "Custom",
        "UserMessage",
    ]
    assert session.events[1].attributes["goose.user_visible"] is False
    assert session.events[2].attributes["redacted"] is True
    assert session.events[4].event_type.data.kind == "context_length_exceeded"
    assert session.events[5].attributes["notification_type"] == "inlineMessage"
    assert session.events[6].content.blocks == [m.JsonBlock(data={"type": "hologram", "beam": 1})]
    assert [str(w) for w in result.warnings] == [
        f"{tmp_path / 's.jsonl'}:7: unknown content type 'hologram'; kept as Custom"
    ]
    (image,) = session.events[8].content.blocks
    assert image == m.ImageBlock(url="data:image/png;base64,iVBORw0KGgo=", mime="image/png")


def test_bad_lines_warn_and_every_record_is_counted(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    good = [orjson.dumps(line) for line in (METADATA, *conversation()[:3])]
    bad = [
        b"[1, 2]",
        b'{"role": "tool", "created": 1, "content": []}',
        b'{"role": "user", "created": 1, "content": "not a list"}',
        b'{"role": "assistant", "created": "soon", "content": []}',
        b'{"role": "assistant", "created": 17401715',
    ]
    path.write_bytes(b"\n".join(good + bad))
    result = PARSER.parse(path)
    assert_valid(result)
    reasons = [(w.line, w.reason) for w in result.warnings]
    assert reasons == [
        (5, "expected a JSON object, found list; line skipped"),
        (6, "a message with role 'tool'; skipped"),
        (7, "a message whose content is not a list; skipped"),
        (9, "truncated last line; line skipped"),
    ]
    assert result.session.context.attributes["source_records"] == {
        "total": 7,
        "mapped": 3,
        "merged": 0,
        "skipped": {
            "empty message": 1,
            "malformed message": 1,
            "session metadata": 1,
            "unknown role": 1,
        },
    }


def test_file_without_metadata_line_and_invalid_tool_call(tmp_path: Path) -> None:
    broken = {
        "type": "toolRequest",
        "id": "c1",
        "toolCall": {"status": "error", "error": "bad json"},
    }
    lines = [message("user", 0, text("go")), message("assistant", 1, broken)]
    session = PARSER.parse(write_jsonl(tmp_path / "20250301_1.jsonl", lines)).session
    assert session.context.title == "go"
    assert session.context.attributes["source_records"]["mapped"] == 2
    call = session.events[1]
    assert call.event_type == m.ToolCall(data=m.NameData(name="invalid_tool_call"))
    assert call.text() == "bad json"
    assert session.stats.total_input_tokens == 0


def test_metadata_only_or_empty_file_raises(tmp_path: Path) -> None:
    with pytest.raises(SessionParseError, match="no goose messages"):
        PARSER.parse(write_jsonl(tmp_path / "a.jsonl", [METADATA]))
    empty = tmp_path / "b.jsonl"
    empty.write_bytes(b"")
    with pytest.raises(SessionParseError, match="nothing readable"):
        PARSER.parse(empty)


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ({"command": "view", "path": "/a.py"}, m.FileRead(data=m.PathData(path="/a.py"))),
        (
            {"command": "write", "path": "/a.py", "file_text": "x"},
            m.FileCreate(data=m.PathData(path="/a.py")),
        ),
        (
            {"command": "insert", "path": "/a.py", "insert_line": 3, "new_str": "y\n"},
            m.FileEdit(
                data=m.FileEditData(
                    path="/a.py", diff="--- a/a.py\n+++ b/a.py\n@@ -0,0 +1 @@\n+y\n"
                )
            ),
        ),
        ({"command": "undo_edit", "path": "/a.py"}, m.FileEdit(data=m.FileEditData(path="/a.py"))),
        ({"command": "view"}, m.ToolCall(data=m.NameData(name="developer__text_editor"))),
        (
            {"command": "paint", "path": "/a.py"},
            m.ToolCall(data=m.NameData(name="developer__text_editor")),
        ),
    ],
)
def test_text_editor_commands(arguments: dict[str, Any], expected: m.HailModel) -> None:
    assert goose_tool_event("developer__text_editor", arguments) == expected


def test_write_to_a_file_seen_before_is_an_edit() -> None:
    known: set[str] = set()
    goose_tool_event("developer__text_editor", {"command": "view", "path": "/a.py"}, known)
    written = goose_tool_event(
        "developer__text_editor", {"command": "write", "path": "/a.py"}, known
    )
    assert written == m.FileEdit(data=m.FileEditData(path="/a.py"))


def test_other_goose_tools_go_through_the_shared_mapping() -> None:
    search = goose_tool_event("computercontroller__web_search", {"query": "goose docs"})
    assert search == m.WebSearch(data=m.QueryData(query="goose docs"))
    assert goose_tool_event("developer__shell", {"command": "ls"}) == m.ShellCommand(
        data=m.ShellCommandData(command="ls")
    )
    assert goose_tool_event("todo__read", {}) == m.ToolCall(data=m.NameData(name="todo__read"))


# --- sessions.db ---

SCHEMA = """
CREATE TABLE schema_version (
    version INTEGER PRIMARY KEY,
    applied_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
);
CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL DEFAULT '',
    description TEXT NOT NULL DEFAULT '',
    user_set_name BOOLEAN DEFAULT FALSE,
    session_type TEXT NOT NULL DEFAULT 'user',
    working_dir TEXT NOT NULL,
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    extension_data TEXT DEFAULT '{}',
    total_tokens INTEGER,
    input_tokens INTEGER,
    output_tokens INTEGER,
    accumulated_total_tokens INTEGER,
    accumulated_input_tokens INTEGER,
    accumulated_output_tokens INTEGER,
    schedule_id TEXT,
    recipe_json TEXT,
    user_recipe_values_json TEXT,
    provider_name TEXT,
    model_config_json TEXT
);
CREATE TABLE messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id TEXT,
    session_id TEXT NOT NULL REFERENCES sessions(id),
    role TEXT NOT NULL,
    content_json TEXT NOT NULL,
    created_timestamp INTEGER NOT NULL,
    timestamp TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    tokens INTEGER,
    metadata_json TEXT
);
CREATE INDEX idx_messages_session ON messages(session_id);
"""


def insert_session(
    connection: sqlite3.Connection, session_id: str, messages: list[dict[str, Any]], **row: Any
) -> None:
    values = {
        "id": session_id,
        "working_dir": "/home/dev/calc",
        "created_at": "2025-10-01 09:00:00",
        "updated_at": "2025-10-01 09:30:00",
        **row,
    }
    columns = ", ".join(values)
    marks = ", ".join("?" for _ in values)
    connection.execute(f"INSERT INTO sessions ({columns}) VALUES ({marks})", list(values.values()))
    for index, item in enumerate(messages):
        connection.execute(
            "INSERT INTO messages (message_id, session_id, role, content_json, created_timestamp,"
            " timestamp, metadata_json) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                item.get("id"),
                session_id,
                item["role"],
                item["content"]
                if isinstance(item["content"], str)
                else orjson.dumps(item["content"]).decode(),
                item["created"] + DB_SHIFT,
                f"2025-10-01 09:{index:02d}:00",
                orjson.dumps({"userVisible": True, "agentVisible": True}).decode(),
            ),
        )


def database(tmp_path: Path) -> Path:
    path = tmp_path / "sessions.db"
    connection = sqlite3.connect(path)
    connection.executescript(SCHEMA)
    config = orjson.dumps({"model_name": "claude-sonnet-4-5", "context_limit": 200000}).decode()
    insert_session(
        connection,
        "20251001_2",
        conversation()[:3],
        name="Look at calc",
        created_at="2025-10-01 10:00:00",
        provider_name="anthropic",
        model_config_json=config,
    )
    insert_session(
        connection,
        "20251001_1",
        [{**item, "id": f"m{n}"} for n, item in enumerate(conversation())],
        description="Fix failing add test",
        accumulated_input_tokens=13_000,
        accumulated_output_tokens=1_250,
        model_config_json=config,
    )
    insert_session(
        connection, "20251001_3", conversation()[:1], name="helper", session_type="sub_agent"
    )
    insert_session(connection, "20251001_4", [], name="never used")
    connection.commit()
    connection.close()
    return path


def test_database_sessions_in_order_with_roles(tmp_path: Path) -> None:
    result = PARSER.parse(database(tmp_path))
    assert_valid(result)
    assert [s.session_id for s in result.sessions] == ["20251001_1", "20251001_2", "20251001_3"]
    main, second, helper = result.sessions
    assert main.context.title == "Fix failing add test"
    assert second.context.title == "Look at calc"
    assert main.context.created_at == datetime(2025, 10, 1, 9, tzinfo=UTC)
    assert main.events[0].timestamp == datetime(2025, 10, 1, 9, 0, 5, tzinfo=UTC)
    assert main.context.updated_at == datetime(2025, 10, 1, 9, 30, tzinfo=UTC)
    assert helper.context.attributes["session_role"] == "auxiliary"
    assert helper.context.attributes["goose.session_type"] == "sub_agent"
    assert main.context.attributes["session_role"] == "primary"
    assert main.agent.model == "claude-sonnet-4-5"
    assert main.agent.provider == "anthropic"
    assert second.agent.provider == "anthropic"
    assert main.context.attributes["source_records"]["total"] == 12
    assert second.context.attributes["source_records"]["total"] == 3


def test_database_messages_map_like_jsonl(tmp_path: Path) -> None:
    main = PARSER.parse(database(tmp_path)).session
    from_jsonl = PARSER.parse(session_file(tmp_path)).session
    assert [e.event_type for e in main.events] == [e.event_type for e in from_jsonl.events]
    assert [e.text() for e in main.events] == [e.text() for e in from_jsonl.events]
    assert main.events[0].event_id == "m0:0"
    assert main.stats.total_input_tokens == 13_000
    assert main.context.attributes["cwd"] == "/home/dev/calc"


def test_database_bad_row_is_skipped_with_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "sessions.db"
    connection = sqlite3.connect(path)
    connection.executescript(SCHEMA)
    rows = [conversation()[0], {"role": "assistant", "content": "{not json", "created": T0 + 1}]
    insert_session(connection, "s1", rows)
    connection.commit()
    connection.close()
    result = PARSER.parse(path)
    assert [w.reason for w in result.warnings] == [
        "session s1, message 2: content_json is not JSON; skipped"
    ]
    records = result.session.context.attributes["source_records"]
    assert records["skipped"] == {"unreadable content_json": 1}
    assert records["total"] == 2


def test_locked_database_is_read_from_a_copy(tmp_path: Path) -> None:
    path = database(tmp_path)
    before = path.read_bytes()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        result = PARSER.parse(path)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert [s.session_id for s in result.sessions] == ["20251001_1", "20251001_2", "20251001_3"]
    assert path.read_bytes() == before


def test_older_schema_without_newer_columns(tmp_path: Path) -> None:
    path = tmp_path / "sessions.db"
    connection = sqlite3.connect(path)
    connection.executescript(
        "CREATE TABLE sessions (id TEXT PRIMARY KEY, description TEXT NOT NULL DEFAULT '',"
        " working_dir TEXT NOT NULL, created_at TIMESTAMP, updated_at TIMESTAMP,"
        " extension_data TEXT DEFAULT '{}');"
        "CREATE TABLE messages (id INTEGER PRIMARY KEY AUTOINCREMENT, session_id TEXT NOT NULL,"
        " role TEXT NOT NULL, content_json TEXT NOT NULL, created_timestamp INTEGER NOT NULL,"
        " timestamp TIMESTAMP DEFAULT CURRENT_TIMESTAMP, tokens INTEGER);"
    )
    connection.execute(
        "INSERT INTO sessions (id, description, working_dir) VALUES ('old', 'Old one', '/w')"
    )
    connection.execute(
        "INSERT INTO messages (session_id, role, content_json, created_timestamp)"
        " VALUES (?, ?, ?, ?)",
        ("old", "user", orjson.dumps([text("hi")]).decode(), T0),
    )
    connection.commit()
    connection.close()
    session = PARSER.parse(path).session
    assert session.context.title == "Old one"
    assert session.events[0].event_id == "old:1:0"
    assert session.context.created_at == datetime.fromtimestamp(T0, tz=UTC)
    assert session.context.updated_at == datetime.fromtimestamp(T0, tz=UTC)


def test_database_without_sessions_with_messages_raises(tmp_path: Path) -> None:
    path = tmp_path / "sessions.db"
    connection = sqlite3.connect(path)
    connection.executescript(SCHEMA)
    insert_session(connection, "empty", [])
    connection.commit()
    connection.close()
    with pytest.raises(SessionParseError, match="no goose session with messages"):
        PARSER.parse(path)


# --- Detection ---


def test_detection(tmp_path: Path) -> None:
    jsonl = session_file(tmp_path)
    assert PARSER.detect(jsonl, read_head(jsonl)).confidence == 95
    bare = write_jsonl(tmp_path / "bare.jsonl", conversation())
    assert PARSER.detect(bare, read_head(bare)).confidence == 70
    db = database(tmp_path)
    assert PARSER.detect(db, read_head(db)).confidence == 95
    assert PARSER.detect(tmp_path, b"").confidence == 80
    assert PARSER.parse(tmp_path).session.session_id == "20251001_1"


def test_other_sqlite_and_json_files_are_not_claimed(tmp_path: Path) -> None:
    vscdb = tmp_path / "state.vscdb"
    connection = sqlite3.connect(vscdb)
    connection.execute("CREATE TABLE ItemTable (key TEXT UNIQUE, value BLOB)")
    connection.execute("CREATE TABLE messages (id INTEGER, body TEXT)")
    connection.commit()
    connection.close()
    assert PARSER.detect(vscdb, read_head(vscdb)) is None
    other = write_jsonl(tmp_path / "x.jsonl", [{"type": "user", "message": {"role": "user"}}])
    assert PARSER.detect(other, read_head(other)) is None


def test_other_tools_corpus_files_are_not_claimed(corpus: Path) -> None:
    files = [p for p in corpus.rglob("*") if p.is_file()]
    assert files
    for path in files:
        assert PARSER.detect(path, read_head(path)) is None, path


LINES = [
    orjson.dumps(METADATA),
    *(orjson.dumps(item) for item in conversation()),
    b"{}",
    b"[]",
    b'{"role": "user"}',
    b'{"role": "user", "content": [1, {"type": null}, {"type": "toolResponse", "toolResult": 5}]}',
    b'{"role": "assistant", "created": "x", "content": [{"type": "toolRequest", "toolCall": 3}]}',
    b'{"description": 1, "message_count": "x"}',
    b'{"role": "assistant", "created": 1e30, "content": [{"type": "text", "text": "x"}]}',
    b'{"role": "assistant", "created": 17',
]


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(lines=st.lists(st.sampled_from(LINES), max_size=12))
def test_any_arrangement_of_lines_parses_or_fails_cleanly(
    tmp_path: Path, lines: list[bytes]
) -> None:
    path = tmp_path / "s.jsonl"
    path.write_bytes(b"\n".join(lines))
    try:
        result = PARSER.parse(path)
    except SessionParseError:
        return
    assert_valid(result)
    objects = 0
    for line in lines:
        try:
            objects += isinstance(orjson.loads(line), dict)
        except orjson.JSONDecodeError:
            continue
    assert result.session.context.attributes["source_records"]["total"] == objects
