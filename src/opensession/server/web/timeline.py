"""The session detail's timeline: HAIL events as view items for the templates (pure functions).

The input is the HAIL JSONL body the blob store holds. One pass over every event's decoded JSON
folds tool results under their calls, groups tasks, cuts the timeline into pages and draws the
minimap; only the events of the page shown are validated and rendered. Validating all the
events of a 5,000-event session alone would take half of the page's time budget.

Session content is untrusted: text is escaped (Jinja autoescape, Pygments), Markdown is rendered
with raw HTML off, and a URL becomes a link or an image only when it is ``http(s)`` (or a
``data:`` URL of the block's own media type).
"""

from __future__ import annotations

import difflib
import itertools
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache, lru_cache
from typing import Any

import orjson
from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict
from markupsafe import Markup, escape
from pydantic import ValidationError
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexer import Lexer
from pygments.lexers import get_lexer_by_name, get_lexer_for_filename
from pygments.util import ClassNotFound

from opensession.hail import model as m
from opensession.hail.categories import EVENT_CATEGORIES
from opensession.hail.errors import HailFormatError
from opensession.hail.markdown import format_duration
from opensession.hail.pairing import EventKeys
from opensession.hail.pairing import pair_results as pair_by_call
from opensession.hail.stats import compute_stats, diff_line_counts

PAGE_EVENTS = 500
"""Events per page at most (a call and the results folded under it stay on one page)."""
PAGE_BYTES = 1_000_000
"""Bytes of event JSON per page at most (an output counted up to what is rendered of it), so
that a page of large outputs stays well under a few megabytes of HTML; a page holds one entry
at least."""
OUTPUT_LINES = 12
"""Lines of a long output shown before its "show all"."""
OUTPUT_CHARS = 1_500
"""Characters of a long output shown before its "show all"."""
OUTPUT_LIMIT = 60_000
"""Characters of one output rendered at all; the rest is only in the raw download."""
DIFF_LINES = 60
"""Lines of a diff shown before its "show all"."""
DIFF_LIMIT = 2_000
"""Lines of a diff rendered at all."""
HIGHLIGHT_LIMIT = 20_000
"""Longer code is shown without syntax highlighting: Pygments lexes a few hundred kilobytes
a second."""
HIGHLIGHT_REST = 2_500
"""Of a longer output, only the part shown at first is highlighted (the part behind "show all"
is plain text), so that a page of written files renders in a fraction of a second."""
PREVIEW_CHARS = 140
"""Characters of the one-line preview of a collapsed event."""
MINIMAP_CELLS = 120
"""Cells of the minimap strip at most."""

FILTERS: tuple[tuple[str, str, str], ...] = (
    ("1", "message", "messages"),
    ("2", "tool", "tool calls"),
    ("3", "file", "file changes"),
    ("4", "shell", "shell"),
    ("5", "thinking", "thinking"),
)
"""The event filters: (key, category, label)."""

_CALL_LABELS = {
    "FileRead": "read",
    "CodeSearch": "search",
    "FileSearch": "find files",
    "WebSearch": "web search",
    "WebFetch": "fetch",
    "ImageGenerate": "generate image",
    "VideoGenerate": "generate video",
    "AudioGenerate": "generate audio",
}
_CHANGE_LABELS = {"FileEdit": "edit", "FileCreate": "create", "FileDelete": "delete"}
_HUNK = re.compile(r"@@ -(\d+)(?:,\d+)? \+(\d+)(?:,\d+)? @@")
_FORMATTER = HtmlFormatter(nowrap=True)


# --- the body ---


@dataclass(frozen=True)
class SessionBody:
    """A stored session: its header and stats validated, its events as decoded JSON."""

    header: m.Header
    stats: m.Stats
    records: list[dict[str, Any]]
    sizes: list[int]
    """Bytes of each event's JSON line."""


def read_body(body: bytes) -> SessionBody:
    """A HAIL JSONL body, its events left unvalidated; lines that are not JSON objects are
    skipped. Stats are recomputed (validating every event) only when the body has none."""
    lines = body.splitlines()
    try:
        first = orjson.loads(lines[0]) if lines else None
        if not isinstance(first, dict) or first.pop("type", None) != "header":
            raise HailFormatError("session body", "the first line is not a HAIL header", 1)
        header = m.Header.model_validate(first)
    except (orjson.JSONDecodeError, ValidationError) as exc:
        raise HailFormatError("session body", f"unreadable header: {exc}", 1) from None
    records: list[dict[str, Any]] = []
    sizes: list[int] = []
    stats: m.Stats | None = None
    for line in lines[1:]:
        try:
            record = orjson.loads(line)
        except orjson.JSONDecodeError:
            continue
        if not isinstance(record, dict):
            continue
        kind = record.pop("type", None)
        if kind == "event":
            records.append(record)
            sizes.append(len(line))
        elif kind == "stats":
            try:
                stats = m.Stats.model_validate(record)
            except ValidationError:
                stats = None
    if stats is None:
        stats = compute_stats(event for event in map(validated, records) if event is not None)
    return SessionBody(header, stats, records, sizes)


