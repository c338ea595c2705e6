"""Aider chat histories: runs as sessions, inputs, replies, edits, tool output and timing."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from opensession.hail import model as m
from opensession.hail.validate import validate_session
from opensession.parsers.aider import PARSER
from opensession.parsers.base import ParseResult, SessionParseError
from opensession.parsers.common import read_head

HEALTH = "aider/health-analyzer-poc__.aider.chat.history.md"
ZEN = "aider/zen-mcp-server__.aider.chat.history.md"
AUTOMATA = "aider/automataii__.aider.chat.history.md"


class AiderLog:
    """Writes a chat history the way aider's ``InputOutput`` does (``append_chat_history``)."""

    def __init__(self) -> None:
        self.parts: list[str] = []

    def _append(self, text: str, linebreak: bool = False, blockquote: bool = False) -> None:
        if blockquote:
            text = "> " + text.strip()
        if linebreak:
            text = text.rstrip() + "  \n"
        if not text.endswith("\n"):
            text += "\n"
        self.parts.append(text)

    def start(self, when: str) -> AiderLog:
        self._append(f"\n# aider chat started at {when}\n\n")
        return self

    def user(self, text: str) -> AiderLog:
        lines = text.splitlines() if text else ["<blank>"]
        self._append("\n#### " + "  \n#### ".join(lines), linebreak=True)
        return self

    def tool(self, *messages: str) -> AiderLog:
        """``tool_output``: each message whole (a multi-line one keeps ``>`` on line one)."""
        for message in messages:
            self._append(message, linebreak=True, blockquote=True)
        return self

    def error(self, message: str) -> AiderLog:
        """``tool_error``: a multi-line message line by line (nothing for a blank one)."""
        if not message.strip():
            return self
        for line in message.splitlines():
            self._append(line, linebreak=True, blockquote=True)
        return self

    def ai(self, text: str) -> AiderLog:
        self._append("\n" + text.strip() + "\n\n")
        return self

    def banner(
        self, model: str = "claude-3-5-sonnet-20241022", edit_format: str = "diff"
    ) -> AiderLog:
        return self.tool(
            "Aider v0.86.1",
            f"Main model: {model} with {edit_format} edit format, prompt cache, infinite output",
            "Weak model: claude-3-5-haiku-20241022",
            "Git repo: .git with 12 files",
            "Repo-map: using 4096 tokens, auto refresh",
        )

    def write(self, folder: Path, name: str = ".aider.chat.history.md") -> Path:
        path = folder / name
        path.write_text("".join(self.parts), encoding="utf-8")
        return path


def by_run(result: ParseResult) -> list[m.Session]:
    return sorted(result.sessions, key=lambda s: s.context.attributes["run_index"])


def of_type(session: m.Session, kind: type) -> list[m.Event]:
    return [e for e in session.events if isinstance(e.event_type, kind)]


def assert_valid(result: ParseResult) -> None:
    for session in result.sessions:
        errors = [f for f in validate_session(session) if f.severity == "error"]
        assert errors == []
        records = session.context.attributes["source_records"]
        skipped = sum(records["skipped"].values())
        assert records["total"] == records["mapped"] + records["merged"] + skipped


SEARCH_REPLACE_REPLY = """I'll fix the subtraction.

calc.py
```python
<<<<<<< SEARCH
def add(a, b):
    return a - b
=======
def add(a, b):
    return a + b
>>>>>>> REPLACE
```

And add a test:

tests/test_calc.py
```python
<<<<<<< SEARCH
=======
from calc import add


def test_add():
    assert add(2, 3) == 5
>>>>>>> REPLACE
```
"""


