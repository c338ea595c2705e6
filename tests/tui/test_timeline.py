"""A HAIL session turned into the timeline's rows and unfolded bodies, as the terminal shows
them (rendered through Rich at 80 columns)."""

from __future__ import annotations

import io
from pathlib import Path

from rich.console import Console, RenderableType

from opensession.hail import model as m
from opensession.parsers.registry import parse_path
from opensession.tui.timeline import (
    OUTPUT_LINES,
    build_timeline,
    diff_text,
    edit_diff,
    entry_body,
    output_text,
    row_text,
    search_text,
)
from tests.hail.factories import event, session

SPOTTER = "claude-code/spotter/ae4a77f8-aedd-4bc1-888f-c94edc91af04.jsonl"


def shown(renderable: RenderableType) -> str:
    """What the terminal shows of ``renderable`` at 80 columns, without colours."""
    console = Console(width=80, record=True, color_system=None, file=io.StringIO())
    console.print(renderable)
    return console.export_text()


def coding_session() -> m.Session:
    """A prompt, a failing shell command with its result, an edit, a thought and a reply."""
    call = {"semantic.call_id": "c1"}
    return session(
        [
            event(0, m.UserMessage(), text="Fix the **failing** test"),
            event(1, m.Thinking(), text="Probably the import."),
            event(
                2,
                m.ShellCommand(data=m.ShellCommandData(command="pytest -q", exit_code=1)),
                attributes=call,
            ),
            event(
                3,
                m.ToolResult(data=m.ToolResultData(name="Bash", is_error=True, call_id="c1")),
                text="FAILED test_app.py::test_x - ImportError",
            ),
            event(
                4,
                m.FileEdit(data=m.FileEditData(path="/work/app/app.py")),
                blocks=[m.JsonBlock(data={"old_string": "a = 1\n", "new_string": "a = 2\n"})],
            ),
            event(5, m.AgentMessage(), text="Fixed:\n\n- `a` is **2** now"),
        ],
        attributes={"cwd": "/work/app"},
    )


def test_rows_fold_results_under_their_call_and_mark_failures() -> None:
    entries = build_timeline(coding_session())
    rows = [row_text(entry, unfolded=False).plain for entry in entries]
    assert rows == [
        "▸ 00:39:28 user       Fix the **failing** test",
        "▸ 00:39:29 think      Probably the import.",
        "▸ 00:39:30 ✗ shell    $ pytest -q",
        "▸ 00:39:32 edit       app.py  +1 -1",
        "▸ 00:39:33 agent      Fixed:",
    ]
    assert [entry.category for entry in entries] == [
        "message",
        "thinking",
        "shell",
        "file",
        "message",
    ]
    failed = row_text(entries[2], unfolded=False)
    assert any("red" in str(span.style) for span in failed.spans)


def test_messages_open_as_markdown_the_rest_folded() -> None:
    the_session = coding_session()
    entries = build_timeline(the_session)
    assert [entry.opens for entry in entries] == [True, False, False, False, True]
    reply = shown(entry_body(the_session, entries[4]))
    assert "Fixed:" in reply and "• a is 2 now" in reply
    assert "**" not in shown(entry_body(the_session, entries[0]))
    # an unfolded message's row does not repeat its first line
    assert row_text(entries[4], unfolded=True).plain.rstrip() == "▾ 00:39:33 agent"


def test_a_call_unfolded_shows_its_result_and_the_edit_a_coloured_diff() -> None:
    the_session = coding_session()
    entries = build_timeline(the_session)
    shell = shown(entry_body(the_session, entries[2]))
    assert "✗ Bash error" in shell and "FAILED test_app.py::test_x - ImportError" in shell

    edit = shown(entry_body(the_session, entries[3]))
    assert "-a = 1" in edit and "+a = 2" in edit and "@@" in edit
    coloured = diff_text(edit_diff(the_session.events[4]) or "")
    colours = {line.plain: {str(span.style) for span in line.spans} for line in coloured.split()}
    assert colours["+a = 2"] == {"green"} and colours["-a = 1"] == {"red"}


def test_search_text_covers_the_results_folded_under_a_call() -> None:
    the_session = coding_session()
    entries = build_timeline(the_session)
    assert "importerror" in search_text(the_session, entries[2])
    assert "importerror" not in search_text(the_session, entries[3])


def test_row_highlights_the_search_words() -> None:
    entry = build_timeline(coding_session())[0]
    row = row_text(entry, unfolded=False, query="FAILING")
    highlighted = [
        row.plain[span.start : span.end] for span in row.spans if span.style == "reverse"
    ]
    assert highlighted == ["failing"]


def test_long_outputs_are_cut_and_say_how_much_is_left() -> None:
    text = "\n".join(f"line {n}" for n in range(OUTPUT_LINES + 30))
    cut = output_text(text)
    assert cut.splitlines()[-1] == "… 30 more lines (o opens the source)"
    assert len(cut.splitlines()) == OUTPUT_LINES + 1
    assert output_text("short\n") == "short"


def test_a_real_claude_code_session(corpus: Path) -> None:
    parsed = parse_path(corpus / SPOTTER, "claude-code").sessions[0]
    entries = build_timeline(parsed)
    folded = sum(len(entry.results) for entry in entries)
    assert len(entries) + folded == len(parsed.events)
    assert folded > 200  # nearly every tool result sits under its call
    rows = [row_text(entry, unfolded=False).plain for entry in entries[:4]]
    assert rows[0].startswith("▸ 14:11:57 user       Work on bead spotter-4te.")
    assert rows[1].startswith("▸ 14:12:01 think      Let me check the issue details")
    assert rows[2] == "▸ 14:12:02 shell      $ bd show spotter-4te"
    body = shown(entry_body(parsed, entries[2]))
    assert "spotter-4te [EPIC]" in body
    edit = next(entry for entry in entries if entry.kind == "FileEdit")
    assert edit.summary.startswith("mix.exs  +")  # relative to the session's directory
