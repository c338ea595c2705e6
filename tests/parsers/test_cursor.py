"""Cursor state.vscdb databases built from the corpus rows and our own: conversations, tool
calls, legacy layouts, locked and corrupt databases, accounting."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from opensession.hail import model as m
from opensession.hail.validate import validate_session
from opensession.parsers.amp import PARSER as AMP
from opensession.parsers.base import SessionParseError
from opensession.parsers.cline import PARSER as CLINE
from opensession.parsers.common import read_head
from opensession.parsers.cursor import PARSER

SCHEMA = (
    "CREATE TABLE ItemTable (key TEXT UNIQUE ON CONFLICT REPLACE, value BLOB)",
    "CREATE TABLE cursorDiskKV (key TEXT UNIQUE ON CONFLICT REPLACE, value BLOB)",
)
T0 = 1_771_234_200_000  # 2026-02-16T09:30:00Z


def make_db(path: Path, disk: dict[str, Any], items: dict[str, Any] | None = None) -> Path:
    """A state.vscdb with ``disk`` rows in cursorDiskKV and ``items`` in ItemTable (values are
    JSON-encoded unless already bytes)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(path)
    for statement in SCHEMA:
        connection.execute(statement)
    for table, rows in (("cursorDiskKV", disk), ("ItemTable", items or {})):
        for key, value in rows.items():
            blob = value if isinstance(value, bytes) else orjson.dumps(value)
            connection.execute(f"INSERT INTO {table} VALUES (?, ?)", (key, blob))
    connection.commit()
    connection.close()
    return path


def corpus_rows(corpus: Path) -> dict[str, Any]:
    composer = orjson.loads((corpus / "cursor/opensession__composer_data.json").read_bytes())
    bubbles = orjson.loads((corpus / "cursor/opensession__bubbles.json").read_bytes())
    return {f"composerData:{composer['composerId']}": composer, **bubbles}


def composer(composer_id: str, name: str | None, bubble_ids: list[str], **extra: Any) -> dict:
    headers = [{"bubbleId": bubble_id, "type": 1} for bubble_id in bubble_ids]
    data = {"_v": 3, "composerId": composer_id, "fullConversationHeadersOnly": headers, **extra}
    return data | ({"name": name} if name else {})


def tool_bubble(bubble_id: str, name: str, args: dict[str, Any], **tool: Any) -> dict:
    former = {
        "name": name,
        "rawArgs": orjson.dumps(args).decode(),
        "toolCallId": f"call_{bubble_id}",
    }
    return {"_v": 3, "type": 2, "bubbleId": bubble_id, "text": "", "toolFormerData": former | tool}


def agent_rows() -> dict[str, Any]:
    """A newer agent conversation: thinking, tool calls with results, usage, timing."""
    cid = "c-agent"
    bubbles = {
        "u1": {"_v": 3, "type": 1, "bubbleId": "u1", "text": "Make parse() accept ISO dates",
               "createdAt": "2026-02-16T10:00:00.000Z"},
        "a1": {"_v": 3, "type": 2, "bubbleId": "a1", "text": "Reading the parser first.",
               "thinking": {"text": "The parser is in src/dates.ts.", "signature": "AbC="},
               "modelInfo": {"modelName": "claude-4.5-sonnet-thinking"},
               "tokenCount": {"inputTokens": 5200, "outputTokens": 140},
               "timingInfo": {"clientStartTime": T0 + 1_801_000, "clientEndTime": T0 + 1_803_500},
               "workspaceProjectDir": "/home/ada/calendar"},
        "a2": tool_bubble("a2", "read_file", {"target_file": "src/dates.ts"}, status="completed",
                          result='{"contents": "export const parse = (s) => new Date(s)"}',
                          createdAt="2026-02-16T10:00:05.000Z"),
        "a3": tool_bubble("a3", "search_replace",
                          {"file_path": "src/dates.ts", "old_string": "new Date(s)",
                           "new_string": "parseISO(s)"},
                          status="completed", result='{"diff": {"chunks": []}, "isApplied": true}',
                          createdAt="2026-02-16T10:00:09.000Z"),
        "a4": tool_bubble("a4", "run_terminal_cmd", {"command": "npm test"}, status="completed",
                          result=orjson.dumps({"output": "2 failing", "exitCodeV2": 1}).decode(),
                          createdAt="2026-02-16T10:00:20.000Z"),
        "a5": tool_bubble("a5", "grep", {"pattern": "parseISO", "path": "src"}, status="error",
                          createdAt="2026-02-16T10:00:30.000Z"),
        "a6": tool_bubble("a6", "delete_file", {"target_file": "old.ts"}, status="loading",
                          createdAt="2026-02-16T10:00:31.000Z"),
        "a7": {"_v": 3, "type": 2, "bubbleId": "a7", "text": "Done.",
               "codeBlocks": [{"content": "parseISO('2026-02-16')", "languageId": "typescript"}],
               "modelInfo": {"modelName": "claude-4.5-sonnet-thinking"},
               "tokenCount": {"inputTokens": 900, "outputTokens": 30},
               "createdAt": "2026-02-16T10:01:00.000Z"},
    }  # fmt: skip
    data = composer(
        cid, "ISO dates", list(bubbles), createdAt=T0 + 1_800_000, lastUpdatedAt=T0 + 1_860_000
    )
    return {f"composerData:{cid}": data} | {f"bubbleId:{cid}:{k}": v for k, v in bubbles.items()}