def edit_session_log() -> AiderLog:
    return (
        AiderLog()
        .start("2025-03-01 10:00:00")
        .tool("/usr/local/bin/aider --model sonnet")
        .banner()
        .user("/add calc.py")
        .tool("Added calc.py to the chat")
        .user("add() subtracts instead of adding, fix it and add a test")
        .ai(SEARCH_REPLACE_REPLY)
        .tool(
            "Tokens: 2.5k sent, 1.2k cache write, 3.0k cache hit, 312 received. "
            "Cost: $0.02 message, $0.05 session.",
            "tests/test_calc.py",
            "Create new file? (Y)es/(N)o [Yes]: y",
            "Applied edit to tests/test_calc.py",
            "Applied edit to calc.py",
            "Commit 1a2b3c4 fix: add() now adds",
            "pytest -q",
            "Run shell command? (Y)es/(N)o/(D)on't ask again [Yes]: y",
        )
        .tool("Running pytest -q")
        .tool("Add command output to the chat? (Y)es/(N)o/(D)on't ask again [Yes]: n")
        .user("/run pytest -q")
        .tool("Add 0.1k tokens of command output to the chat? (Y)es/(N)o [Yes]: n")
    )


# --- The real chat histories of the corpus ---


def test_health_analyzer_has_two_runs_and_the_latest_is_main(corpus: Path) -> None:
    result = PARSER.parse(corpus / HEALTH)
    assert_valid(result)
    assert [s.context.attributes["run_index"] for s in result.sessions] == [1, 0]
    first, second = by_run(result)
    assert first.context.created_at == datetime(2025, 9, 22, 12, 4, tzinfo=UTC)
    assert second.context.created_at == datetime(2025, 9, 22, 14, 55, tzinfo=UTC)
    assert all(s.context.attributes["timezone_assumed"] == "UTC" for s in result.sessions)
    assert first.context.title == (
        "The source code is located in a public, version-controlled repository"
    )
    assert second.context.title.startswith("Alrighty! And now we get to the fun part!")
    assert {s.agent.tool_version for s in result.sessions} == {"0.83.1"}
    # Records: the header and 25 blocks in run one, the header and 4 blocks in run two.
    assert first.context.attributes["source_records"]["total"] == 26
    assert second.context.attributes["source_records"]["total"] == 5
    assert first.context.attributes["source_records"]["skipped"] == {"run header": 1}


def test_health_analyzer_replies_edits_commits_and_tokens(corpus: Path) -> None:
    first, second = by_run(PARSER.parse(corpus / HEALTH))
    # Four replies were answered with a "Tokens:" report; the interrupted one was not.
    assert first.stats.total_input_tokens == 310 + 3_700 + 4_300 + 7_900
    assert first.stats.total_output_tokens == 1_000 + 1_500 + 3_200 + 3_300
    replies = of_type(first, m.AgentMessage)
    assert len(replies) == 5
    assert "input_tokens" not in replies[2].attributes  # cut off at "<<<<<<< SE"
    assert replies[0].attributes["model"] == "openrouter/deepseek/deepseek-chat-v3.1"
    assert first.agent.model == "openrouter/deepseek/deepseek-chat-v3.1"
    assert first.agent.provider == "deepseek"
    # One new file, then one edit, then five blocks of one reply: all applied.
    edits = of_type(first, m.FileEdit)
    assert [e.event_type.data.path for e in edits] == ["metrics_check.sh"] * 7
    assert all(e.attributes.get("aider.applied") for e in edits)
    assert edits[0].attributes["aider.new_file"] is True
    assert "aider.new_file" not in edits[1].attributes
    assert edits[0].event_type.data.diff.startswith(
        "--- a/metrics_check.sh\n+++ b/metrics_check.sh\n@@ -0,0 +1,106 @@\n+#!/bin/bash\n"
    )
    commits = of_type(first, m.Custom)
    assert [c.attributes["git.commit_hash"] for c in commits] == [
        "e14ab36",
        "461c5fc",
        "c6ad63d",
        "f9a09d7",
    ]
    assert second.agent.model == "openrouter/qwen/qwen3-coder"
    (created,) = of_type(second, m.FileEdit)
    assert created.event_type.data.path == "metrics_check.py"
    assert second.stats.lines_added == 230
    assert second.stats.total_input_tokens == 11_000


