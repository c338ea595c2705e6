"""A HAIL session as the terminal timeline shows it (pure functions, Rich renderables).

Every event becomes an entry, except tool results, which fold under the call they answer. An
entry has a one-line row (time, label, a preview) computed for the whole session at once, and a
body (Markdown for messages, coloured diffs for file edits, a call's input and results, a shell
command's output) rendered only when it is unfolded and on screen: a 5,000-event session opens
as fast as a short one.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC
from typing import Any

import orjson
from rich.console import Group, RenderableType
from rich.markdown import Markdown
from rich.syntax import Syntax
from rich.text import Text

from opensession.hail import model as m
from opensession.hail.categories import EVENT_CATEGORIES
from opensession.hail.pairing import pair_results as pair_by_call
from opensession.hail.stats import diff_line_counts

FILTERS: tuple[tuple[str, str, str], ...] = (
    ("1", "message", "msgs"),
    ("2", "tool", "tools"),
    ("3", "file", "files"),
    ("4", "shell", "shell"),
    ("5", "thinking", "think"),
)
"""The event filters: (key, category, short label)."""

OUTPUT_LINES = 120
"""Lines of an output, a diff or a written file shown in an unfolded entry; the rest is in the
source file (``o`` opens it)."""
OUTPUT_CHARS = 12_000
"""Characters of one output shown at most (a one-line megabyte would fill thousands of rows)."""
MARKDOWN_CHARS = 40_000
"""Characters of one message rendered as Markdown; a longer one is shown as plain text."""
COMMAND_IN_ROW = 50
"""A longer shell command is shown whole in the body too (the row cuts it to the width)."""
SUMMARY_CHARS = 300
"""Characters of a row's preview kept (the row is cut to the terminal's width anyway)."""

_CALL_LABELS = {
    "FileRead": "read",
    "CodeSearch": "search",
    "FileSearch": "find",
    "WebSearch": "web",
    "WebFetch": "fetch",
    "ImageGenerate": "image",
    "VideoGenerate": "video",
    "AudioGenerate": "audio",
}
_LABELS = {
    "UserMessage": "user",
    "AgentMessage": "agent",
    "SystemMessage": "system",
    "Thinking": "think",
    "ShellCommand": "shell",
    "FileEdit": "edit",
    "FileCreate": "create",
    "FileDelete": "delete",
    "ToolResult": "result",
    "TaskStart": "task",
    "TaskEnd": "done",
    **_CALL_LABELS,
}
LABEL_STYLES: dict[str, str] = {
    "user": "bold green",
    "agent": "bold blue",
    "system": "magenta",
    "think": "italic",
    "shell": "magenta",
    "edit": "cyan",
    "create": "cyan",
    "delete": "cyan",
}
"""Named ANSI colours only: the terminal's palette keeps them readable on light and dark
backgrounds."""
_CATEGORY_STYLES = {"tool": "yellow", "other": "dim"}
_OPEN_AT_FIRST = frozenset({"UserMessage", "AgentMessage"})
_PROSE = frozenset({"message", "thinking"})


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    """One row of the timeline: an event and the tool results folded under it."""

    index: int
    """The event's position in ``session.events``."""
    results: tuple[int, ...]
    kind: str
    """The event type's name (``UserMessage``, ``ShellCommand`` …)."""
    category: str
    label: str
    summary: str
    failed: bool
    time: str
    opens: bool
    """Shown unfolded at first (user and agent messages)."""

    @property
    def is_user_message(self) -> bool:
        return self.kind == "UserMessage"


def build_timeline(session: m.Session) -> list[TimelineEntry]:
    """Every entry of ``session``, in order; tool results go under the call they answer."""
    events = session.events
    results = pair_results(events)
    folded = {index for found in results.values() for index in found}
    cwd = working_directory(session)
    entries = []
    for index, event in enumerate(events):
        if index in folded:
            continue
        answers = tuple(results.get(index, ()))
        kind = str(event.event_type.type)
        label, summary = _label_and_summary(event, cwd)
        entries.append(
            TimelineEntry(
                index=index,
                results=answers,
                kind=kind,
                category=EVENT_CATEGORIES.get(kind, "other"),
                label=label,
                summary=summary,
                failed=any(is_failure(events[i]) for i in (index, *answers)),
                time=event.timestamp.astimezone(UTC).strftime("%H:%M:%S"),
                opens=kind in _OPEN_AT_FIRST,
            )
        )
    return entries


