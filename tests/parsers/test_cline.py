"""Cline / Roo Code task folders: XML and native tool calls, UI timing and usage, accounting."""

from __future__ import annotations

import shutil
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from opensession.hail import model as m
from opensession.hail.validate import validate_session
from opensession.parsers.amp import PARSER as AMP
from opensession.parsers.base import SessionParseError
from opensession.parsers.cline import PARSER
from opensession.parsers.common import read_head
from opensession.parsers.cursor import PARSER as CURSOR

T0 = 1_750_000_000_000  # epoch ms of the task
ENV = (
    "<environment_details>\n# VSCode Visible Files\ncli.py\n\n"
    "# Current Working Directory (/home/ada/proj) Files\ncli.py\nREADME.md\n\n"
    "# Current Mode\nACT MODE\n</environment_details>"
)


def text(value: str) -> dict[str, Any]:
    return {"type": "text", "text": value}


def request(ts: int, tokens_in: int, tokens_out: int, **extra: Any) -> dict[str, Any]:
    info = {"request": "...", "tokensIn": tokens_in, "tokensOut": tokens_out, **extra}
    return {"ts": ts, "type": "say", "say": "api_req_started", "text": orjson.dumps(info).decode()}


def say(ts: int, kind: str, value: str = "", **extra: Any) -> dict[str, Any]:
    return {"ts": ts, "type": "say", "say": kind, "text": value, **extra}


def ask(ts: int, kind: str, value: str = "") -> dict[str, Any]:
    return {"ts": ts, "type": "ask", "ask": kind, "text": value}


# An older Cline task: tool calls as XML in the assistant's text, results as headed text.
XML_HISTORY: list[dict[str, Any]] = [
    {"role": "user", "content": [
        text("<task>\nAdd a --verbose flag to cli.py\n</task>"), text(ENV),
    ]},
    {"role": "assistant", "content": [text(
        "<thinking>\nI should read cli.py first.\n</thinking>\n\n"
        "<read_file>\n<path>cli.py</path>\n</read_file>"
    )]},
    {"role": "user", "content": [
        text("[read_file for 'cli.py'] Result:"),
        text("import sys\n\ndef main():\n    print('hi')\n"),
        text(ENV),
    ]},
    {"role": "assistant", "content": [text(
        "I'll add the flag.\n\n<replace_in_file>\n<path>cli.py</path>\n<diff>\n"
        "------- SEARCH\n    print('hi')\n=======\n    if '--verbose' in sys.argv:\n"
        "        print('verbose')\n    print('hi')\n+++++++ REPLACE\n</diff>\n</replace_in_file>"
    )]},
    {"role": "user", "content": [
        text("[replace_in_file for 'cli.py'] Result:"),
        text("The content was successfully saved to cli.py."),
        text(ENV),
    ]},
    {"role": "assistant", "content": [text(
        "<execute_command>\n<command>pytest -q</command>\n"
        "<requires_approval>false</requires_approval>\n</execute_command>"
    )]},
    {"role": "user", "content": [
        text("[execute_command for 'pytest -q'] Result:"),
        text("Command executed.\nOutput:\n1 failed\nExit code: 1"),
        text(ENV),
    ]},
    {"role": "assistant", "content": [text(
        "<attempt_completion>\n<result>\nAdded a --verbose flag to cli.py.\n</result>\n"
        "</attempt_completion>"
    )]},
    {"role": "user", "content": [
        text("[attempt_completion] Result:"),
        text(
            "The user has provided feedback on the results.\n<feedback>\n"
            "Also document it in README.md\n</feedback>"
        ),
        text(ENV),
    ]},
]  # fmt: skip