@pytest.fixture
def database(corpus: Path, tmp_path: Path) -> Path:
    rows = corpus_rows(corpus) | agent_rows()
    return make_db(tmp_path / "User/globalStorage/state.vscdb", rows)


def at(iso: str) -> datetime:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone(UTC)


def test_corpus_conversation(corpus: Path, tmp_path: Path) -> None:
    path = make_db(tmp_path / "state.vscdb", corpus_rows(corpus))
    result = PARSER.parse(path)
    assert result.warnings == []
    session = result.session
    assert session.session_id == "comp-fixture"
    assert session.context.title == "Cursor Fixture Session"
    assert session.agent == m.Agent(provider="anthropic", model="claude-3.5-sonnet", tool="cursor")
    assert [e.event_type.type for e in session.events] == [
        "UserMessage",
        "ShellCommand",
        "ToolResult",
        "AgentMessage",
    ]
    user, command, output, answer = session.events
    assert user.text() == "list files"
    assert command.event_type.data.command == "echo hi"
    assert output.event_type.data == m.ToolResultData(
        name="run_terminal_cmd", is_error=False, call_id="b2"
    )
    assert output.text() == "hi"
    assert answer.text() == "all done"
    assert session.context.created_at == at("2026-02-16T09:30:00Z")
    assert session.context.updated_at == at("2026-02-16T09:30:10Z")
    records = session.context.attributes["source_records"]
    assert records == {"total": 4, "mapped": 3, "merged": 1, "skipped": {}}
    assert validate_session(session) == []


def test_one_session_per_conversation_most_recent_first(database: Path) -> None:
    sessions = PARSER.parse(database).sessions
    assert [s.session_id for s in sessions] == ["c-agent", "comp-fixture"]
    assert all(s.context.attributes["session_role"] == "primary" for s in sessions)
    assert all(validate_session(s) == [] for s in sessions)


def test_agent_conversation_maps_thinking_tools_and_results(database: Path) -> None:
    session = PARSER.parse(database).session
    assert [e.event_type.type for e in session.events] == [
        "UserMessage", "Thinking", "AgentMessage", "FileRead", "ToolResult", "FileEdit",
        "ToolResult", "ShellCommand", "ToolResult", "CodeSearch", "ToolResult", "FileDelete",
        "AgentMessage",
    ]  # fmt: skip
    events = {e.event_id: e for e in session.events}
    assert events["a1:thinking"].text() == "The parser is in src/dates.ts."
    assert events["a2:result"].text() == "export const parse = (s) => new Date(s)"
    diff = events["a3:call"].event_type.data.diff
    assert "-new Date(s)\n+parseISO(s)\n" in diff
    command = events["a4:call"]
    assert command.event_type.data == m.ShellCommandData(command="npm test", exit_code=1)
    assert events["a4:result"].event_type.data == m.ToolResultData(
        name="run_terminal_cmd", is_error=True, call_id="call_a4"
    )
    assert command.attributes["semantic.call_id"] == "call_a4"
    assert events["a5:call"].event_type.data.query == "parseISO"
    assert events["a5:result"].event_type.data.is_error is True
    assert "a6:result" not in events  # still loading: no result yet
    final = events["a7:text"]
    assert final.content.blocks[1] == m.CodeBlock(
        code="parseISO('2026-02-16')", language="typescript"
    )