def call_id(event: m.Event) -> str | None:
    """The call an event makes or answers: ``semantic.call_id``, then a ToolResult's
    ``call_id``, then the legacy ``call_id`` attribute (HAIL's order)."""
    kind = event.event_type
    candidates = (
        event.attributes.get("semantic.call_id"),
        kind.data.call_id if isinstance(kind, m.ToolResult) else None,
        event.attributes.get("call_id"),
    )
    return next((value for value in candidates if isinstance(value, str) and value), None)


def pair_results(events: Sequence[m.Event]) -> dict[int, list[int]]:
    """The tool results of each call, by event index (``hail.pairing.pair_results``)."""
    return pair_by_call(
        (isinstance(event.event_type, m.ToolResult), call_id(event), event.event_id)
        for event in events
    )


def is_failure(event: m.Event) -> bool:
    """A tool result marked as an error, or a shell command that exited non-zero."""
    kind = event.event_type
    if isinstance(kind, m.ToolResult):
        return kind.data.is_error
    if isinstance(kind, m.ShellCommand):
        return kind.data.exit_code not in (None, 0)
    return False


def working_directory(session: m.Session) -> str | None:
    """The session's working directory (``cwd``, else ``working_directory``), if recorded."""
    attributes = session.context.attributes
    cwd = attributes.get("cwd") or attributes.get("working_directory")
    return cwd.rstrip("/") if isinstance(cwd, str) and cwd.strip("/") else None


def _relative(path: str, cwd: str | None) -> str:
    return path[len(cwd) + 1 :] if cwd and path.startswith(cwd + "/") else path


def _first_line(text: str) -> str:
    for line in text.splitlines():
        if line.strip():
            return line.strip()[:SUMMARY_CHARS]
    return ""


def _label_and_summary(event: m.Event, cwd: str | None) -> tuple[str, str]:
    kind = event.event_type
    name = str(kind.type)
    label = _LABELS.get(name, name)
    if isinstance(kind, m.ToolCall):
        return kind.data.name, _first_line(_input_text(event.content.blocks))
    if isinstance(kind, m.ShellCommand):
        return label, "$ " + _first_line(kind.data.command)
    if isinstance(kind, m.FileEdit):
        summary = _relative(kind.data.path, cwd)
        diff = edit_diff(event)
        if diff:
            added, removed = diff_line_counts(diff)
            summary += f"  +{added} -{removed}"
        return label, summary
    if isinstance(kind, m.FileCreate | m.FileDelete | m.FileRead):
        return label, _relative(kind.data.path, cwd)
    if isinstance(kind, m.ToolResult):
        return label, f"{kind.data.name}: {_first_line(event.text())}"
    if isinstance(kind, m.TaskStart):
        return label, _first_line(kind.data.title or event.text())
    if isinstance(kind, m.TaskEnd):
        return label, _first_line(kind.data.summary or event.text())
    if isinstance(kind, m.Custom):
        return kind.data.kind, _first_line(event.text())
    data = getattr(kind, "data", None)
    if name in _CALL_LABELS and isinstance(data, m.HailModel):
        return label, _first_line(str(next(iter(data.model_dump().values()), "")))
    return label, _first_line(event.text()) or _blocks_note(event.content.blocks)


def _blocks_note(blocks: Sequence[Any]) -> str:
    """``[image] [file]`` for a message without text."""
    return " ".join(f"[{str(block.type).lower()}]" for block in blocks)


def _input_text(blocks: Sequence[Any]) -> str:
    for block in blocks:
        if isinstance(block, m.TextBlock):
            return block.text
        if isinstance(block, m.JsonBlock):
            return orjson.dumps(block.data, default=str).decode()
        if isinstance(block, m.CodeBlock):
            return block.code
    return ""


# --- the row ---


def row_text(entry: TimelineEntry, *, unfolded: bool, query: str = "") -> Text:
    """The one-line row of ``entry``: fold marker, time, label, preview; a failure is marked
    ``✗`` in red and the words of a search are highlighted."""
    label_style = "bold red" if entry.failed else _label_style(entry)
    row = Text(no_wrap=True, overflow="ellipsis", end="")
    row.append("▾ " if unfolded else "▸ ", style="dim")
    row.append(entry.time, style="dim")
    row.append(" ")
    label = f"✗ {entry.label}" if entry.failed else entry.label
    row.append(f"{label[:10]:<10}", style=label_style)
    # An unfolded message's body starts with the words the preview would repeat.
    if not (unfolded and entry.category in _PROSE):
        row.append(" ")
        row.append(entry.summary, style="italic dim" if entry.category == "thinking" else "")
    if query:
        row.highlight_words([query], style="reverse", case_sensitive=False)
    return row