XML_UI: list[dict[str, Any]] = [
    say(T0, "task", "Add a --verbose flag to cli.py"),
    request(T0 + 100, 1200, 80, cacheWrites=500, cacheReads=0, cost=0.0123),
    say(T0 + 2000, "text", "I should read cli.py first.", partial=False),
    ask(T0 + 2100, "tool", '{"tool":"readFile","path":"cli.py"}'),
    request(T0 + 3000, 1500, 200, cacheReads=1200),
    say(T0 + 4000, "text", "I'll add the flag."),
    ask(T0 + 4100, "tool", '{"tool":"editedExistingFile","path":"cli.py"}'),
    say(T0 + 4200, "checkpoint_created"),
    request(T0 + 5000, 1700, 60),
    ask(T0 + 5100, "command", "pytest -q"),
    ask(T0 + 5200, "command_output", "1 failed"),
    say(T0 + 5300, "error", "Cline is having trouble: the command failed"),
    request(T0 + 6000, 1800, 40),
    say(T0 + 6100, "completion_result", "Added a --verbose flag to cli.py."),
    ask(T0 + 6200, "completion_result", ""),
    say(T0 + 7000, "user_feedback", "Also document it in README.md"),
    request(T0 + 7100, 2000, 0, cancelReason="user_cancelled"),
    ask(T0 + 7200, "resume_task"),
]

METADATA = {
    "files_in_context": [
        {"path": "cli.py", "record_state": "active", "record_source": "read_tool"},
    ],
    "model_usage": [
        {"ts": T0, "model_id": "claude-sonnet-4-20250514", "model_provider_id": "anthropic",
         "mode": "act"},
    ],
    "environment_history": [{"ts": T0, "os_name": "linux", "cline_version": "3.17.2"}],
}  # fmt: skip


def write_task(
    folder: Path,
    history: list[Any],
    ui: list[Any] | None = None,
    metadata: dict[str, Any] | None = None,
) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "api_conversation_history.json").write_bytes(orjson.dumps(history))
    if ui is not None:
        (folder / "ui_messages.json").write_bytes(orjson.dumps(ui))
    if metadata is not None:
        (folder / "task_metadata.json").write_bytes(orjson.dumps(metadata))
    return folder


@pytest.fixture
def xml_task(tmp_path: Path) -> Path:
    tasks = tmp_path / "Code/User/globalStorage/saoudrizwan.claude-dev/tasks"
    return write_task(tasks / str(T0), XML_HISTORY, XML_UI, METADATA)


def kinds(session: m.Session) -> list[str]:
    return [event.event_type.type for event in session.events]


def ms(value: int) -> datetime:
    return datetime.fromtimestamp(value / 1000, tz=UTC)


def test_xml_tool_calls_become_hail_events_with_results(xml_task: Path) -> None:
    session = PARSER.parse(xml_task).session
    assert session.session_id == str(T0)
    assert session.context.title == "Add a --verbose flag to cli.py"
    assert kinds(session)[:4] == ["UserMessage", "Thinking", "FileRead", "ToolResult"]
    read = session.events[2]
    assert read.event_type.data.path == "cli.py"
    result = session.events[3]
    assert result.event_type.data.name == "read_file"
    assert "def main():" in result.text()
    assert result.attributes["semantic.call_id"] == read.attributes["semantic.call_id"]
    assert validate_session(session) == []


def test_replace_in_file_gets_a_unified_diff(xml_task: Path) -> None:
    session = PARSER.parse(xml_task).session
    edit = next(e for e in session.events if isinstance(e.event_type, m.FileEdit))
    assert edit.event_type.data.path == "cli.py"
    diff = edit.event_type.data.diff
    assert diff.startswith("--- a/cli.py\n+++ b/cli.py\n")
    assert "+    if '--verbose' in sys.argv:\n+        print('verbose')\n     print('hi')" in diff
    assert session.stats.files_changed == 1
    assert (session.stats.lines_added, session.stats.lines_removed) == (2, 0)


def test_command_exit_code_and_failure_come_from_its_result(xml_task: Path) -> None:
    session = PARSER.parse(xml_task).session
    command = next(e for e in session.events if isinstance(e.event_type, m.ShellCommand))
    assert command.event_type.data.command == "pytest -q"
    assert command.event_type.data.exit_code == 1
    result = next(
        e for e in session.events
        if isinstance(e.event_type, m.ToolResult) and e.event_type.data.name == "execute_command"
    )  # fmt: skip
    assert result.event_type.data.is_error is True
    assert "1 failed" in result.text()