def test_health_analyzer_inputs_commands_and_tool_output(corpus: Path) -> None:
    first, _ = by_run(PARSER.parse(corpus / HEALTH))
    calls = [e.event_type.data.name for e in of_type(first, m.ToolCall)]
    assert calls == ["/ask", "/model", "/multiline-mode", "/code", "/code"]
    users = [e.text() for e in of_type(first, m.UserMessage)]
    assert users[3].startswith("    The source code is located in a public")
    assert users[4].startswith("/code\nPlease write a .sh file")
    assert users[5].startswith("Please write a .sh file")  # aider's echo of /code's message
    assert "## Running" not in "".join(users)
    # "/code <message>" answers in code mode whatever format the last banner announced.
    code_reply = of_type(first, m.AgentMessage)[1]
    assert code_reply.attributes["aider.chat_mode"] == "code"
    # A confirmation's multi-line subject (">" on its first line only) stays one message.
    subject = next(e for e in of_type(first, m.SystemMessage) if "export OWNER" in e.text())
    assert subject.text().startswith("export GITHUB_TOKEN=your_github_token_here\nexport OWNER=")
    assert subject.text().endswith("Run shell commands? (Y)es/(N)o/(D)on't ask again [Yes]: n")


def test_zen_mcp_runs_commands_and_gemini_model(corpus: Path) -> None:
    result = PARSER.parse(corpus / ZEN)
    assert_valid(result)
    main = result.session
    assert main.context.attributes["run_index"] == 3
    assert main.context.attributes["run_count"] == 4
    assert main.agent.model == "gemini/gemini-2.5-pro-preview-06-05"
    assert main.agent.provider == "google"
    assert main.context.attributes["aider.edit_format"] == "diff-fenced"
    assert "--thinking-tokens 32k" in main.context.attributes["aider.command_line"]
    commands = [e.attributes["aider.command"] for e in of_type(main, m.ToolCall)]
    assert commands == ["/add", "/copy-context", "/add"] + ["/copy-context"] * 4
    assert "gemini如果是图片或者pdf" not in main.events[10].text()
    assert "应该统一算作256 token" in of_type(main, m.UserMessage)[3].text()
    added = of_type(main, m.SystemMessage)[1].text()
    assert added.startswith("Added config.py to the chat\nAdded providers/shared/")
    first = by_run(result)[0]
    assert [e.text() for e in first.events] == ["You can skip this check with --no-gitignore"]


def test_automataii_runs_without_input_keep_the_banner(corpus: Path) -> None:
    result = PARSER.parse(corpus / AUTOMATA)
    assert_valid(result)
    first, second = by_run(result)
    assert result.session is second
    assert first.agent.model == "unknown"
    assert second.agent.model == "gpt-4o"
    assert second.agent.provider == "openai"
    assert second.agent.tool_version == "0.84.0"
    attributes = second.context.attributes
    assert attributes["cwd"] == "/Users/alansynn/Workspace/src/Research/automataii/src"
    assert (
        attributes["aider.git_working_dir"] == "/Users/alansynn/Workspace/src/Research/automataii"
    )
    assert attributes["aider.git_repo"] == "../.git"
    assert attributes["aider.weak_model"] == "gpt-4o-mini"
    assert second.events[0].text().endswith("^C again to exit\n^C KeyboardInterrupt")
    assert second.stats.user_message_count == 0


def test_corpus_files_are_detected_as_aider(corpus: Path) -> None:
    for name in (HEALTH, ZEN, AUTOMATA):
        path = corpus / name
        detection = PARSER.detect(path, read_head(path))
        assert detection is not None
        assert detection.confidence >= 95


def test_other_tools_files_are_not_claimed(corpus: Path) -> None:
    others = [p for p in corpus.rglob("*") if p.is_file() and "aider" not in p.parts]
    assert others
    for path in others:
        assert PARSER.detect(path, read_head(path)) is None, path


# --- Replies and edits ---


def test_search_replace_blocks_become_file_edits_with_diffs(tmp_path: Path) -> None:
    session = PARSER.parse(edit_session_log().write(tmp_path)).session
    fix, test = of_type(session, m.FileEdit)
    assert fix.event_type.data.path == "calc.py"
    assert fix.event_type.data.diff == (
        "--- a/calc.py\n+++ b/calc.py\n@@ -1,2 +1,2 @@\n def add(a, b):\n"
        "-    return a - b\n+    return a + b\n"
    )
    assert fix.attributes["aider.applied"] is True
    assert "aider.new_file" not in fix.attributes
    assert test.event_type.data.path == "tests/test_calc.py"
    assert test.attributes["aider.new_file"] is True
    assert session.stats.files_changed == 2
    assert session.stats.lines_added == 1 + 5
    assert session.stats.lines_removed == 1