def _label_style(entry: TimelineEntry) -> str:
    return LABEL_STYLES.get(entry.label) or _CATEGORY_STYLES.get(entry.category, "")


# --- the body ---


def entry_body(session: m.Session, entry: TimelineEntry, *, dark: bool = True) -> RenderableType:
    """What an unfolded entry shows under its row."""
    event = session.events[entry.index]
    kind = event.event_type
    theme = "ansi_dark" if dark else "ansi_light"
    parts: list[RenderableType] = []
    blocks = list(event.content.blocks)
    if isinstance(kind, m.UserMessage | m.AgentMessage | m.TaskStart | m.TaskEnd):
        if isinstance(kind, m.TaskEnd) and kind.data.summary:
            blocks.insert(0, m.TextBlock(text=kind.data.summary))
        parts += _prose(blocks, theme)
    elif isinstance(kind, m.Thinking):
        parts += [Text(output_text(event.text()), style="italic dim")]
    elif isinstance(kind, m.ShellCommand):
        command = kind.data.command
        # The row shows a short one-line command already.
        if "\n" in command.strip() or len(command) > COMMAND_IN_ROW:
            parts.append(Syntax(command, "bash", theme=theme, background_color="default"))
        parts += _plain(b for b in blocks if not _repeats(b, command))
    elif isinstance(kind, m.FileEdit):
        diff = edit_diff(event)
        parts.append(diff_text(diff) if diff else Text(kind.data.path))
        if not diff:
            parts += _plain(blocks)
    elif isinstance(kind, m.FileCreate):
        parts.append(_written(event, kind.data.path, theme))
    else:
        parts += _plain(blocks)
        data = _data(kind)
        if data:
            parts.append(Text(output_text(data), style="dim"))
    for index in entry.results:
        parts.append(_result(session.events[index]))
    return Group(*parts) if parts else Text("(no content)", style="dim")


def _prose(blocks: Sequence[Any], theme: str) -> Iterator[RenderableType]:
    for block in blocks:
        if isinstance(block, m.TextBlock):
            if len(block.text) > MARKDOWN_CHARS:
                yield Text(output_text(block.text))
            else:
                yield Markdown(block.text, code_theme=theme, hyperlinks=False)
        else:
            yield from _plain([block])


def _plain(blocks: Iterator[Any] | Sequence[Any]) -> Iterator[RenderableType]:
    """Blocks as plain output text (tool inputs and outputs are not Markdown)."""
    for block in blocks:
        if isinstance(block, m.TextBlock):
            yield Text(output_text(block.text))
        elif isinstance(block, m.CodeBlock):
            yield Text(output_text(block.code))
        elif isinstance(block, m.JsonBlock):
            text = orjson.dumps(block.data, option=orjson.OPT_INDENT_2, default=str).decode()
            yield Text(output_text(text), style="dim")
        elif isinstance(block, m.FileBlock):
            yield Text(block.path, style="cyan")
            if block.content:
                yield Text(output_text(block.content))
        else:
            target = getattr(block, "url", None) or getattr(block, "uri", None) or ""
            yield Text(f"[{str(block.type).lower()}] {target[:200]}", style="dim")


def _repeats(block: Any, command: str) -> bool:
    """A block repeating the shell command (the parsers add it as code)."""
    return isinstance(block, m.CodeBlock) and block.code.strip() == command.strip()


def _data(kind: Any) -> str:
    """The event type's data as JSON, for tool calls without a dedicated view."""
    data = getattr(kind, "data", None)
    if not isinstance(data, m.HailModel):
        return ""
    dumped = {key: value for key, value in data.model_dump().items() if key != "kind" and value}
    return orjson.dumps(dumped, option=orjson.OPT_INDENT_2, default=str).decode() if dumped else ""