def test_agent_conversation_context_usage_and_times(database: Path) -> None:
    session = PARSER.parse(database).session
    assert session.context.title == "ISO dates"
    assert session.agent.model == "claude-4.5-sonnet-thinking"
    assert session.agent.provider == "anthropic"
    assert session.context.attributes["cwd"] == "/home/ada/calendar"
    assert session.stats.total_input_tokens == 5200 + 900
    assert session.stats.total_output_tokens == 140 + 30
    thinking = session.events[1]
    assert thinking.attributes["input_tokens"] == 5200
    assert thinking.duration_ms == 2500
    assert thinking.timestamp == datetime.fromtimestamp((T0 + 1_801_000) / 1000, tz=UTC)
    assert session.events[0].timestamp == at("2026-02-16T10:00:00Z")
    assert session.events[-1].timestamp == at("2026-02-16T10:01:00Z")
    assert session.stats.files_changed == 2
    records = session.context.attributes["source_records"]
    assert records == {"total": 9, "mapped": 8, "merged": 1, "skipped": {}}


def test_every_conversation_row_is_accounted_for(tmp_path: Path) -> None:
    rows = agent_rows() | {
        "bubbleId:c-agent:stale": {"type": 2, "text": "an edited-away answer"},
        "bubbleId:c-agent:broken": b"{not json",
        "composerData:c-empty": composer("c-empty", "Nothing yet", []),
        "composerData:c-bad": b"\x00\x01",
        "bubbleId:c-orphan:o1": {"type": 1, "text": "a bubble whose composer row is gone"},
        "bubbleId:c-orphan:o2": {"type": 7, "text": "?"},
        "checkpointId:c-agent:x": {"not": "a conversation row"},
    }
    result = PARSER.parse(make_db(tmp_path / "state.vscdb", rows))
    totals = sum(s.context.attributes["source_records"]["total"] for s in result.sessions)
    conversation_rows = [key for key in rows if not key.startswith("checkpointId:")]
    assert totals == len(conversation_rows)
    first = result.sessions[0].context.attributes["source_records"]
    assert first["skipped"] == {
        "bubble not in conversation": 1,
        "unreadable row": 2,
        "composer without bubbles": 1,
    }
    orphan = next(s for s in result.sessions if s.session_id == "c-orphan")
    assert [e.text() for e in orphan.events] == ["a bubble whose composer row is gone"]
    assert orphan.context.attributes["source_records"]["skipped"] == {"unknown bubble type": 1}
    reasons = " | ".join(w.reason for w in result.warnings)
    assert "row 'bubbleId:c-agent:broken': not JSON" in reasons
    assert "row 'composerData:c-bad': not JSON" in reasons
    assert "bubbles of composer 'c-orphan' without its composerData row" in reasons
    assert "unknown type 7" in reasons