def test_tokens_and_cost_go_on_the_reply(tmp_path: Path) -> None:
    session = PARSER.parse(edit_session_log().write(tmp_path)).session
    (reply,) = of_type(session, m.AgentMessage)
    assert reply.attributes["input_tokens"] == 2_500
    assert reply.attributes["output_tokens"] == 312
    assert reply.attributes["cache_write_tokens"] == 1_200
    assert reply.attributes["cache_read_tokens"] == 3_000
    assert reply.attributes["cost_usd"] == 0.02
    assert reply.attributes["model"] == "claude-3-5-sonnet-20241022"
    assert reply.attributes["aider.edit_format"] == "diff"
    assert session.context.attributes["cost_usd_total"] == 0.05
    assert session.agent.provider == "anthropic"
    assert not any("Tokens:" in e.text() for e in of_type(session, m.SystemMessage))


def test_million_suffix_and_report_without_reply(tmp_path: Path) -> None:
    log = AiderLog().start("2025-03-01 10:00:00").banner()
    log.tool("Tokens: 1.5M sent, 2k received.")
    log.user("hello").ai("Hi!").tool("Tokens: 1.2M sent, 12k received.")
    session = PARSER.parse(log.write(tmp_path)).session
    assert session.stats.total_input_tokens == 1_200_000
    assert session.stats.total_output_tokens == 12_000
    assert "Tokens: 1.5M sent" in session.events[0].text()  # no reply to carry it: kept as text


def test_commit_shell_command_and_slash_commands(tmp_path: Path) -> None:
    session = PARSER.parse(edit_session_log().write(tmp_path)).session
    (commit,) = of_type(session, m.Custom)
    assert commit.event_type.data.kind == "git_commit"
    assert commit.attributes["git.commit_hash"] == "1a2b3c4"
    assert commit.text() == "fix: add() now adds"
    shells = of_type(session, m.ShellCommand)
    assert [e.event_type.data.command for e in shells] == ["pytest -q", "pytest -q"]
    assert shells[0].content.blocks == [m.CodeBlock(code="pytest -q", language="bash")]
    (add,) = of_type(session, m.ToolCall)
    assert add.event_type.data.name == "/add"
    assert add.content.blocks == [m.JsonBlock(data={"args": "calc.py"})]
    users = of_type(session, m.UserMessage)
    assert [e.text() for e in users] == [
        "/add calc.py",
        "add() subtracts instead of adding, fix it and add a test",
        "/run pytest -q",
    ]
    assert session.context.title == "add() subtracts instead of adding, fix it and add a test"
    assert session.agent.tool_version == "0.86.1"
    assert session.context.attributes["aider.command_line"] == "/usr/local/bin/aider --model sonnet"


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("!ls -la", m.ShellCommand(data=m.ShellCommandData(command="ls -la"))),
        ("/test pytest", m.ShellCommand(data=m.ShellCommandData(command="pytest"))),
        ("/git log -1", m.ShellCommand(data=m.ShellCommandData(command="git log -1"))),
        ("/web https://aider.chat", m.WebFetch(data=m.UrlData(url="https://aider.chat"))),
        ("/test", m.ToolCall(data=m.NameData(name="/test"))),
        ("/drop calc.py", m.ToolCall(data=m.NameData(name="/drop"))),
    ],
)
def test_slash_command_mapping(tmp_path: Path, typed: str, expected: m.HailModel) -> None:
    log = AiderLog().start("2025-03-01 10:00:00").user(typed)
    session = PARSER.parse(log.write(tmp_path)).session
    user, action = session.events
    assert isinstance(user.event_type, m.UserMessage)
    assert user.text() == typed
    assert action.event_type == expected