def test_completion_is_the_agents_answer_and_feedback_the_users_words(xml_task: Path) -> None:
    session = PARSER.parse(xml_task).session
    agent = [e.text() for e in session.events if isinstance(e.event_type, m.AgentMessage)]
    assert agent == ["I'll add the flag.", "Added a --verbose flag to cli.py."]
    users = [e.text() for e in session.events if isinstance(e.event_type, m.UserMessage)]
    assert users == ["Add a --verbose flag to cli.py", "Also document it in README.md"]
    assert session.stats.user_message_count == 2


def test_times_and_usage_come_from_the_ui_requests_in_order(xml_task: Path) -> None:
    session = PARSER.parse(xml_task).session
    assert session.events[0].timestamp == ms(T0)  # the task's UI message
    assert session.events[1].timestamp == ms(T0 + 100)  # first request → first answer
    thinking = session.events[1]
    assert thinking.attributes["input_tokens"] == 1200
    assert thinking.attributes["output_tokens"] == 80
    assert thinking.attributes["cache_creation_input_tokens"] == 500
    assert thinking.attributes["cost_usd"] == pytest.approx(0.0123)
    edit = next(e for e in session.events if isinstance(e.event_type, m.AgentMessage))
    assert edit.timestamp == ms(T0 + 3000)
    assert edit.attributes["cache_read_input_tokens"] == 1200
    # The last request never got an answer: its tokens are kept on an event of its own.
    last = session.events[-1]
    assert last.event_type == m.Custom(data=m.CustomData(kind="api_request"))
    assert "user_cancelled" in last.text()
    assert session.stats.total_input_tokens == 1200 + 1500 + 1700 + 1800 + 2000
    assert session.stats.total_output_tokens == 80 + 200 + 60 + 40
    assert session.context.created_at == ms(T0)
    assert session.context.updated_at == ms(T0 + 7200)


def test_ui_errors_are_placed_after_the_answer_they_followed(xml_task: Path) -> None:
    session = PARSER.parse(xml_task).session
    error = next(e for e in session.events if e.event_type == m.Custom(data={"kind": "error"}))
    assert error.text() == "Cline is having trouble: the command failed"
    assert error.timestamp == ms(T0 + 5300)
    index = session.events.index(error)
    assert isinstance(session.events[index - 1].event_type, m.ShellCommand)
    assert isinstance(session.events[index + 1].event_type, m.ToolResult)


def test_every_api_and_ui_message_is_accounted_for(xml_task: Path) -> None:
    session = PARSER.parse(xml_task).session
    records = session.context.attributes["source_records"]
    assert records["total"] == len(XML_HISTORY) + len(XML_UI)
    assert records["skipped"] == {
        "checkpoint": 1,
        "empty ui message": 1,
        "resume prompt": 1,
    }
    # 9 API messages + the error and the unanswered request shown as events
    assert records["mapped"] == 9 + 2


def test_context_from_metadata_and_environment(xml_task: Path) -> None:
    session = PARSER.parse(xml_task).session
    assert session.agent.model == "claude-sonnet-4-20250514"
    assert session.agent.provider == "anthropic"
    assert session.agent.tool == "cline"
    assert session.agent.tool_version == "3.17.2"
    attributes = session.context.attributes
    assert attributes["cwd"] == "/home/ada/proj"
    assert attributes["files_in_context"] == ["cli.py"]
    assert attributes["source_path"] == str(xml_task)
    assert "variant" not in attributes
    assert session.context.tags == ["cline"]


@pytest.mark.parametrize("name", ["api_conversation_history.json", "ui_messages.json"])
def test_any_file_of_the_task_parses_the_whole_task(xml_task: Path, name: str) -> None:
    assert PARSER.parse(xml_task / name).session == PARSER.parse(xml_task).session


