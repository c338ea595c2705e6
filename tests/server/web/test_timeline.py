"""The session page's timeline as view items: every event type and content block, untrusted
text escaped, diffs coloured, results folded under their calls, task groups, pages, minimap."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest

from opensession.hail import Session, dumps_session
from opensession.hail import model as m
from opensession.server.web import timeline
from opensession.server.web.timeline import (
    BlockView,
    EventView,
    GroupNode,
    block_view,
    diff_view,
    event_view,
    page_items,
    pair_results,
    plan_timeline,
    read_body,
    render_markdown,
    safe_url,
    search_session,
)
from tests.hail.factories import event, session

XSS = '<script>alert("xss")</script> <img src=x onerror=alert(1)> [link](javascript:alert(2))'
# A small picture, so that the screenshots show an image inline.
PICTURE = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="160" height="60">'
    '<rect width="160" height="60" rx="8" fill="#7cc49b"/>'
    '<text x="80" y="37" font-size="20" text-anchor="middle">a cat</text></svg>'
)
PNG = "data:image/svg+xml;base64," + base64.b64encode(PICTURE.encode()).decode()
DIFF = "--- a/src/app.py\n+++ b/src/app.py\n@@ -10,3 +10,3 @@\n keep\n-old line\n+new line\n tail"


def call(index: int, kind: Any, call_id: str, **fields: Any) -> m.Event:
    """An event that names a call id, as the parsers write it."""
    return event(index, kind, attributes={"semantic.call_id": call_id}, **fields)


def result(
    index: int, call_id: str, text: str, *, name: str = "Bash", error: bool = False
) -> m.Event:
    data = m.ToolResultData(name=name, is_error=error, call_id=call_id)
    return event(index, m.ToolResult(data=data), text=text)


def every_kind() -> Session:
    """A session with every HAIL event type and content block, and XSS payloads in its text."""
    grep = m.ToolCall(data=m.NameData(name="Grep"))
    image = m.ImageBlock(url=PNG, alt="cat", mime="image/svg+xml")
    video = m.VideoBlock(url="https://example.com/v.mp4", mime="video/mp4")
    audio = m.AudioBlock(url="javascript:alert(3)", mime="audio/mpeg")
    agent = {"subagent_session_id": "agent-1"}
    start = m.TaskStart(data=m.TaskStartData(title="Sub task"))
    events = [
        event(0, m.UserMessage(), text=f"Fix it {XSS}\n\n```python\nprint('hi')\n```"),
        event(
            1,
            m.AgentMessage(),
            text="**Done** with `code`",
            blocks=[m.CodeBlock(code="def f():\n    return 1", language="python", start_line=10)],
        ),
        event(2, m.Thinking(), text="**Planning** the <b>fix</b>"),
        event(3, m.SystemMessage(), text="You are a coding agent."),
        call(4, grep, "c1", blocks=[m.JsonBlock(data={"pattern": XSS})]),
        result(5, "c1", "src/app.py:1: match", name="Grep"),
        call(6, m.FileRead(data=m.PathData(path="/repo/src/app.py")), "c2"),
        result(7, "c2", "1→import os", name="Read"),
        event(8, m.CodeSearch(data=m.QueryData(query="def main"))),
        event(9, m.FileSearch(data=m.PatternData(pattern="**/*.py"))),
        event(10, m.FileEdit(data=m.FileEditData(path="/repo/src/app.py", diff=DIFF))),
        event(
            11,
            m.FileCreate(data=m.PathData(path="/repo/src/new.py")),
            blocks=[m.JsonBlock(data={"file_path": "/repo/src/new.py", "content": "x = 1\n"})],
        ),
        event(12, m.FileDelete(data=m.PathData(path="/repo/src/old.py"))),
        call(13, m.ShellCommand(data=m.ShellCommandData(command="pytest -q", exit_code=1)), "c3"),
        result(14, "c3", "1 failed: test_login", error=True),
        event(15, m.ShellCommand(data=m.ShellCommandData(command="ls", exit_code=0))),
        event(16, m.ToolResult(data=m.ToolResultData(name="Bash", call_id="e15")), text="README"),
        event(17, m.ImageGenerate(data=m.PromptData(prompt="a cat")), blocks=[image]),
        event(18, m.VideoGenerate(data=m.PromptData(prompt="a film")), blocks=[video]),
        event(19, m.AudioGenerate(data=m.PromptData(prompt="a song")), blocks=[audio]),
        event(20, m.WebSearch(data=m.QueryData(query="hail format"))),
        event(21, m.WebFetch(data=m.UrlData(url="https://example.com/doc"))),
        event(22, start, task_id="t1", text="Look into it", attributes=agent),
        event(23, m.AgentMessage(), task_id="t1", text="inside the task"),
        event(24, m.TaskEnd(data=m.TaskEndData(summary="done **well**")), task_id="t1"),
        event(25, m.Custom(data=m.CustomData(kind="interrupted")), text="[Request interrupted]"),
        event(26, m.UnknownEventType.model_validate({"type": "FutureThing", "data": {"x": 1}})),
        event(
            27,
            m.UserMessage(),
            blocks=[
                m.ImageBlock(url="javascript:alert(4)", mime="image/png"),
                m.ImageBlock(url="https://example.com/cat.png", alt="a cat", mime="image/png"),
                m.FileBlock(path="notes.md", content="# Notes"),
                m.ReferenceBlock(uri="https://example.com/ref", media_type="text/html"),
                m.ReferenceBlock(uri="file:///etc/passwd", media_type="text/plain"),
                m.UnknownBlock.model_validate({"type": "Hologram", "depth": 3}),
                m.JsonBlock(data={"k": [1, 2]}),
            ],
        ),
        result(28, "nobody", "orphan output", name="Task", error=True),
    ]  # fmt: skip
    return session(events, title="Every kind", attributes={"cwd": "/repo"})


def views(source: Session) -> list[EventView]:
    """Every entry of page 1, task groups flattened."""
    body = read_body(dumps_session(source))
    plan = plan_timeline(body)

    def flat(items: list[GroupNode | EventView]) -> list[EventView]:
        found: list[EventView] = []
        for item in items:
            found += flat(item.children) if isinstance(item, GroupNode) else [item]
        return found

    return flat(page_items(body, plan, 1))


@pytest.fixture(scope="module")
def shown() -> dict[int, EventView]:
    return {view.index: view for view in views(every_kind())}


def test_messages_are_markdown_with_raw_html_escaped(shown: dict[int, EventView]) -> None:
    user = shown[0]
    assert (user.view, user.label, user.category) == ("message", "user", "message")
    [text] = user.blocks
    html = str(text.html)
    assert text.kind == "markdown"
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<img" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert 'href="javascript:' not in html  # markdown-it refuses the scheme: left as text
    assert '<pre class="hl"><code>' in html and '<span class="nb">print</span>' in html
    agent = shown[1]
    assert (agent.view, agent.label) == ("message", "agent")
    code, text = agent.blocks  # the factory puts the blocks before the text
    assert "<strong>Done</strong>" in str(text.html)
    assert (code.kind, code.label, code.note) == ("code", "python", "from line 10")
    assert code.output is not None and '<span class="k">def</span>' in code.output.head


def test_markdown_links_are_nofollow_and_breaks_only_for_user_text() -> None:
    assert 'rel="nofollow noopener noreferrer"' in render_markdown("[a](https://example.com)")
    assert "<br" in render_markdown("one\ntwo", breaks=True)
    assert "<br" not in render_markdown("one\ntwo")


def test_thinking_and_system_messages(shown: dict[int, EventView]) -> None:
    thinking, system = shown[2], shown[3]
    assert (thinking.view, thinking.category) == ("thinking", "thinking")
    assert thinking.preview == "Planning the <b>fix</b>"  # escaped by the template
    assert "&lt;b&gt;fix&lt;/b&gt;" in str(thinking.blocks[0].html)
    assert (system.view, system.category) == ("system", "message")
    assert system.blocks[0].kind == "output"


def test_tool_call_holds_its_result_and_escapes_its_input(shown: dict[int, EventView]) -> None:
    grep = shown[0 + 4]
    assert (grep.view, grep.label, grep.category) == ("call", "Grep", "tool")
    assert 5 not in shown  # folded under its call
    [found] = grep.results
    assert (found.index, found.name, found.failed) == (5, "Grep", False)
    assert found.blocks[0].output is not None
    assert str(found.blocks[0].output.head) == "src/app.py:1: match"
    [json_input] = grep.blocks
    assert json_input.kind == "json" and json_input.output is not None
    assert "<script>" not in json_input.output.head
    assert "&lt;script&gt;" in json_input.output.head


def test_file_tools_show_their_data(shown: dict[int, EventView]) -> None:
    read = shown[6]
    assert (read.view, read.label, read.detail, read.full_detail) == (
        "call", "read", "src/app.py", "/repo/src/app.py"
    )  # fmt: skip
    assert [r.index for r in read.results] == [7]
    assert (shown[8].label, shown[8].detail) == ("search", "def main")
    assert (shown[9].label, shown[9].detail) == ("find files", "**/*.py")
    assert (shown[20].label, shown[20].detail, shown[20].href) == (
        "web search",
        "hail format",
        None,
    )
    fetch = shown[21]
    assert (fetch.label, fetch.href) == ("fetch", "https://example.com/doc")
    assert {shown[i].category for i in (6, 8, 9, 20, 21)} == {"tool"}


def test_file_changes(shown: dict[int, EventView]) -> None:
    edit, create, delete = shown[10], shown[11], shown[12]
    assert (edit.view, edit.label, edit.detail, edit.category) == (
        "change", "edit", "src/app.py", "file"
    )  # fmt: skip
    assert edit.diff is not None and (edit.diff.added, edit.diff.removed) == (1, 1)
    assert (create.label, create.detail) == ("create", "src/new.py")
    [written] = create.blocks  # the write tool's input, highlighted as the file's language
    assert (written.kind, written.label) == ("code", "")
    assert written.output is not None and '<span class="n">x</span>' in written.output.head
    assert (delete.label, delete.detail, delete.blocks) == ("delete", "src/old.py", [])


def test_diff_lines_are_coloured_and_numbered() -> None:
    diff = diff_view(DIFF)
    kinds = [(line.kind, line.old, line.new, line.text) for line in diff.lines]
    assert kinds == [
        ("meta", None, None, "--- a/src/app.py"),
        ("meta", None, None, "+++ b/src/app.py"),
        ("hunk", None, None, "@@ -10,3 +10,3 @@"),
        ("ctx", 10, 10, " keep"),
        ("del", 11, None, "-old line"),
        ("add", None, 11, "+new line"),
        ("ctx", 12, 12, " tail"),
    ]
    assert diff.rest == [] and diff.omitted == 0


def test_long_diffs_and_outputs_fold_behind_show_all() -> None:
    diff = diff_view("\n".join(f"+line {n}" for n in range(timeline.DIFF_LINES + 5)))
    assert len(diff.lines) == timeline.DIFF_LINES and len(diff.rest) == 5
    assert diff.added == timeline.DIFF_LINES + 5
    text = "\n".join(f"line {n}" for n in range(100))
    folded = timeline.output(text)
    assert str(folded.head).count("\n") == timeline.OUTPUT_LINES - 1
    assert folded.rest is not None and folded.more_lines == 100 - timeline.OUTPUT_LINES
    assert str(folded.head) + "\n" + str(folded.rest) == text
    huge = timeline.output("x" * (timeline.OUTPUT_LIMIT + 10))
    assert huge.omitted == 10
    assert timeline.output("a\nb\nc").rest is None  # nothing to fold


def test_an_edit_without_a_diff_shows_its_old_and_new_strings_as_one() -> None:
    edit = event(
        0,
        m.FileEdit(data=m.FileEditData(path="a.py")),
        blocks=[
            m.JsonBlock(data={"file_path": "a.py", "old_string": "x = 1", "new_string": "x = 2"})
        ],
    )
    view = event_view(edit, 0)
    assert view.diff is not None and (view.diff.added, view.diff.removed) == (1, 1)
    assert [line.text for line in view.diff.lines if line.kind in ("add", "del")] == [
        "-x = 1",
        "+x = 2",
    ]
    assert view.blocks == []  # the strings are the diff now


def test_shell_commands_show_output_and_exit_code(shown: dict[int, EventView]) -> None:
    failing = shown[13]
    assert (failing.view, failing.category, failing.exit_code, failing.failed) == (
        "shell", "shell", 1, True
    )  # fmt: skip
    assert "pytest" in str(failing.command)
    [output] = failing.results
    assert output.failed and output.blocks[0].output is not None
    assert str(output.blocks[0].output.head) == "1 failed: test_login"
    passing = shown[15]
    assert (passing.exit_code, passing.failed) == (0, False)
    # Its result names the command's event id rather than a call id.
    assert [r.index for r in passing.results] == [16] and 16 not in shown


def test_pairing_results_to_calls() -> None:
    events = [
        call(0, m.ToolCall(data=m.NameData(name="A")), "x"),
        call(1, m.ToolCall(data=m.NameData(name="B")), "y"),
        result(2, "y", "to B"),
        result(3, "x", "to A"),
        result(4, "x", "more to A"),
        result(5, "e1", "by event id"),
        result(6, "unknown", "alone"),
        result(7, "z", "before its call"),
        call(8, m.ToolCall(data=m.NameData(name="C")), "z"),
        event(9, m.ToolCall(data=m.NameData(name="D")), attributes={"call_id": "legacy"}),
        event(10, m.ToolResult(data=m.ToolResultData(name="D")), attributes={"call_id": "legacy"}),
    ]
    records = read_body(dumps_session(session(events))).records
    assert pair_results(records) == {0: [3, 4], 1: [2, 5], 9: [10]}


def test_media_blocks_load_only_safe_urls(shown: dict[int, EventView]) -> None:
    image = shown[17].blocks[0]
    assert (image.kind, image.url, image.label) == ("image", PNG, "cat")
    video = shown[18].blocks[0]
    assert (video.kind, video.url) == ("video", "https://example.com/v.mp4")
    audio = shown[19].blocks[0]
    assert (audio.kind, audio.url, audio.note) == ("media_text", None, "javascript:alert(3)")
    assert {(shown[i].view, shown[i].open) for i in (17, 18, 19)} == {("call", True)}
    assert safe_url("data:text/html,<script>", media="image") is None
    assert safe_url("data:image/svg+xml;base64,AA", media="image") is not None
    assert safe_url("https://example.com/a b") is None
    assert safe_url(" https://example.com/ok ") == "https://example.com/ok"


def test_every_content_block_has_a_view(shown: dict[int, EventView]) -> None:
    blocks = shown[27].blocks
    assert [b.kind for b in blocks] == [
        "media_text", "image", "file", "reference", "reference", "unknown", "json"
    ]  # fmt: skip
    assert blocks[1].url == "https://example.com/cat.png"
    assert (blocks[2].label, blocks[2].output is not None) == ("notes.md", True)
    assert (blocks[3].url, blocks[3].note) == ("https://example.com/ref", "text/html")
    assert (blocks[4].url, blocks[4].label) == (None, "file:///etc/passwd")
    assert blocks[5].label == "Hologram" and "depth" in str(blocks[5].html)


def test_text_outside_messages_is_preformatted_and_escaped() -> None:
    view = block_view(m.TextBlock(text=XSS), prose=False)
    assert view.kind == "output" and view.output is not None
    head = str(view.output.head)
    assert "<" not in head and head.startswith("&lt;script&gt;")


def test_tasks_custom_unknown_and_orphan_results(shown: dict[int, EventView]) -> None:
    start, inside, end = shown[22], shown[23], shown[24]
    assert (start.view, start.detail, start.agent) == ("task_start", "Sub task", "agent-1")
    assert inside.view == "message"
    assert (end.view, end.category) == ("task_end", "other")
    assert "<strong>well</strong>" in str(end.blocks[0].html)
    custom = shown[25]
    assert (custom.view, custom.label, custom.category) == ("generic", "interrupted", "other")
    unknown = shown[26]
    assert (unknown.view, unknown.label) == ("generic", "FutureThing (unknown type)")
    assert unknown.data is not None and '"x"' in unknown.data
    orphan = shown[28]
    assert (orphan.view, orphan.detail, orphan.failed) == ("result", "Task", True)
    assert [r.index for r in orphan.results] == [28]


def test_task_groups_nest_their_events() -> None:
    body = read_body(dumps_session(every_kind()))
    plan = plan_timeline(body)
    [group] = plan.groups
    assert (group.title, group.agent, group.entries, group.started, group.ended) == (
        "Sub task", "agent-1", 3, True, True
    )  # fmt: skip
    items = page_items(body, plan, 1)
    [node] = [item for item in items if isinstance(item, GroupNode)]
    assert [child.index for child in node.children if isinstance(child, EventView)] == [22, 23, 24]
    assert not node.continued


def test_a_turn_without_ids_inside_holds_what_follows_and_titles_itself() -> None:
    events = [
        event(0, m.SystemMessage(), text="setup"),
        event(1, m.TaskStart(data=m.TaskStartData()), task_id="turn", text="task started"),
        event(2, m.UserMessage(), text="Rename the module\nplease"),
        event(3, m.AgentMessage(), text="ok"),
        event(4, m.TaskEnd(data=m.TaskEndData()), task_id="turn"),
        event(5, m.AgentMessage(), text="after"),
        event(6, m.AgentMessage(), task_id="lane", text="a lane without a start"),
        event(7, m.AgentMessage(), task_id="lane", text="still the lane"),
        event(8, m.AgentMessage(), text="main again"),
    ]
    plan = plan_timeline(read_body(dumps_session(session(events))))
    assert [entry.groups for entry in plan.entries] == [
        (),
        (1,),
        (1,),
        (1,),
        (1,),
        (),
        (2,),
        (2,),
        (),
    ]
    assert [g.title for g in plan.groups] == ["Rename the module", "task lane"]
    assert event_view(events[1], 1).blocks == []  # "task started" says nothing the label does not


def test_pages_hold_500_events_and_calls_stay_with_their_results(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    events = []
    for n in range(30):
        events += [
            call(2 * n, m.ToolCall(data=m.NameData(name="T")), f"c{n}"),
            result(2 * n + 1, f"c{n}", "out"),
        ]
    monkeypatch.setattr(timeline, "PAGE_EVENTS", 7)
    body = read_body(dumps_session(session(events)))
    plan = plan_timeline(body)
    assert plan.pages[:2] == [(0, 3), (3, 6)]  # three calls with their results: six events
    assert len(plan.pages) == 10
    assert all(entry.results for entry in plan.entries)
    later = page_items(body, plan, 2)
    assert [item.index for item in later if isinstance(item, EventView)] == [6, 8, 10]


def test_a_group_cut_by_a_page_continues_on_the_next(monkeypatch: pytest.MonkeyPatch) -> None:
    events = [event(0, m.TaskStart(data=m.TaskStartData(title="long")), task_id="t")]
    events += [event(n, m.AgentMessage(), task_id="t", text=f"step {n}") for n in range(1, 6)]
    monkeypatch.setattr(timeline, "PAGE_EVENTS", 4)
    body = read_body(dumps_session(session(events)))
    plan = plan_timeline(body)
    [first] = page_items(body, plan, 1)
    [second] = page_items(body, plan, 2)
    assert isinstance(first, GroupNode) and isinstance(second, GroupNode)
    assert (first.continued, second.continued, second.group.page) == (False, True, 1)
    assert [child.index for child in second.children if isinstance(child, EventView)] == [4, 5]


def test_minimap_cells_cover_the_session_by_category() -> None:
    events = [
        event(n, m.ShellCommand(data=m.ShellCommandData(command="x", exit_code=n % 2)))
        for n in range(300)
    ]
    events += [event(300 + n, m.AgentMessage(), text="hi") for n in range(300)]
    plan = plan_timeline(read_body(dumps_session(session(events))))
    cells = plan.minimap
    assert len(cells) == timeline.MINIMAP_CELLS
    assert cells[0].index == 0 and cells[-1].index < 600
    assert {c.category for c in cells[:55]} == {"shell"} and {c.category for c in cells[65:]} == {
        "message"
    }
    assert cells[0].failed and not cells[-1].failed
    assert {c.density for c in cells} <= {1, 2, 3, 4}
    assert "shell" in cells[0].label


def test_search_finds_entries_by_page_in_results_too() -> None:
    body = read_body(dumps_session(every_kind()))
    plan = plan_timeline(body)
    assert search_session(body, plan, "TEST_LOGIN") == {1: [13]}  # in the command's result
    assert search_session(body, plan, "  ") == {}
    assert search_session(body, plan, "nothing like this") == {}


def test_unreadable_events_and_bodies() -> None:
    body = read_body(dumps_session(every_kind()))
    body.records[0]["event_type"] = {"type": "FileEdit", "data": {}}  # no path
    plan = plan_timeline(body)
    first = page_items(body, plan, 1)[0]
    assert isinstance(first, EventView) and first.label == "unreadable FileEdit event"
    with pytest.raises(ValueError, match="HAIL header"):
        read_body(b'{"type":"event"}\n')
    stats_less = b"\n".join(dumps_session(every_kind()).splitlines()[:-1])
    assert read_body(stats_less).stats.event_count == len(every_kind().events)


def test_a_real_session_renders_every_page(corpus: Path) -> None:
    from opensession.parsers.registry import parse_path

    source = corpus / "claude-code" / "spotter" / "258c7280-ae70-4798-800f-63464d01a85d.jsonl"
    parsed = parse_path(source).session
    body = read_body(dumps_session(parsed))
    plan = plan_timeline(body)
    rendered = [
        item for page in range(1, len(plan.pages) + 1) for item in page_items(body, plan, page)
    ]
    assert rendered and sum(len(entry.results) + 1 for entry in plan.entries) == len(parsed.events)
    failing = [
        view for view in views(parsed) if view.view == "shell" and view.exit_code not in (None, 0)
    ]
    assert failing and all(view.failed for view in failing)


def test_block_view_for_plain_text_in_prose_is_markdown() -> None:
    assert block_view(m.TextBlock(text="*a*")) == BlockView("markdown", html=render_markdown("*a*"))