def test_legacy_item_table_with_inline_conversations(tmp_path: Path) -> None:
    index = {
        "allComposers": [
            {"composerId": "old-1", "name": "Legacy chat", "createdAt": T0,
             "lastUpdatedAt": T0 + 5000, "conversation": [
                 {"type": 1, "bubbleId": "x1", "text": "What does main.py do?"},
                 {"type": 2, "bubbleId": "x2", "text": "It prints hello.",
                  "modelType": "gpt-4o"},
             ]},
            {"composerId": "old-2", "name": "Listed only", "createdAt": T0},
            {"composerId": "inline-2", "name": "From the index"},
        ],
        "selectedComposerId": "old-1",
    }  # fmt: skip
    inline_row = {
        "composerId": "inline-2",
        "_v": 2,
        "createdAt": T0 - 9000,
        "conversation": [{"type": 1, "bubbleId": "i1", "text": "hi"}],
    }
    path = make_db(
        tmp_path / "state.vscdb",
        {"composerData:inline-2": inline_row},
        {"composer.composerData": index, "workbench.other": {"x": 1}},
    )
    sessions = PARSER.parse(path).sessions
    assert [s.session_id for s in sessions] == ["old-1", "inline-2"]
    old = sessions[0]
    assert old.context.title == "Legacy chat"
    assert old.agent.model == "gpt-4o" and old.agent.provider == "openai"
    assert [e.text() for e in old.events] == ["What does main.py do?", "It prints hello."]
    assert old.events[0].timestamp == datetime.fromtimestamp(T0 / 1000, tz=UTC)
    assert sessions[1].context.title == "From the index"
    records = [s.context.attributes["source_records"] for s in sessions]
    # old-1: its entry and 2 inline bubbles (+ old-2 listed without bubbles);
    # inline-2: its row, its index entry (merged), 1 inline bubble.
    assert records[0] == {
        "total": 4,
        "mapped": 2,
        "merged": 1,
        "skipped": {"composer without bubbles": 1},
    }
    assert records[1] == {"total": 3, "mapped": 1, "merged": 2, "skipped": {}}


def test_a_database_locked_by_cursor_still_parses(database: Path) -> None:
    holder = sqlite3.connect(database, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    holder.execute("INSERT INTO ItemTable VALUES ('written.by.cursor', '1')")
    try:
        started = time.perf_counter()
        sessions = PARSER.parse(database).sessions
        assert time.perf_counter() - started < 5
        assert [s.session_id for s in sessions] == ["c-agent", "comp-fixture"]
        holder.execute("INSERT INTO ItemTable VALUES ('written.after', '2')")
        holder.execute("COMMIT")
    finally:
        holder.close()
    check = sqlite3.connect(database)
    keys = {key for (key,) in check.execute("SELECT key FROM ItemTable")}
    check.close()
    assert {"written.by.cursor", "written.after"} <= keys
    assert not database.with_name("state.vscdb-journal").exists()


def test_a_wal_database_held_exclusively_is_read_with_its_wal(tmp_path: Path) -> None:
    path = make_db(tmp_path / "state.vscdb", {})
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("PRAGMA journal_mode=WAL")
    holder.execute("PRAGMA wal_autocheckpoint=0")
    holder.execute("PRAGMA locking_mode=EXCLUSIVE")
    for key, value in agent_rows().items():
        holder.execute("INSERT INTO cursorDiskKV VALUES (?, ?)", (key, orjson.dumps(value)))
    try:
        assert path.with_name("state.vscdb-wal").stat().st_size > 0
        session = PARSER.parse(path).session
        assert session.session_id == "c-agent"
        assert len(session.events) == 13
        holder.execute("INSERT INTO ItemTable VALUES ('still', 'writable')")
    finally:
        holder.close()


def test_reading_never_writes_to_the_database(database: Path) -> None:
    before = database.stat().st_mtime_ns, database.read_bytes()
    PARSER.parse(database)
    assert (database.stat().st_mtime_ns, database.read_bytes()) == before
    assert sorted(p.name for p in database.parent.iterdir()) == ["state.vscdb"]


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"SQLite format 3\x00" + b"\xff" * 5000, "not a readable SQLite database"),
        (b"hello, not a database at all" * 50, "not a SQLite database"),
    ],
)
def test_corrupt_files_give_a_one_line_error(tmp_path: Path, content: bytes, reason: str) -> None:
    path = tmp_path / "state.vscdb"
    path.write_bytes(content)
    with pytest.raises(SessionParseError, match=reason) as caught:
        PARSER.parse(path)
    assert "\n" not in str(caught.value)


def test_truncated_database_gives_a_one_line_error(database: Path) -> None:
    database.write_bytes(database.read_bytes()[:1500])
    with pytest.raises(SessionParseError) as caught:
        PARSER.parse(database)
    assert "\n" not in str(caught.value)