def test_whole_format_edit_without_block_and_new_file(tmp_path: Path) -> None:
    reply = "Here it is:\n\nhello.py\n```python\nprint('hello')\n```"
    log = AiderLog().start("2025-03-01 10:00:00").banner(edit_format="whole")
    log.user("write hello.py").ai(reply)
    log.tool("hello.py", "Create new file? (Y)es/(N)o [Yes]: y", "Applied edit to hello.py")
    log.user("now also readme").ai("README.md\n```\n# Hello\n```")
    log.tool("Applied edit to README.md")
    session = PARSER.parse(log.write(tmp_path)).session
    (created,) = of_type(session, m.FileCreate)
    assert created.event_type.data.path == "hello.py"
    (edited,) = of_type(session, m.FileEdit)
    assert edited.event_type.data.path == "README.md"
    assert edited.event_type.data.diff is None
    assert edited.attributes["aider.applied"] is True


def test_udiff_fences_become_edits(tmp_path: Path) -> None:
    reply = (
        "Changes:\n\n```diff\n--- app.py\n+++ app.py\n@@ ... @@\n-x = 1\n+x = 2\n"
        "--- lib.py\n+++ lib.py\n@@ ... @@\n+import os\n```"
    )
    log = AiderLog().start("2025-03-01 10:00:00").banner(model="gpt-4-turbo", edit_format="udiff")
    log.user("bump x").ai(reply).tool("Applied edit to app.py", "Applied edit to lib.py")
    session = PARSER.parse(log.write(tmp_path)).session
    edits = of_type(session, m.FileEdit)
    assert [e.event_type.data.path for e in edits] == ["app.py", "lib.py"]
    assert edits[0].event_type.data.diff == "--- app.py\n+++ app.py\n@@ ... @@\n-x = 1\n+x = 2\n"
    assert all(e.attributes["aider.applied"] for e in edits)


def test_diff_fenced_blocks_name_the_file_inside_the_fence(tmp_path: Path) -> None:
    reply = "```python\nsrc/app.py\n<<<<<<< SEARCH\nx = 1\n=======\nx = 2\n>>>>>>> REPLACE\n```"
    log = AiderLog().start("2025-03-01 10:00:00").banner(edit_format="diff-fenced")
    log.user("bump").ai(reply)
    session = PARSER.parse(log.write(tmp_path)).session
    (edit,) = of_type(session, m.FileEdit)
    assert edit.event_type.data.path == "src/app.py"
    assert "aider.applied" not in edit.attributes


def test_reasoning_block_becomes_thinking(tmp_path: Path) -> None:
    log = AiderLog().start("2025-03-01 10:00:00").banner(model="deepseek/deepseek-reasoner")
    log.user("why?").ai("<think>\nThe user asks why.\n</think>\n\nBecause.")
    log.tool("Tokens: 100 sent, 50 received.")
    session = PARSER.parse(log.write(tmp_path)).session
    thinking, reply = session.events[-2:]
    assert isinstance(thinking.event_type, m.Thinking)
    assert thinking.text() == "The user asks why."
    assert isinstance(reply.event_type, m.AgentMessage)
    assert reply.text() == "Because."
    assert reply.attributes["output_tokens"] == 50


def test_markdown_quote_and_heading_inside_a_reply_stay_in_it(tmp_path: Path) -> None:
    reply = (
        "#### Step 1\n\nAs the docs say:\n\n> Always run the tests.\n> Twice.\n\n"
        "Then:\n\n>quoted without space\n\nDone."
    )
    log = AiderLog().start("2025-03-01 10:00:00").user("plan it").ai(reply)
    log.tool("Tokens: 10 sent, 20 received.")
    session = PARSER.parse(log.write(tmp_path)).session
    (answer,) = of_type(session, m.AgentMessage)
    assert answer.text() == reply
    assert answer.attributes["output_tokens"] == 20
    assert session.context.attributes["source_records"]["total"] == 4