# A newer Cline task: native tool_use / tool_result blocks and modelInfo on answers.
NATIVE_HISTORY: list[dict[str, Any]] = [
    {"role": "user", "content": [text("<task>\nRun the tests\n</task>"), text(ENV)]},
    {"role": "assistant", "modelInfo": {"modelId": "gpt-5", "providerId": "openai"}, "content": [
        {"type": "thinking", "thinking": "Run npm test.", "signature": "sig"},
        text("Running the tests."),
        {"type": "tool_use", "id": "toolu_01", "name": "execute_command",
         "input": {"command": "npm test", "requires_approval": False}},
    ]},
    {"role": "user", "content": [
        {"type": "tool_result", "tool_use_id": "toolu_01",
         "content": [text("Command executed.\nOutput:\nall 12 tests passed")]},
        text(ENV),
    ]},
    {"role": "assistant", "modelInfo": {"modelId": "gpt-5", "providerId": "openai"}, "content": [
        {"type": "tool_use", "id": "toolu_02", "name": "write_to_file",
         "input": {"path": "notes.md", "content": "# Notes\n"}},
    ]},
    {"role": "user", "content": [
        {"type": "tool_result", "tool_use_id": "toolu_02", "is_error": True,
         "content": "The tool execution failed with the following error:\n<error>EACCES</error>"},
    ]},
]  # fmt: skip

NATIVE_UI = [
    say(T0, "task", "Run the tests"),
    request(T0 + 10, 900, 30),
    request(T0 + 500, 1000, 20),
]


def test_native_tool_use_blocks_pair_with_their_results_by_id(tmp_path: Path) -> None:
    folder = write_task(tmp_path / "tasks" / "1750000000001", NATIVE_HISTORY, NATIVE_UI)
    session = PARSER.parse(folder).session
    assert kinds(session) == [
        "UserMessage", "Thinking", "AgentMessage", "ShellCommand", "ToolResult",
        "FileCreate", "ToolResult",
    ]  # fmt: skip
    shell, shell_result = session.events[3], session.events[4]
    assert shell.attributes["semantic.call_id"] == "toolu_01"
    assert shell_result.event_type.data.call_id == "toolu_01"
    assert shell_result.event_type.data.is_error is False
    assert "all 12 tests passed" in shell_result.text()
    failed = session.events[6]
    assert failed.event_type.data == m.ToolResultData(
        name="write_to_file", is_error=True, call_id="toolu_02"
    )
    assert session.agent.model == "gpt-5"
    assert session.agent.provider == "openai"
    assert session.events[1].attributes["model"] == "gpt-5"
    assert session.stats.total_input_tokens == 1900
    assert validate_session(session) == []


def test_reasoning_only_the_ui_kept_becomes_thinking(tmp_path: Path) -> None:
    history = [
        {"role": "user", "content": [text("<task>\nWhich is faster?\n</task>")]},
        {"role": "assistant", "content": [text("The second one.")]},
    ]
    ui = [
        say(T0, "task", "Which is faster?"),
        request(T0 + 10, 300, 50),
        say(T0 + 900, "reasoning", "Compare the loops: the second avoids a copy."),
        say(T0 + 950, "text", "The second one."),
    ]
    session = PARSER.parse(write_task(tmp_path / "t", history, ui)).session
    assert kinds(session) == ["UserMessage", "Thinking", "AgentMessage"]
    thinking = session.events[1]
    assert thinking.text() == "Compare the loops: the second avoids a copy."
    assert thinking.attributes["input_tokens"] == 300
    assert thinking.timestamp == ms(T0 + 10)
    records = session.context.attributes["source_records"]
    assert records == {"total": 6, "mapped": 2, "merged": 4, "skipped": {}}
    # When the API history has the thinking itself, the UI's copy is not repeated.
    xml = PARSER.parse(write_task(tmp_path / "x", XML_HISTORY, XML_UI)).session
    assert kinds(xml).count("Thinking") == 1