def _result(event: m.Event) -> RenderableType:
    kind = event.event_type
    failed = is_failure(event)
    name = kind.data.name if isinstance(kind, m.ToolResult) else str(kind.type)
    heading = Text("✗ " if failed else "→ ", style="bold red" if failed else "dim")
    heading.append(f"{name} {'error' if failed else 'result'}", style="bold red" if failed else "")
    body = list(_plain(event.content.blocks)) or [Text("(no output)", style="dim")]
    return Group(heading, *body)


def _written(event: m.Event, path: str, theme: str) -> RenderableType:
    """A created file's content, highlighted for its name."""
    for block in event.content.blocks:
        content = None
        if isinstance(block, m.JsonBlock) and isinstance(block.data, dict):
            content = block.data.get("content")
        elif isinstance(block, m.CodeBlock | m.FileBlock):
            content = block.code if isinstance(block, m.CodeBlock) else block.content
        if isinstance(content, str):
            lexer = Syntax.guess_lexer(path, content[:2000])
            return Syntax(
                output_text(content), lexer, theme=theme, background_color="default", word_wrap=True
            )
    return Text(path, style="cyan")


def edit_diff(event: m.Event) -> str | None:
    """A file edit's unified diff: its own, a ``diff`` code block, or one made from an edit
    tool's ``old_string``/``new_string`` input."""
    kind = event.event_type
    if not isinstance(kind, m.FileEdit):
        return None
    if kind.data.diff:
        return kind.data.diff
    for block in event.content.blocks:
        if isinstance(block, m.CodeBlock) and block.language == "diff":
            return block.code
        if isinstance(block, m.JsonBlock) and isinstance(block.data, dict):
            old, new = block.data.get("old_string"), block.data.get("new_string")
            if isinstance(old, str) and isinstance(new, str):
                path = kind.data.path
                lines = difflib.unified_diff(
                    old.splitlines(), new.splitlines(), f"a/{path}", f"b/{path}", lineterm=""
                )
                return "\n".join(lines)
    return None


def diff_text(diff: str, limit: int = OUTPUT_LINES) -> Text:
    """A unified diff coloured line by line: additions green, removals red, hunks cyan; lines
    past ``limit`` folded into a count."""
    text = Text()
    lines = diff.rstrip("\n").splitlines()
    for line in lines[:limit]:
        if line.startswith(("+++", "---")):
            style = "bold"
        elif line.startswith("+"):
            style = "green"
        elif line.startswith("-"):
            style = "red"
        elif line.startswith("@@"):
            style = "cyan"
        else:
            style = ""
        text.append(line + "\n", style=style)
    if len(lines) > limit:
        text.append(f"… {len(lines) - limit} more lines", style="dim")
    text.rstrip()
    return text


def output_text(text: str) -> str:
    """``text`` cut to OUTPUT_LINES lines and OUTPUT_CHARS characters, saying how much more
    there is."""
    text = text.rstrip("\n")
    shown = text[:OUTPUT_CHARS].splitlines()[:OUTPUT_LINES]
    kept = "\n".join(shown)
    if len(kept) >= len(text):
        return text
    hidden = text.count("\n") + 1 - len(shown)
    more = f"{hidden} more lines" if hidden > 0 else f"{len(text) - len(kept)} more characters"
    return f"{kept}\n… {more} (o opens the source)"


def estimated_height(session: m.Session, entry: TimelineEntry, width: int) -> int:
    """Rows an unfolded entry's body takes, guessed from its text without rendering it (the
    body is measured exactly once it is on screen)."""
    event = session.events[entry.index]
    width = max(width, 10)
    lines = 0
    for line in output_text(event.text()).splitlines():
        lines += max(1, math.ceil(len(line) / width))
    return max(lines + event.text().count("\n\n"), 1)


# --- search ---


def search_text(session: m.Session, entry: TimelineEntry) -> str:
    """Everything an entry says (its label, text, inputs and results), casefolded."""
    parts = [entry.label, entry.summary]
    for index in (entry.index, *entry.results):
        event = session.events[index]
        data = getattr(event.event_type, "data", None)
        if isinstance(data, m.HailModel):
            parts += [str(value) for value in data.model_dump().values() if value]
        for block in event.content.blocks:
            if isinstance(block, m.TextBlock):
                parts.append(block.text)
            elif isinstance(block, m.CodeBlock):
                parts.append(block.code)
            elif isinstance(block, m.JsonBlock):
                parts.append(orjson.dumps(block.data, default=str).decode())
            elif isinstance(block, m.FileBlock):
                parts += [block.path, block.content or ""]
    return "\n".join(parts).casefold()