def test_edit_error_report_with_blank_lines_is_one_tool_message(tmp_path: Path) -> None:
    report = (
        "# 1 SEARCH/REPLACE block failed to match!\n\n"
        "## SearchReplaceNoExactMatch: This SEARCH block failed to exactly match lines in a.py\n"
        "<<<<<<< SEARCH\nold\n=======\nnew\n>>>>>>> REPLACE\n\n"
        "The SEARCH section must exactly match an existing block of lines"
    )
    log = AiderLog().start("2025-03-01 10:00:00").user("change a.py")
    log.ai("a.py\n```\n<<<<<<< SEARCH\nold\n=======\nnew\n>>>>>>> REPLACE\n```")
    log.tool("Tokens: 10 sent, 20 received.")
    log.error("The LLM did not conform to the edit format.")
    log.tool("https://aider.chat/docs/troubleshooting/edit-errors.html", report)
    log.ai("Sorry, here is the fix.")
    session = PARSER.parse(log.write(tmp_path)).session
    assert len(of_type(session, m.FileEdit)) == 1
    errors = of_type(session, m.SystemMessage)
    assert len(errors) == 1
    assert errors[0].text().startswith("The LLM did not conform to the edit format.\nhttps://")
    assert errors[0].text().endswith("must exactly match an existing block of lines")
    assert [e.text() for e in of_type(session, m.AgentMessage)][1] == "Sorry, here is the fix."


# --- Runs, records, timing ---


def test_every_block_is_one_record(tmp_path: Path) -> None:
    result = PARSER.parse(edit_session_log().write(tmp_path))
    assert_valid(result)
    records = result.session.context.attributes["source_records"]
    # header, banner, /add, its output, the request, the reply, the output after it (ten
    # messages with no blank line between them: one block), /run, its output
    assert records == {
        "total": 9,
        "mapped": 8,
        "merged": 0,
        "skipped": {"run header": 1},
    }


def test_blank_input_and_empty_output_are_skipped_with_reasons(tmp_path: Path) -> None:
    log = AiderLog().start("2025-03-01 10:00:00").user("")
    log.tool("")  # aider writes a bare ">" for an empty tool_output("")
    log.user("hi").ai("Hello.").tool("Tokens: 5 sent, 3 received.")
    records = PARSER.parse(log.write(tmp_path)).session.context.attributes["source_records"]
    assert records["skipped"] == {"blank input": 1, "empty output": 1, "run header": 1}
    assert records["merged"] == 1  # the Tokens report, folded into the reply
    assert records["total"] == 6


def test_header_only_run_and_text_before_the_first_header(tmp_path: Path) -> None:
    path = tmp_path / ".aider.chat.history.md"
    text = "leftover reply text\n\n# aider chat started at 2025-03-01 09:00:00\n\n"
    text += "\n# aider chat started at 2025-03-01 10:00:00\n\n\n#### hello  \n"
    path.write_text(text, encoding="utf-8")
    result = PARSER.parse(path)
    assert_valid(result)
    assert len(result.warnings) == 1
    assert result.warnings[0].line == 1
    loose, empty, last = by_run(result)
    assert result.session is last
    assert loose.context.created_at == datetime(2025, 3, 1, 9, tzinfo=UTC)
    assert [e.text() for e in loose.events] == ["leftover reply text"]
    assert [e.text() for e in empty.events] == ["aider chat started at 2025-03-01 09:00:00"]
    assert empty.context.attributes["source_records"]["mapped"] == 1
    assert len({s.session_id for s in result.sessions}) == 3


def test_events_are_spaced_one_millisecond_from_the_run_start(tmp_path: Path) -> None:
    session = PARSER.parse(edit_session_log().write(tmp_path)).session
    start = datetime(2025, 3, 1, 10, tzinfo=UTC)
    assert [int((e.timestamp - start).total_seconds() * 1000) for e in session.events] == list(
        range(len(session.events))
    )
    assert session.context.created_at == start