def test_roo_code_folder_is_a_variant_with_its_own_message_times(tmp_path: Path) -> None:
    tasks = tmp_path / "Code/User/globalStorage/rooveterinaryinc.roo-cline/tasks"
    history = [
        {"role": "user", "ts": T0, "content": [text("<task>\nExplain main.py\n</task>")]},
        {"role": "assistant", "ts": T0 + 9000, "content": [text(
            "<list_files>\n<path>src</path>\n<recursive>true</recursive>\n</list_files>"
        )]},
        {"role": "user", "ts": T0 + 9500, "content": [
            text("[list_files for 'src'] Result:"), text("main.py\nutil.py"),
        ]},
        {"role": "assistant", "ts": T0 + 12000, "content": [text(
            "<search_files>\n<path>src</path>\n<regex>def main</regex>\n</search_files>"
        )]},
    ]  # fmt: skip
    folder = write_task(tasks / "0a1b2c3d-aaaa-bbbb-cccc-000000000001", history)
    session = PARSER.parse(folder).session
    assert session.context.attributes["variant"] == "roo-code"
    assert kinds(session) == ["UserMessage", "FileSearch", "ToolResult", "CodeSearch"]
    assert session.events[1].event_type.data.pattern == "src"
    assert session.events[3].event_type.data.query == "def main"
    assert [e.timestamp for e in session.events] == [
        ms(T0),
        ms(T0 + 9000),
        ms(T0 + 9500),
        ms(T0 + 12000),
    ]
    assert session.agent.model == "unknown"
    assert session.context.attributes["source_records"]["total"] == 4


def test_xml_parameters_keep_markup_inside_file_content(tmp_path: Path) -> None:
    page = "<html>\n  <content>hello</content>\n  <path>x</path>\n</html>"
    history = [
        {"role": "user", "content": "<task>\nWrite the page, then fix the port\n</task>"},
        {"role": "assistant", "content": [text(
            f"<write_to_file>\n<path>index.html</path>\n<content>\n{page}\n</content>\n"
            "</write_to_file>"
        )]},
        {"role": "user", "content": [text("[write_to_file for 'index.html'] Result:\nsaved")]},
        {"role": "assistant", "content": [text(
            "<apply_diff>\n<path>server.py</path>\n<diff>\n<<<<<<< SEARCH\n:start_line:3\n"
            "-------\nPORT = 80\n=======\nPORT = 8080\n>>>>>>> REPLACE\n</diff>\n</apply_diff>"
        )]},
        {"role": "assistant",
         "content": [text("<write_to_file>\n<path>index.html</path>\n<conte")]},
    ]  # fmt: skip
    session = PARSER.parse(write_task(tmp_path / "t", history)).session
    created = session.events[1]
    assert created.event_type == m.FileCreate(data=m.PathData(path="index.html"))
    assert created.content.blocks == [m.JsonBlock(data={"path": "index.html", "content": page})]
    assert session.events[2].text() == "saved"
    diff = session.events[3].event_type.data.diff
    assert "-PORT = 80\n+PORT = 8080\n" in diff
    assert ":start_line:" not in diff
    # An interrupted call keeps what was written; the file now exists, so it is an edit.
    assert session.events[4].event_type == m.FileEdit(data=m.FileEditData(path="index.html"))


def test_string_content_images_and_system_notices(tmp_path: Path) -> None:
    image = {"type": "image", "source": {"type": "base64", "media_type": "image/png",
                                         "data": "iVBORw0KGgo="}}  # fmt: skip
    history = [
        {"role": "user", "content": "<task>\nWhat is in this picture?\n</task>"},
        {"role": "user", "content": [image]},
        {"role": "assistant", "content": "A cat."},
        {"role": "user", "content": [text(
            "[TASK RESUMPTION] This task was interrupted 2 minutes ago.\n\n"
            "New instructions for task continuation:\n<user_message>\nAnd its colour?\n"
            "</user_message>"
        ), text(ENV)]},
        {"role": "assistant", "content": [text("[ERROR] not used"), text("")]},
    ]  # fmt: skip
    session = PARSER.parse(write_task(tmp_path / "t", history)).session
    assert kinds(session) == [
        "UserMessage", "UserMessage", "AgentMessage", "SystemMessage", "UserMessage",
        "AgentMessage",
    ]  # fmt: skip
    picture = session.events[1].content.blocks[0]
    assert picture == m.ImageBlock(url="data:image/png;base64,iVBORw0KGgo=", mime="image/png")
    assert session.events[3].text().startswith("[TASK RESUMPTION] This task was interrupted")
    assert session.events[4].text() == "And its colour?"