def test_databases_without_conversations_are_errors(tmp_path: Path) -> None:
    vscode = tmp_path / "vscode.db"
    connection = sqlite3.connect(vscode)
    connection.execute("CREATE TABLE other (x)")
    connection.close()
    with pytest.raises(SessionParseError, match="without Cursor's ItemTable/cursorDiskKV"):
        PARSER.parse(vscode)
    index = {"allComposers": [{"composerId": "w1", "name": "in the global database"}]}
    workspace = make_db(tmp_path / "ws/state.vscdb", {}, {"composer.composerData": index})
    with pytest.raises(SessionParseError, match=r"globalStorage/state\.vscdb"):
        PARSER.parse(workspace)


def test_detects_cursor_databases(database: Path, tmp_path: Path) -> None:
    claim = PARSER.detect(database, read_head(database))
    assert claim is not None and claim.confidence >= 90
    assert PARSER.detect(database.parent, b"") is None  # the database inside it is
    assert PARSER.parse(database.parent).sessions == PARSER.parse(database).sessions
    renamed = database.with_name("copy.db")
    renamed.write_bytes(database.read_bytes())
    assert PARSER.detect(renamed, read_head(renamed)).confidence >= 70
    vscode = tmp_path / "Code/User/globalStorage/state.vscdb"
    vscode.parent.mkdir(parents=True)
    connection = sqlite3.connect(vscode)
    connection.execute(SCHEMA[0])
    connection.close()
    assert PARSER.detect(vscode, read_head(vscode)).confidence < 50  # VS Code's own
    workspace = tmp_path / "Cursor/User/workspaceStorage/0a1b/state.vscdb"
    workspace.parent.mkdir(parents=True)
    workspace.write_bytes(vscode.read_bytes())
    assert PARSER.detect(workspace, read_head(workspace)).confidence == 60
    other = tmp_path / "sessions.db"
    sqlite3.connect(other).execute("CREATE TABLE sessions (id)").connection.close()
    assert PARSER.detect(other, read_head(other)) is None


def test_does_not_claim_other_tools_files(corpus: Path) -> None:
    for path in corpus.rglob("*"):
        assert PARSER.detect(path, read_head(path)) is None, path


def test_amp_and_cline_do_not_claim_a_cursor_database(database: Path) -> None:
    for path in (database, database.parent):
        head = read_head(path)
        assert AMP.detect(path, head) is None
        assert CLINE.detect(path, head) is None


def many_rows(conversations: int, bubbles: int) -> Iterator[tuple[str, bytes]]:
    template = agent_rows()
    output = "console output line\n" * 200
    for number in range(conversations):
        cid = f"c{number}"
        ids = [f"b{n}" for n in range(bubbles)]
        data = composer(cid, f"chat {number}", ids, lastUpdatedAt=T0 + number)
        yield f"composerData:{cid}", orjson.dumps(data)
        kinds = list(template.values())[1:]
        for n, bubble_id in enumerate(ids):
            bubble = dict(kinds[n % len(kinds)], bubbleId=bubble_id)
            if "toolFormerData" in bubble:
                result = orjson.dumps({"output": output, "exitCodeV2": 0}).decode()
                bubble["toolFormerData"] = dict(bubble["toolFormerData"], result=result)
            yield f"bubbleId:{cid}:{bubble_id}", orjson.dumps(bubble)


@pytest.mark.slow
def test_speed_on_a_large_database(tmp_path: Path) -> None:
    """About 50 MB of conversation rows: reports MB/s (run with -s to see it)."""
    path = make_db(tmp_path / "state.vscdb", {})
    connection = sqlite3.connect(path)
    connection.executemany("INSERT INTO cursorDiskKV VALUES (?, ?)", many_rows(270, 60))
    connection.commit()
    connection.close()
    size = path.stat().st_size
    started = time.perf_counter()
    sessions = PARSER.parse(path).sessions
    elapsed = time.perf_counter() - started
    print(f"\ncursor: {size / 1e6:.1f} MB in {elapsed:.2f} s = {size / 1e6 / elapsed:.1f} MB/s")
    assert len(sessions) == 270
    assert sum(s.context.attributes["source_records"]["total"] for s in sessions) == 270 * 61