def test_input_history_times_user_inputs(tmp_path: Path) -> None:
    log = AiderLog().start("2025-03-01 10:00:00").user("first question").ai("First answer.")
    log.user("second\nquestion").ai("Second answer.")
    log.tool("pytest", "Run shell command? (Y)es/(N)o [Yes]: y").tool("Running pytest")
    log.start("2025-03-01 11:00:00").user("first question")
    path = log.write(tmp_path)
    (tmp_path / ".aider.input.history").write_text(
        "\n# 2025-03-01 09:59:00.000000\n+first question\n"  # before the run: not it
        "\n# 2025-03-01 10:00:05.250000\n+first question\n"
        "\n# 2025-03-01 10:02:00.000000\n+second\n+question\n"
        "\n# 2025-03-01 10:02:30.000000\n+/run pytest\n"
        "\n# 2025-03-01 11:00:09.000000\n+first question\n",
        encoding="utf-8",
    )
    result = PARSER.parse(path)
    first, second = by_run(result)
    times = [e.timestamp.isoformat() for e in first.events]
    assert times == [
        "2025-03-01T10:00:05.250000+00:00",
        "2025-03-01T10:00:05.251000+00:00",
        "2025-03-01T10:02:00+00:00",
        "2025-03-01T10:02:00.001000+00:00",
        "2025-03-01T10:02:00.002000+00:00",
        "2025-03-01T10:02:30+00:00",
    ]
    assert second.events[0].timestamp == datetime(2025, 3, 1, 11, 0, 9, tzinfo=UTC)
    assert first.context.attributes["aider.input_history"].endswith(".aider.input.history")


def test_session_ids_are_stable_and_distinct(tmp_path: Path) -> None:
    log = AiderLog().start("2025-03-01 10:00:00").user("a").start("2025-03-01 10:00:00").user("b")
    path = log.write(tmp_path)
    ids = [s.session_id for s in PARSER.parse(path).sessions]
    assert len(set(ids)) == 2
    assert ids == [s.session_id for s in PARSER.parse(path).sessions]


def test_file_without_hard_breaks_is_read_by_prefixes(tmp_path: Path) -> None:
    text = "".join(edit_session_log().parts).replace("  \n", "\n").replace("\n", "\r\n")
    path = tmp_path / ".aider.chat.history.md"
    path.write_bytes(text.encode())
    result = PARSER.parse(path)
    assert_valid(result)
    session = result.session
    assert len(of_type(session, m.FileEdit)) == 2
    assert of_type(session, m.AgentMessage)[0].attributes["input_tokens"] == 2_500
    assert session.context.attributes["source_records"]["total"] == 9


def test_folder_with_a_chat_history_parses_it(tmp_path: Path) -> None:
    edit_session_log().write(tmp_path)
    detection = PARSER.detect(tmp_path, b"")
    assert detection is not None
    assert detection.confidence == 60
    assert PARSER.parse(tmp_path).session.context.attributes["cwd"] == str(tmp_path.resolve())


def test_empty_file_raises(tmp_path: Path) -> None:
    path = tmp_path / ".aider.chat.history.md"
    path.write_text("\n\n", encoding="utf-8")
    with pytest.raises(SessionParseError, match="empty"):
        PARSER.parse(path)


def test_detection_by_content_and_by_name(tmp_path: Path) -> None:
    content = tmp_path / "notes.md"
    content.write_text("\n# aider chat started at 2025-03-01 10:00:00\n\n", encoding="utf-8")
    assert PARSER.detect(content, read_head(content)).confidence == 95
    named = tmp_path / "x.aider.chat.history.md"
    named.write_text("hello\n", encoding="utf-8")
    assert PARSER.detect(named, read_head(named)).confidence == 50
    readme = tmp_path / "README.md"
    readme.write_text("# Project\n\nWe use aider.\n#### Setup\n", encoding="utf-8")
    assert PARSER.detect(readme, read_head(readme)) is None


PIECES = [
    "# aider chat started at 2025-01-01 00:00:00",
    "# aider chat started at soon",
    "#### hi  ",
    "####",
    "#### /run ls  ",
    "> x  ",
    ">",
    "> a",
    "",
    "text",
    "<<<<<<< SEARCH",
    "=======",
    ">>>>>>> REPLACE",
    "```diff",
    "--- a",
    "+++ b",
    "> Tokens: 1k sent, 2 received.  ",
    "> Applied edit to x  ",
    "> Main model: x with udiff edit format  ",
    "<think>",
    "\r",
]


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(lines=st.lists(st.sampled_from(PIECES), max_size=30))
def test_any_arrangement_of_aider_lines_parses_or_fails_cleanly(
    tmp_path: Path, lines: list[str]
) -> None:
    path = tmp_path / ".aider.chat.history.md"
    path.write_bytes("\n".join(lines).encode())
    try:
        result = PARSER.parse(path)
    except SessionParseError:
        return
    assert_valid(result)