def test_bad_entries_are_warned_about_and_counted(tmp_path: Path) -> None:
    history = [
        {"role": "user", "content": [text("<task>\nHello\n</task>")]},
        "not a message",
        {"role": "assistant", "content": 42},
        {"role": "assistant", "content": [text("Hi!")]},
    ]
    ui = [say(T0, "task", "Hello"), ["bad"], say(T0 + 1, "brand_new_kind", "x")]
    folder = write_task(tmp_path / "t", history, ui)
    (folder / "task_metadata.json").write_text("{not json")
    result = PARSER.parse(folder)
    session = result.session
    assert [e.text() for e in session.events] == ["Hello", "Hi!"]
    records = session.context.attributes["source_records"]
    assert records["total"] == len(history) + len(ui)
    assert records["skipped"] == {
        "unreadable message": 2,
        "unreadable ui message": 1,
        "ui say brand_new_kind": 1,
    }
    reasons = " | ".join(str(w) for w in result.warnings)
    assert "message 1 has no user/assistant role" in reasons
    assert "message 2 content is not text or blocks" in reasons
    assert "ui_messages.json: message 1 is not a JSON object" in reasons
    assert "task_metadata.json: not valid JSON" in reasons


def test_missing_or_unreadable_history_is_a_one_line_error(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(SessionParseError, match=r"no api_conversation_history\.json"):
        PARSER.parse(empty)
    broken = write_task(tmp_path / "broken", [])
    (broken / "api_conversation_history.json").write_text('[{"role": "user", "cont')
    with pytest.raises(SessionParseError, match="not valid JSON") as caught:
        PARSER.parse(broken)
    assert "\n" not in str(caught.value)
    with pytest.raises(SessionParseError, match="no readable messages"):
        PARSER.parse(write_task(tmp_path / "nothing", []))


def test_detects_task_folders_and_their_files(xml_task: Path, tmp_path: Path) -> None:
    folder = PARSER.detect(xml_task, b"")
    assert folder is not None and folder.confidence >= 90
    for name in ("api_conversation_history.json", "ui_messages.json", "task_metadata.json"):
        path = xml_task / name
        claim = PARSER.detect(path, read_head(path))
        assert claim is not None and claim.confidence >= 90, name
    assert PARSER.detect(xml_task.parent, b"") is None  # the tasks folder holds many tasks
    lone = tmp_path / "ui_messages.json"
    lone.write_text("[]")
    assert PARSER.detect(lone, read_head(lone)).confidence <= 50


def test_does_not_claim_other_tools_files(corpus: Path) -> None:
    for path in corpus.rglob("*"):
        if "cline" in path.parts:
            continue
        claim = PARSER.detect(path, read_head(path))
        assert claim is None, path


def test_amp_and_cursor_do_not_claim_a_task(xml_task: Path) -> None:
    for path in (xml_task, *xml_task.iterdir()):
        head = read_head(path)
        assert AMP.detect(path, head) is None, path
        assert CURSOR.detect(path, head) is None, path


@pytest.mark.slow
def test_speed_on_a_large_task(tmp_path: Path) -> None:
    """About 50 MB of API history: reports MB/s (run with -s to see it)."""
    big_output = "x" * 2000 + "\n"
    history = [XML_HISTORY[0]]
    for _ in range(2500):
        history += XML_HISTORY[1:7]
        history.append({"role": "user", "content": [text(big_output * 8)]})
    ui = [say(T0, "task", "Add a --verbose flag")]
    ui += [request(T0 + 10 * n, 100, 10) for n in range(1, 7501)]
    folder = write_task(tmp_path / "big", history, ui)
    size = sum(f.stat().st_size for f in folder.iterdir())
    started = time.perf_counter()
    session = PARSER.parse(folder).session
    elapsed = time.perf_counter() - started
    print(f"\ncline: {size / 1e6:.1f} MB in {elapsed:.2f} s = {size / 1e6 / elapsed:.1f} MB/s")
    assert session.context.attributes["source_records"]["total"] == len(history) + len(ui)
    assert len(session.events) == 1 + 2500 * 9


def test_copied_task_folder_keeps_its_id(xml_task: Path, tmp_path: Path) -> None:
    copy = shutil.copytree(xml_task, tmp_path / "elsewhere" / "1750000009999")
    assert PARSER.parse(copy).session.session_id == "1750000009999"