def validated(record: dict[str, Any]) -> m.Event | None:
    """The event a decoded record holds; None when it is not a valid HAIL event."""
    try:
        return m.Event.model_validate(record)
    except ValidationError:
        return None


def _event_type(record: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """A record's event type name and its ``data`` (empty when absent or malformed)."""
    kind = record.get("event_type")
    if not isinstance(kind, dict):
        return "?", {}
    data = kind.get("data")
    return str(kind.get("type", "?")), data if isinstance(data, dict) else {}


def call_id(record: dict[str, Any]) -> str | None:
    """The call id of a record: ``semantic.call_id``, then a ToolResult's ``call_id``, then the
    legacy ``call_id`` attribute (HAIL's order)."""
    return _call_id(record, *_event_type(record))


def _call_id(record: dict[str, Any], kind: str, data: dict[str, Any]) -> str | None:
    attributes = record.get("attributes")
    attributes = attributes if isinstance(attributes, dict) else {}
    candidates = (
        attributes.get("semantic.call_id"),
        data.get("call_id") if kind == "ToolResult" else None,
        attributes.get("call_id"),
    )
    return next((value for value in candidates if isinstance(value, str) and value), None)


def _task_id(record: dict[str, Any]) -> str | None:
    value = record.get("task_id")
    return (value.strip() or None) if isinstance(value, str) else None


def _is_failure(kind: str, data: dict[str, Any]) -> bool:
    if kind == "ToolResult":
        return data.get("is_error") is True
    if kind == "ShellCommand":
        code = data.get("exit_code")
        return isinstance(code, int) and code != 0
    return False


def _record_text(record: dict[str, Any]) -> str:
    content = record.get("content")
    blocks = content.get("blocks") if isinstance(content, dict) else None
    texts = [
        block["text"]
        for block in blocks or ()
        if isinstance(block, dict)
        and block.get("type") == "Text"
        and isinstance(block.get("text"), str)
    ]
    return "\n\n".join(texts)


# --- the plan: every event at once, none of them validated ---


def pair_results(records: Sequence[dict[str, Any]]) -> dict[int, list[int]]:
    """The tool results of each call, by event index (``hail.pairing.pair_results``), from
    the records as read."""
    return pair_by_call(_pairing_keys(record) for record in records)


def _pairing_keys(record: dict[str, Any]) -> EventKeys:
    kind, data = _event_type(record)
    event_id = record.get("event_id")
    return (
        kind == "ToolResult",
        _call_id(record, kind, data),
        event_id if isinstance(event_id, str) else None,
    )


@dataclass(frozen=True, slots=True)
class Entry:
    """One entry of the timeline: an event, the results folded under it, and where it sits."""

    index: int
    results: tuple[int, ...]
    groups: tuple[int, ...]
    """Numbers of the task groups it is in, outermost first."""
    category: str
    failed: bool
    page: int


@dataclass
class TaskGroup:
    """A task or sub-agent: its TaskStart, the events carrying its task id, its TaskEnd.

    A group started by a TaskStart also holds the events without a task id until its TaskEnd
    (a Codex turn, the main agent waiting on a sub-agent); one without a TaskStart holds only a
    run of events carrying its id. Groups nest, and each holds a contiguous run of entries: an
    event of an outer group closes the groups opened inside it.
    """

    number: int
    task_id: str
    title: str
    page: int
    first: int
    """Event index of its first entry."""
    agent: str | None = None
    """The sub-agent's session id, when a TaskStart or TaskEnd names one."""
    agent_type: str | None = None
    started: bool = False
    ended: bool = False
    entries: int = 0
    failures: int = 0


@dataclass(frozen=True, slots=True)
class MinimapCell:
    """A stretch of the timeline in the minimap: its main category, how busy it was (1-4)."""

    index: int
    """Event index of its first entry (the anchor it links to)."""
    page: int
    category: str
    density: int
    failed: bool
    label: str


@dataclass(frozen=True)
class Plan:
    entries: list[Entry]
    pages: list[tuple[int, int]]
    """Each page's [start, end) in ``entries``."""
    groups: list[TaskGroup]
    minimap: list[MinimapCell]


def plan_timeline(body: SessionBody) -> Plan:
    """Fold, group, paginate and map the whole session."""
    records = body.records
    results = pair_results(records)
    folded = {index for found in results.values() for index in found}
    tops = [index for index in range(len(records)) if index not in folded]
    page_of = _paginate(tops, results, body.sizes)
    entries, groups = _group(records, list(map(_event_type, records)), tops, results, page_of)
    pages: list[tuple[int, int]] = []
    for number, entry in enumerate(entries):
        if not pages or entry.page > len(pages):
            pages.append((number, number + 1))
        else:
            pages[-1] = (pages[-1][0], number + 1)
    return Plan(entries, pages or [(0, 0)], groups, _minimap(records, entries))


def _paginate(tops: list[int], results: dict[int, list[int]], sizes: list[int]) -> list[int]:
    """The page of each top-level event: at most PAGE_EVENTS events and PAGE_BYTES a page."""
    pages: list[int] = []
    page, count, weight = 1, 0, 0
    for index in tops:
        events = (index, *results.get(index, ()))
        size = sum(min(sizes[i], OUTPUT_LIMIT) for i in events)
        if count and (count + len(events) > PAGE_EVENTS or weight + size > PAGE_BYTES):
            page, count, weight = page + 1, 0, 0
        pages.append(page)
        count += len(events)
        weight += size
    return pages


def _group(
    records: list[dict[str, Any]],
    types: list[tuple[str, dict[str, Any]]],
    tops: list[int],
    results: dict[int, list[int]],
    page_of: list[int],
) -> tuple[list[Entry], list[TaskGroup]]:
    groups: list[TaskGroup] = []
    open_groups: list[TaskGroup] = []
    entries: list[Entry] = []

    def close_runs() -> None:
        # A group without a TaskStart holds only a run of events carrying its id.
        while open_groups and not open_groups[-1].started:
            open_groups.pop()

    def new_group(task_id: str, index: int, page: int, started: bool) -> TaskGroup:
        kind, data = types[index]
        title = data.get("title") if kind == "TaskStart" else None
        group = TaskGroup(
            number=len(groups) + 1,
            task_id=task_id,
            title=title if isinstance(title, str) and title.strip() else "",
            page=page,
            first=index,
            started=started,
        )
        groups.append(group)
        return group

    for index, page in zip(tops, page_of, strict=True):
        record = records[index]
        kind = types[index][0]
        task = _task_id(record)
        open_ids = [group.task_id for group in open_groups]
        ending: TaskGroup | None = None
        if task is not None and task in open_ids:
            while open_groups[-1].task_id != task:
                open_groups.pop()
            if kind == "TaskEnd":
                ending = open_groups[-1]
        elif task is not None:
            close_runs()
            group = new_group(task, index, page, started=kind == "TaskStart")
            open_groups.append(group)
            if kind == "TaskEnd":
                ending = group
        else:
            close_runs()
        failed = any(_is_failure(*types[i]) for i in (index, *results.get(index, ())))
        for group in open_groups:
            group.entries += 1
            group.failures += failed
        _describe_group(open_groups[-1] if open_groups else None, record, kind)
        entries.append(
            Entry(
                index=index,
                results=tuple(results.get(index, ())),
                groups=tuple(group.number for group in open_groups),
                category=EVENT_CATEGORIES.get(kind, "other"),
                failed=failed,
                page=page,
            )
        )
        if ending is not None:
            ending.ended = True
            open_groups.remove(ending)
    for group in groups:
        group.title = group.title or f"task {group.task_id[:12]}"
    return entries, groups


def _describe_group(group: TaskGroup | None, record: dict[str, Any], kind: str) -> None:
    """Learn a group's sub-agent from its TaskStart/TaskEnd and, lacking a title, take its
    first user message's first line as one."""
    if group is None:
        return
    attributes = record.get("attributes")
    if kind in ("TaskStart", "TaskEnd") and isinstance(attributes, dict):
        agent, agent_type = attributes.get("subagent_session_id"), attributes.get("subagent_type")
        group.agent = group.agent or (agent if isinstance(agent, str) else None)
        group.agent_type = group.agent_type or (agent_type if isinstance(agent_type, str) else None)
    if not group.title and kind == "UserMessage":
        group.title = _first_line(_record_text(record), 80)


def _timestamp(record: dict[str, Any]) -> datetime | None:
    value = record.get("timestamp")
    try:
        return datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _minimap(records: list[dict[str, Any]], entries: list[Entry]) -> list[MinimapCell]:
    """Up to MINIMAP_CELLS stretches of equal numbers of entries, each coloured by its main
    category and shaded by its pace (events a minute, ranked among the stretches)."""
    if not entries:
        return []
    count = min(len(entries), MINIMAP_CELLS)
    bounds = [round(number * len(entries) / count) for number in range(count + 1)]
    stretches = [entries[start:end] for start, end in itertools.pairwise(bounds)]
    paces = []
    for stretch in stretches:
        first, last = _timestamp(records[stretch[0].index]), _timestamp(records[stretch[-1].index])
        seconds = (last - first).total_seconds() if first and last else 0.0
        paces.append(len(stretch) / max(seconds / 60, 1 / 60))
    ranks = {
        number: rank for rank, number in enumerate(sorted(range(count), key=paces.__getitem__))
    }
    cells = []
    for number, stretch in enumerate(stretches):
        categories = Counter(entry.category for entry in stretch)
        shown = Counter({name: n for name, n in categories.items() if name != "other"})
        main = (shown or categories).most_common(1)[0][0]
        failures = sum(entry.failed for entry in stretch)
        parts = [f"{n} {name}" for name, n in categories.most_common()]
        if failures:
            parts.append(f"{failures} failed")
        cells.append(
            MinimapCell(
                index=stretch[0].index,
                page=stretch[0].page,
                category=main,
                density=1 + ranks[number] * 4 // count,
                failed=failures > 0,
                label=f"events {stretch[0].index + 1}-{stretch[-1].index + 1}: " + ", ".join(parts),
            )
        )
    return cells


# --- search over the whole session ---


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            if key != "type":
                yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def search_session(body: SessionBody, plan: Plan, query: str) -> dict[int, list[int]]:
    """The entries (event indices) whose text, results included, holds ``query`` (any case),
    by page."""
    needle = query.casefold()
    found: dict[int, list[int]] = {}
    if not needle.strip():
        return found
    for entry in plan.entries:
        for index in (entry.index, *entry.results):
            record = body.records[index]
            parts = [*_strings(record.get("event_type")), *_strings(record.get("content"))]
            if needle in "\n".join(parts).casefold():
                found.setdefault(entry.page, []).append(entry.index)
                break
    return found


# --- rendering one page ---


@dataclass(frozen=True)
class Output:
    """Text shown in a ``<pre>``: its first lines, the rest behind a "show all"."""

    head: Markup
    rest: Markup | None = None
    more_lines: int = 0
    omitted: int = 0
    """Characters left out altogether (only in the raw download)."""


@dataclass(frozen=True)
class BlockView:
    """A content block as shown: ``kind`` is markdown, output, code, image, video, audio, file,
    json, reference, media_text (a media URL not safe to load, shown as text) or unknown."""

    kind: str
    html: Markup | None = None
    output: Output | None = None
    url: str | None = None
    label: str = ""
    note: str = ""


@dataclass(frozen=True)
class DiffLine:
    kind: str
    """add, del, hunk, meta or ctx."""
    old: int | None
    new: int | None
    text: str
    """The line as in the diff, its ``+``/``-``/`` `` first."""


@dataclass(frozen=True)
class DiffView:
    lines: list[DiffLine]
    rest: list[DiffLine]
    added: int
    removed: int
    omitted: int
    """Lines left out altogether."""


@dataclass(frozen=True)
class ResultView:
    """A tool result shown under its call (or alone when it names no call)."""

    index: int
    name: str
    failed: bool
    blocks: list[BlockView]


@dataclass
class EventView:
    """What the template shows of one event. ``view`` picks its layout: message, system,
    thinking, call, shell, change, result, task_start, task_end or generic."""

    index: int
    kind: str
    view: str
    category: str
    time: str
    timestamp: str
    label: str
    detail: str = ""
    full_detail: str = ""
    """The detail before it was shortened (a path relative to the working directory)."""
    href: str | None = None
    blocks: list[BlockView] = field(default_factory=list)
    results: list[ResultView] = field(default_factory=list)
    command: Markup | None = None
    exit_code: int | None = None
    failed: bool = False
    diff: DiffView | None = None
    open: bool = False
    """Shown unfolded (a generated image, video or sound is what the event is for)."""
    preview: str = ""
    duration: str = ""
    data: Markup | None = None
    agent: str | None = None
    matched: bool = False

    @property
    def anchor(self) -> str:
        return f"e-{self.index}"


@dataclass
class GroupNode:
    """A task group on a page, with its entries (and groups nested in it)."""

    group: TaskGroup
    children: list[GroupNode | EventView]
    continued: bool
    """Begun on an earlier page."""


def page_items(
    body: SessionBody, plan: Plan, page: int, matched: Sequence[int] = ()
) -> list[GroupNode | EventView]:
    """The entries of page ``page`` (1-based) as a tree of task groups; ``matched`` are the
    event indices a search found."""
    start, end = plan.pages[page - 1]
    found = set(matched)
    root: list[GroupNode | EventView] = []
    stack: list[tuple[int, list[GroupNode | EventView]]] = []
    for entry in plan.entries[start:end]:
        depth = 0
        while depth < min(len(stack), len(entry.groups)) and stack[depth][0] == entry.groups[depth]:
            depth += 1
        del stack[depth:]
        for number in entry.groups[depth:]:
            group = plan.groups[number - 1]
            node = GroupNode(group, [], continued=group.page < page)
            (stack[-1][1] if stack else root).append(node)
            stack.append((number, node.children))
        view = entry_view(body, entry)
        view.matched = entry.index in found
        (stack[-1][1] if stack else root).append(view)
    return root


def entry_view(body: SessionBody, entry: Entry) -> EventView:
    """An entry's event and its results, validated and rendered."""
    record = body.records[entry.index]
    event = validated(record)
    if event is None:
        return _unreadable(entry.index, record)
    results = []
    for index in entry.results:
        result = validated(body.records[index])
        if result is not None:
            results.append((index, result))
    return event_view(event, entry.index, results, cwd=working_directory(body.header))


def working_directory(header: m.Header) -> str | None:
    """The session's working directory (``cwd``, else ``working_directory``), if recorded."""
    attributes = header.context.attributes
    cwd = attributes.get("cwd") or attributes.get("working_directory")
    return cwd.rstrip("/") if isinstance(cwd, str) and cwd.strip("/") else None


def _unreadable(index: int, record: dict[str, Any]) -> EventView:
    kind, _ = _event_type(record)
    timestamp = record.get("timestamp")
    return EventView(
        index=index,
        kind=kind,
        view="generic",
        category="other",
        time="",
        timestamp=timestamp if isinstance(timestamp, str) else "",
        label=f"unreadable {kind} event",
        data=_json(record),
    )


def event_view(
    event: m.Event,
    index: int,
    results: Sequence[tuple[int, m.Event]] = (),
    *,
    cwd: str | None = None,
) -> EventView:
    """One event as shown, with the results of its call (index, event) under it; paths under
    ``cwd`` are shown relative to it."""
    kind = event.event_type
    name = str(kind.type)
    view = EventView(
        index=index,
        kind=name,
        view="generic",
        category=EVENT_CATEGORIES.get(name, "other"),
        time=event.timestamp.astimezone(UTC).strftime("%H:%M:%S"),
        timestamp=m.format_timestamp(event.timestamp),
        label=name,
        results=[_result_view(i, result) for i, result in results],
    )
    if event.duration_ms is not None and event.duration_ms >= 0:
        view.duration = _milliseconds(event.duration_ms)
    blocks = event.content.blocks
    view.failed = any(result.failed for result in view.results)
    if isinstance(kind, m.UserMessage | m.AgentMessage):
        view.view, view.label = "message", "user" if isinstance(kind, m.UserMessage) else "agent"
        view.blocks = _blocks(blocks, prose=True, breaks=isinstance(kind, m.UserMessage))
    elif isinstance(kind, m.SystemMessage):
        view.view, view.label = "system", "system"
        view.blocks = _blocks(blocks, prose=False)
    elif isinstance(kind, m.Thinking):
        view.view, view.label = "thinking", "thinking"
        view.blocks = _blocks(blocks, prose=True)
        view.preview = _first_line(event.text(), PREVIEW_CHARS)
    elif isinstance(kind, m.ShellCommand):
        _shell(view, kind.data, blocks)
    elif isinstance(kind, m.FileEdit | m.FileCreate | m.FileDelete):
        _change(view, kind, blocks)
    elif isinstance(kind, m.ToolResult):
        view.view, view.label, view.detail = "result", "result", kind.data.name
        view.results = [_result_view(index, event), *view.results]
        view.failed = any(result.failed for result in view.results)
        view.preview = _first_line(event.text(), PREVIEW_CHARS)
    elif isinstance(kind, m.ToolCall) or name in _CALL_LABELS:
        _call(view, kind, blocks)
    elif isinstance(kind, m.TaskStart):
        view.view, view.label = "task_start", "task started"
        view.detail = kind.data.title or ""
        # Codex writes "task started" as the text of every turn's start: the label says it.
        said = [
            b
            for b in blocks
            if not (isinstance(b, m.TextBlock) and b.text.strip() == "task started")
        ]
        view.blocks = _blocks(said, prose=True)
        view.agent = _attribute(event, "subagent_session_id")
    elif isinstance(kind, m.TaskEnd):
        view.view, view.label = "task_end", "task done"
        summary = [m.TextBlock(text=kind.data.summary)] if kind.data.summary else []
        view.blocks = _blocks([*summary, *blocks], prose=True)
        view.agent = _attribute(event, "subagent_session_id")
    else:
        view.label = kind.data.kind if isinstance(kind, m.Custom) else f"{name} (unknown type)"
        view.blocks = _blocks(blocks, prose=False)
        data = kind.model_dump(mode="json").get("data")
        if isinstance(kind, m.Custom):
            data = {key: value for key, value in data.items() if key != "kind"}
        shown = {"data": data, "attributes": event.attributes}
        shown = {key: value for key, value in shown.items() if value}
        view.data = _json(shown) if shown else None
    if cwd and view.view in ("call", "change") and view.detail.startswith(cwd + "/"):
        view.full_detail, view.detail = view.detail, view.detail[len(cwd) + 1 :]
    return view


def _attribute(event: m.Event, name: str) -> str | None:
    value = event.attributes.get(name)
    return value if isinstance(value, str) and value else None


def _shell(view: EventView, data: m.ShellCommandData, blocks: list[Any]) -> None:
    view.view, view.label, view.detail = "shell", "shell", data.command
    view.command = _highlighted(data.command, "bash")
    view.exit_code = data.exit_code
    view.failed = view.failed or (data.exit_code is not None and data.exit_code != 0)
    # The parsers repeat the command as a Code block.
    kept = [
        b
        for b in blocks
        if not (isinstance(b, m.CodeBlock) and b.code.strip() == data.command.strip())
    ]
    view.blocks = _blocks(kept, prose=False)


def _change(
    view: EventView, kind: m.FileEdit | m.FileCreate | m.FileDelete, blocks: list[Any]
) -> None:
    view.view, view.label, view.detail = "change", _CHANGE_LABELS[str(kind.type)], kind.data.path
    path = kind.data.path
    kept = list(blocks)
    if isinstance(kind, m.FileEdit):
        diff = kind.data.diff
        code = next(
            (b for b in blocks if isinstance(b, m.CodeBlock) and b.language == "diff"), None
        )
        if diff is None and code is not None:
            diff = code.code
        if diff is None:
            diff = next(filter(None, (_edit_diff(b, path) for b in blocks)), None)
        if diff is not None:
            view.diff = diff_view(diff)
            kept = [b for b in blocks if not _repeats_diff(b, diff)]
    elif isinstance(kind, m.FileCreate):
        kept = [_written_file(b) for b in blocks]
    view.blocks = _blocks(kept, prose=False, path=path)


def _repeats_diff(block: Any, diff: str) -> bool:
    """A block the diff already shows: the diff as code, or an edit's old/new strings."""
    if isinstance(block, m.CodeBlock):
        return block.code == diff
    return isinstance(block, m.JsonBlock) and _edit_strings(block) is not None


def _edit_strings(block: m.JsonBlock) -> tuple[str, str] | None:
    data = block.data
    if not isinstance(data, dict):
        return None
    old, new = data.get("old_string"), data.get("new_string")
    return (old, new) if isinstance(old, str) and isinstance(new, str) else None


def _edit_diff(block: Any, path: str) -> str | None:
    """A unified diff of an edit tool's ``old_string``/``new_string`` input."""
    strings = _edit_strings(block) if isinstance(block, m.JsonBlock) else None
    if strings is None:
        return None
    old, new = (text.splitlines(keepends=True) for text in strings)
    lines = difflib.unified_diff(old, new, f"a/{path}", f"b/{path}", lineterm="")
    return "\n".join(line.rstrip("\n") for line in lines)


def _written_file(block: Any) -> Any:
    """A write tool's ``{"content": ...}`` input as the code it writes (highlighted for the
    event's path)."""
    if isinstance(block, m.JsonBlock) and isinstance(block.data, dict):
        content = block.data.get("content")
        if isinstance(content, str):
            return m.CodeBlock(code=content)
    return block


def _call(view: EventView, kind: Any, blocks: list[Any]) -> None:
    name = str(kind.type)
    view.view = "call"
    if isinstance(kind, m.ToolCall):
        view.label = kind.data.name
        view.preview = _first_line(_input_text(blocks), PREVIEW_CHARS)
    else:
        view.label = _CALL_LABELS[name]
        view.detail = str(next(iter(kind.data.model_dump().values()), ""))
        if isinstance(kind, m.WebFetch):
            view.href = safe_url(kind.data.url)
        view.open = isinstance(kind, m.ImageGenerate | m.VideoGenerate | m.AudioGenerate)
        # A tool's input that only repeats the path, query or URL shown already.
        blocks = [b for b in blocks if not _only(b, view.detail)]
    view.blocks = _blocks(blocks, prose=False)


def _only(block: Any, value: str) -> bool:
    """A JSON block holding ``value`` and nothing else."""
    data = block.data if isinstance(block, m.JsonBlock) else None
    return isinstance(data, dict) and bool(data) and all(item == value for item in data.values())


def _input_text(blocks: list[Any]) -> str:
    for block in blocks:
        if isinstance(block, m.TextBlock):
            return block.text
        if isinstance(block, m.JsonBlock):
            return orjson.dumps(block.data).decode()
        if isinstance(block, m.CodeBlock):
            return block.code
    return ""


def _result_view(index: int, event: m.Event) -> ResultView:
    kind = event.event_type
    if isinstance(kind, m.ToolResult):
        name, failed = kind.data.name, kind.data.is_error
    else:
        name, failed = str(kind.type), False
    return ResultView(index, name, failed, _blocks(event.content.blocks, prose=False))


# --- content blocks ---


def _blocks(
    blocks: Sequence[Any], *, prose: bool, breaks: bool = False, path: str | None = None
) -> list[BlockView]:
    """Blocks as shown: Text as Markdown in ``prose`` (messages, thinking), else as output."""
    return [block_view(block, prose=prose, breaks=breaks, path=path) for block in blocks]


def block_view(
    block: Any, *, prose: bool = True, breaks: bool = False, path: str | None = None
) -> BlockView:
    """One content block as shown."""
    if isinstance(block, m.TextBlock):
        if prose:
            return BlockView("markdown", html=render_markdown(block.text, breaks=breaks))
        return BlockView("output", output=output(block.text))
    if isinstance(block, m.CodeBlock):
        note = f"from line {block.start_line}" if block.start_line is not None else ""
        language = block.language or ""
        return BlockView(
            "code",
            output=output(block.code, language=language, filename=path),
            label=language,
            note=note,
        )
    if isinstance(block, m.ImageBlock | m.VideoBlock | m.AudioBlock):
        media = str(block.type).lower()
        url = safe_url(block.url, media=media)
        label = (block.alt if isinstance(block, m.ImageBlock) else None) or block.mime
        return BlockView(
            media if url else "media_text", url=url, label=label, note=_shortened(block.url)
        )
    if isinstance(block, m.FileBlock):
        content = output(block.content, filename=block.path) if block.content is not None else None
        return BlockView("file", output=content, label=block.path)
    if isinstance(block, m.JsonBlock):
        text = orjson.dumps(block.data, option=orjson.OPT_INDENT_2, default=str).decode()
        return BlockView("json", output=output(text, language="json"))
    if isinstance(block, m.ReferenceBlock):
        return BlockView(
            "reference", url=safe_url(block.uri), label=block.uri, note=block.media_type
        )
    return BlockView("unknown", html=_json(block.model_dump(mode="json")), label=str(block.type))


def safe_url(url: str, media: str | None = None) -> str | None:
    """``url`` when it may be a link or a media source: ``http(s)``, or for ``media`` (image,
    video, audio) a ``data:`` URL of that type; None otherwise (it is shown as text)."""
    cleaned = url.strip()
    lowered = cleaned.lower()
    if lowered.startswith(("http://", "https://")) and not any(c.isspace() for c in cleaned):
        return cleaned
    if media is not None and lowered.startswith(f"data:{media}/"):
        return cleaned
    return None


def _shortened(url: str) -> str:
    return url if len(url) <= 120 else url[:117] + "…"


# --- text, code, diffs ---


def output(text: str, *, language: str = "", filename: str | None = None) -> Output:
    """Text for a ``<pre>``, highlighted when a language or file name names a lexer: the first
    OUTPUT_LINES lines (or OUTPUT_CHARS characters) and the rest, up to OUTPUT_LIMIT in all."""
    omitted = max(0, len(text) - OUTPUT_LIMIT)
    text = text[:OUTPUT_LIMIT].rstrip("\n")
    cut = _cut(text)
    lexer = _lexer(language) if language else (_file_lexer(filename) if filename else None)
    head, rest = text[:cut], text[cut:].removeprefix("\n")
    if not rest:
        return Output(_highlight(head, lexer), omitted=omitted)
    shown = _highlight(head, lexer)
    more = _highlight(rest, lexer if len(text) <= HIGHLIGHT_REST else None)
    return Output(shown, more, rest.count("\n") + 1, omitted)


def _cut(text: str) -> int:
    """Where the shown part of ``text`` ends: after OUTPUT_LINES lines or OUTPUT_CHARS
    characters (at a line's end when one is near)."""
    end = -1
    for _ in range(OUTPUT_LINES):
        end = text.find("\n", end + 1)
        if end < 0:
            end = len(text)
            break
    if end > OUTPUT_CHARS:
        newline = text.rfind("\n", 0, OUTPUT_CHARS)
        end = newline if newline > OUTPUT_CHARS // 2 else OUTPUT_CHARS
    rest = text[end:]
    # A "show all" for a line or two more would only be in the way.
    return len(text) if rest.count("\n") <= 2 and len(rest) <= 300 else end


def _highlight(text: str, lexer: Lexer | None) -> Markup:
    if lexer is None or len(text) > HIGHLIGHT_LIMIT:
        return escape(text)
    html = highlight(text, lexer, _FORMATTER)
    # The formatter ends every line with a newline, the last one too.
    return Markup(html if text.endswith("\n") else html.removesuffix("\n"))


def _highlighted(code: str, language: str) -> Markup:
    return _highlight(code, _lexer(language))


# Bounded: the names come from the sessions, and a session may name any number of them.
@lru_cache(maxsize=256)
def _lexer(language: str) -> Lexer | None:
    """The Pygments lexer for a language name or alias; None when Pygments knows none."""
    try:
        return get_lexer_by_name(language.strip().lower(), stripnl=False, ensurenl=False)
    except ClassNotFound:
        return None


def _file_lexer(path: str) -> Lexer | None:
    name = path.rsplit("/", 1)[-1]
    suffix = name.rsplit(".", 1)[-1] if "." in name else name
    return _suffix_lexer(suffix.lower())


@lru_cache(maxsize=256)
def _suffix_lexer(suffix: str) -> Lexer | None:
    try:
        return get_lexer_for_filename(f"file.{suffix}", stripnl=False, ensurenl=False)
    except ClassNotFound:
        return None


def _json(data: Any) -> Markup:
    text = orjson.dumps(data, option=orjson.OPT_INDENT_2, default=str).decode()
    if len(text) > OUTPUT_LIMIT:
        return escape(text[:OUTPUT_LIMIT] + "\n…")
    return _highlighted(text, "json")


def diff_view(diff: str) -> DiffView:
    """A unified diff as lines with their old and new line numbers; the first DIFF_LINES
    shown, the rest behind a "show all", beyond DIFF_LIMIT left out."""
    added, removed = diff_line_counts(diff)
    lines: list[DiffLine] = []
    all_lines = diff.rstrip("\n").split("\n")
    old = new = 0
    for text in all_lines[:DIFF_LIMIT]:
        hunk = _HUNK.match(text)
        if hunk:
            old, new = int(hunk.group(1)), int(hunk.group(2))
            lines.append(DiffLine("hunk", None, None, text))
        elif text.startswith(("+++", "---", "diff ", "index ", "\\")):
            lines.append(DiffLine("meta", None, None, text))
        elif text.startswith("+"):
            lines.append(DiffLine("add", None, new, text))
            new += 1
        elif text.startswith("-"):
            lines.append(DiffLine("del", old, None, text))
            old += 1
        else:
            lines.append(DiffLine("ctx", old, new, text))
            old, new = old + 1, new + 1
    return DiffView(
        lines[:DIFF_LINES],
        lines[DIFF_LINES:],
        added,
        removed,
        max(0, len(all_lines) - DIFF_LIMIT),
    )


def _first_line(text: str, limit: int) -> str:
    """The first line with words in it, without Markdown's emphasis and heading marks."""
    line = next((line.strip() for line in text.splitlines() if line.strip("*_#` ")), "")
    line = line.replace("**", "").replace("__", "").strip("*_# ")
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _milliseconds(value: int) -> str:
    if value < 1000:
        return f"{value} ms"
    if value < 60_000:
        return f"{value / 1000:.1f} s"
    return format_duration(value // 1000)


# --- Markdown ---


def _link_open(
    self: RendererHTML, tokens: Sequence[Token], index: int, options: OptionsDict, env: EnvType
) -> str:
    tokens[index].attrSet("rel", "nofollow noopener noreferrer")
    return self.renderToken(tokens, index, options, env)


def _fence_highlight(code: str, language: str, _attributes: str) -> str:
    lexer = _lexer(language) if language else None
    if lexer is None or len(code) > HIGHLIGHT_LIMIT:
        return ""  # markdown-it escapes it in a plain <pre><code>
    return f'<pre class="hl"><code>{highlight(code, lexer, _FORMATTER)}</code></pre>'


@cache
def _markdown(breaks: bool) -> MarkdownIt:
    """CommonMark with tables and strikethrough; raw HTML off (session text is untrusted), so
    tags are shown as text, and links only of the schemes markdown-it deems safe."""
    markdown = MarkdownIt(
        "commonmark", {"html": False, "breaks": breaks, "highlight": _fence_highlight}
    ).enable(["table", "strikethrough"])
    markdown.add_render_rule("link_open", _link_open)
    return markdown


def render_markdown(text: str, *, breaks: bool = False) -> Markup:
    """Markdown as safe HTML (``breaks``: a newline is a line break, as people type)."""
    return Markup(_markdown(breaks).render(text))
