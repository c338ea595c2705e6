"""Aider chat histories (``.aider.chat.history.md`` in a repository's root) as HAIL sessions.

Aider appends to one Markdown file for every run in a repository. What it writes, and so what
this parser reads (aider's ``io.py``):

* ``\\n# aider chat started at YYYY-MM-DD HH:MM:SS\\n\\n`` when a run starts (local time, no
  zone: read as UTC, and the session says so with ``timezone_assumed: UTC``);
* each user input as ``#### line`` lines, every line ending in a Markdown hard break (two
  spaces), preceded by a blank line: consecutive ``####`` lines are one (multi-line) input;
* each tool message as ``> text`` ending in a hard break; a message of several lines has the
  ``>`` on its first line only (a confirmation's subject, an edit error), the others follow it
  with no blank line in between (one may hold blank lines: an edit error's report);
* each assistant reply as its text between blank lines, with its edits as SEARCH/REPLACE
  blocks (a file path line, then a fence holding ``<<<<<<< SEARCH`` / ``=======`` /
  ``>>>>>>> REPLACE``; ``diff-fenced`` puts the path inside the fence).

The hard breaks tell a tool message or a user input from a reply's own Markdown quote or
``####`` heading. A file whose trailing spaces were stripped (an editor did it) is read by the
line prefixes alone.

A source *record* is one block: a run header, a user input (its ``####`` lines), a tool output
block (consecutive ``>`` messages with no blank line between them) or an assistant reply (the
text up to the next block). Every block of a run is accounted for in that run's session.

Mapping:

* one session per run (a run is one aider process); ``ParseResult.sessions`` holds the latest
  run first (the main session: the one still being written to), then the earlier runs in file
  order. All are primary sessions; ``run_index`` (file order) and ``run_count`` say where each
  run stands. The run header sets the session's start; it is skipped as a record unless the
  run has nothing else, when it becomes a SystemMessage (a session needs an event).
* a user input → UserMessage. A slash command (``/add``, ``/run``…, ``!cmd`` for ``/run``) is
  a UserMessage (what the user typed) followed by what it did: ShellCommand for ``/run``,
  ``/test`` and ``/git`` with a command, WebFetch for ``/web <url>``, ToolCall named
  ``/<command>`` otherwise. ``#### <blank>`` (an empty input) is skipped.
* a reply → Thinking for a leading ``<think>…</think>`` (or aider's reasoning tag) block, an
  AgentMessage with the reply's text (attributes ``model`` and ``aider.edit_format`` in force,
  or ``aider.chat_mode`` for the answer to a one-off ``/ask``, ``/code``… with a message),
  then one FileEdit per SEARCH/REPLACE block with a unified diff of the search text against
  the replacement (hunk line numbers are relative to the block: the file is not known); with
  the ``udiff`` edit format, one FileEdit per file of each ```` ```diff ```` fence.
* tool output → the banner and every other message as SystemMessages (consecutive messages
  joined), except: ``Tokens: 1.2k sent, … 300 received. Cost: $x message, $y session.`` →
  ``input_tokens``/``output_tokens`` (k/M suffixes read; ``cache_write_tokens``,
  ``cache_read_tokens``, ``cost_usd`` too) on the reply before it, the session's cost as the
  context's ``cost_usd_total`` (a report with no reply before it stays text);
  ``Applied edit to X`` → ``aider.applied: true`` on that reply's FileEdits of X (a FileEdit
  without diff, or a FileCreate after ``Create new file? … y``, when the reply had no block
  for X: the ``whole`` edit format); ``Commit <hash> <message>`` → Custom ``git_commit``;
  ``Running <cmd>`` (a shell command the reply suggested and the user accepted) →
  ShellCommand. The banner's
  ``Aider vX`` gives ``tool_version``, ``Main model: name with F edit format`` the model in
  force (``agent.model`` is the model most replies were written with) and the edit format;
  ``Weak model``, ``Editor model``, ``Git repo``, ``Cur working dir`` (→ ``cwd``),
  ``Git working dir`` and aider's command line become context attributes.

Timestamps: the log has only each run's start. Events are given the run's start plus 1 ms per
event, in order. When ``.aider.input.history`` is beside the file (prompt_toolkit's history:
``# <local time>`` then ``+line`` lines per input), a user input (or an accepted shell
command, logged there as ``/run <cmd>``) with the same text, at or after the run's start and
before the next run's, takes that entry's time, and the events after it count from there.
"""

from __future__ import annotations

import re
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from opensession.hail import model as m
from opensession.hail.stats import compute_stats
from opensession.parsers.base import (
    SOURCE_RECORDS_ATTRIBUTE,
    Detection,
    ParseResult,
    ParseWarning,
    SessionParseError,
    SessionParser,
    SourceRecords,
)
from opensession.parsers.common import (
    file_time,
    keep_timestamps_in_order,
    provider_for_model,
    title_from_text,
)
from opensession.parsers.tool_events import tool_call_blocks, unified_diff

TOOL = "aider"
CHAT_HISTORY_NAME = ".aider.chat.history.md"
INPUT_HISTORY_NAME = ".aider.input.history"

_HEADER_PREFIX = "# aider chat started at"
_HEADER = re.compile(r"# aider chat started at (\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2})\s*$")
_HEADER_FORMAT = "%Y-%m-%d %H:%M:%S"
_HARD_BREAK_LINE = re.compile(r"^(?:>|####).*  $", re.MULTILINE)
_SESSION_NAMESPACE = uuid.UUID("7f2b8f1e-3c52-5a0e-9d0c-5a1de7a1d3e1")

_COMMAND = re.compile(r"/([\w-]+)\s*(.*)", re.DOTALL)
_CONFIRM_ANSWER = re.compile(r"\(Y\)es/\(N\)o.*\]: ?\w*$")
_SHELL_COMMANDS = frozenset({"run", "test"})
_CHAT_MODES = frozenset({"ask", "code", "architect", "context", "help"})

_SEARCH = re.compile(r"<{5,9} SEARCH>?\s*$")
_DIVIDER = re.compile(r"={5,9}\s*$")
_REPLACE = re.compile(r">{5,9} REPLACE\s*$")
_REASONING_OPEN = re.compile(r"\s*<(think|thinking|thinking-content-[0-9a-f]+)>")

_TOKEN_COUNT = re.compile(r"([\d.,]+)([kKmM]?) (sent|received|cache write|cache hit|cache read)")
_COST = re.compile(r"Cost: \$([\d.]+) message, \$([\d.]+) session")
_APPLIED = re.compile(r"Applied edit to (.+)")
_COMMIT = re.compile(r"Commit ([0-9a-f]{7,40}) (.*)")
_RUNNING = re.compile(r"Running (\S.*)")
_NEW_FILE = re.compile(r"Create new file\?.*\]: (\w+)")
_VERSION = re.compile(r"Aider v(\S+)")
_MODEL = re.compile(r"(?:Main model|Models?): (\S+) with (\S+) edit format")
_WEAK_MODEL = re.compile(r"Weak model: (\S+)")
_EDITOR_MODEL = re.compile(r"Editor model: (\S+) with (\S+) edit format")
_GIT_REPO = re.compile(r"Git repo: (.+?)(?: with [\d,]+ files)?")
_CWD = re.compile(r"Cur working dir: (.+)")
_GIT_WORKING_DIR = re.compile(r"Git working dir: (.+)")
_COMMAND_LINE = re.compile(r"(?:\S*[/\\])?aider(?:\.exe)?(?:\s.*)?")
_MULTIPLIERS = {"": 1, "k": 1_000, "m": 1_000_000}
_TOKEN_ATTRIBUTES = {
    "sent": "input_tokens",
    "received": "output_tokens",
    "cache write": "cache_write_tokens",
    "cache hit": "cache_read_tokens",
    "cache read": "cache_read_tokens",
}


# --- The file as blocks ---


@dataclass
class _Block:
    """One record: a run header, a user input, a tool output block or an assistant reply."""

    kind: Literal["header", "user", "output", "reply"]
    line: int
    """The 1-based number of its first line."""
    lines: list[str] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)
    """An output block's messages, ``>`` removed, one string each."""


class _BlockReader:
    """Cuts a chat history's lines into blocks, by the grammar aider writes them in."""

    def __init__(self, lines: list[str], strict: bool) -> None:
        self.lines = lines
        self.count = len(lines)
        self.strict = strict
        """The file keeps aider's hard breaks, which then delimit inputs and tool messages."""

    def is_header(self, line: str) -> bool:
        return line.startswith(_HEADER_PREFIX)

    def is_user(self, line: str) -> bool:
        if not line.startswith("####") or (len(line) > 4 and line[4] != " "):
            return False
        return not self.strict or line.endswith("  ")

    def _is_block_start(self, line: str) -> bool:
        return line.startswith(">") or self.is_header(line) or self.is_user(line)

    def read(self) -> list[_Block]:
        """Every block of the file, in order."""
        blocks: list[_Block] = []
        lines, index = self.lines, 0
        attached = False  # the line before was the end of an input or a tool message
        while index < self.count:
            line = lines[index]
            if not line:
                index, attached = index + 1, False
            elif self.is_header(line):
                blocks.append(_Block("header", index + 1, [line]))
                index, attached = index + 1, False
            elif self.is_user(line):
                end = index + 1
                while end < self.count and self.is_user(lines[end]):
                    end += 1
                blocks.append(_Block("user", index + 1, lines[index:end]))
                index, attached = end, True
            elif line.startswith(">") and (output := self._output(index, attached)):
                blocks.append(output[0])
                index, attached = output[1], True
            else:
                end = self._reply_end(index)
                reply = lines[index:end]
                while reply and not reply[-1].strip():
                    reply.pop()
                blocks.append(_Block("reply", index + 1, reply))
                index, attached = end, False
        return blocks

    def _output(self, index: int, attached: bool) -> tuple[_Block, int] | None:
        """The tool output block starting at ``index``, and the index after it; None when the
        ``>`` line is a reply's Markdown quote instead."""
        start, messages = index, []
        while index < self.count and self.lines[index].startswith(">"):
            end = self._message_end(index, gaps=attached or bool(messages))
            if end is None:
                break
            messages.append(_message_text(self.lines[index:end]))
            index = end
        if not messages:
            return None
        return _Block("output", start + 1, messages=messages), index

    def _message_end(self, index: int, gaps: bool) -> int | None:
        """The index after the tool message starting at ``index``; None when it does not end
        as aider ends one before a blank line (only a message right after another message or
        an input may hold blank lines: ``gaps``)."""
        lines = self.lines
        while True:
            following = index + 1
            if following >= self.count:
                ends = gaps or not self.strict or lines[index].endswith("  ")
                return self.count if ends else None
            line = lines[following]
            boundary = not line or self._is_block_start(line)
            if not self.strict:
                if boundary:
                    return following
            elif lines[index].endswith("  ") and boundary:
                return following
            elif not line and not gaps:
                return None
            elif line and not line.startswith(">") and boundary:
                return following
            index = following

    def _reply_end(self, index: int) -> int:
        lines = self.lines
        end = index + 1
        while end < self.count:
            line = lines[end]
            first = line[:1]
            if first == "#" and (self.is_header(line) or self.is_user(line)):
                break
            if (
                first == ">"
                and not lines[end - 1]
                and self._message_end(end, gaps=False) is not None
            ):
                break
            end += 1
        return end


def _message_text(lines: list[str]) -> str:
    first = lines[0][1:]
    first = first[1:] if first.startswith(" ") else first
    text = "\n".join([first.rstrip(), *(line.rstrip() for line in lines[1:])])
    return text.strip("\n")


def _user_text(lines: list[str]) -> str:
    return "\n".join(line[5:].rstrip() for line in lines).strip("\n")


def _normalized(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.split("\n")).strip()


def _read_text(path: Path) -> str:
    try:
        text = path.read_bytes().decode("utf-8", errors="replace")
    except OSError as exc:
        raise SessionParseError(path, exc.strerror or str(exc)) from None
    return text.removeprefix("\ufeff").replace("\r\n", "\n")


# --- Runs ---


@dataclass
class _Run:
    """One aider process: its header (None for text before the file's first header)."""

    header: _Block | None
    start: datetime
    start_text: str
    blocks: list[_Block] = field(default_factory=list)
    ordinal: int = 0
    """How many earlier runs of the file started in the same second (-1: the text before the
    file's first header)."""


def _runs(blocks: list[_Block], path: Path, warnings: list[ParseWarning]) -> list[_Run]:
    runs: list[_Run] = []
    loose: list[_Block] = []
    seen: Counter[str] = Counter()
    for block in blocks:
        if block.kind != "header":
            (runs[-1].blocks if runs else loose).append(block)
            continue
        match = _HEADER.match(block.lines[0])
        if match:
            start_text = match.group(1)
            start = datetime.strptime(start_text, _HEADER_FORMAT).replace(tzinfo=UTC)
        else:
            reason = f"a run header without a readable time: {block.lines[0]!r}"
            warnings.append(ParseWarning(str(path), reason, block.line))
            start = runs[-1].start if runs else file_time(path)
            start_text = start.strftime(_HEADER_FORMAT)
        runs.append(_Run(block, start, start_text, ordinal=seen[start_text]))
        seen[start_text] += 1
    if loose:
        reason = f"text before the first {_HEADER_PREFIX!r} line; read as a run of its own"
        warnings.append(ParseWarning(str(path), reason, loose[0].line))
        start = runs[0].start if runs else file_time(path)
        runs.insert(0, _Run(None, start, start.strftime(_HEADER_FORMAT), loose, ordinal=-1))
    return runs


# --- The input history: per-input times ---


class _InputHistory:
    """``.aider.input.history``: the time of each input, looked up by the input's text."""

    def __init__(self, entries: list[tuple[datetime, str]]) -> None:
        self._times: dict[str, list[datetime]] = {}
        for when, text in entries:
            self._times.setdefault(_normalized(text), []).append(when)
        self._next: Counter[str] = Counter()

    @classmethod
    def beside(cls, path: Path, warnings: list[ParseWarning]) -> tuple[_InputHistory, Path] | None:
        """The input history kept beside the chat history ``path``, if there is one."""
        name = path.name
        prefix = name[: -len(CHAT_HISTORY_NAME)] if name.endswith(CHAT_HISTORY_NAME) else ""
        candidate = path.with_name(prefix + INPUT_HISTORY_NAME)
        if not candidate.is_file():
            return None
        try:
            text = candidate.read_bytes().decode("utf-8", errors="replace")
        except OSError as exc:
            warnings.append(ParseWarning(str(candidate), f"unreadable ({exc.strerror or exc})"))
            return None
        return cls(_input_entries(text)), candidate

    def take(self, text: str, not_before: datetime, before: datetime | None) -> datetime | None:
        """The time of the first unused input of ``text`` in ``[not_before, before)``."""
        key = _normalized(text)
        times = self._times.get(key)
        if not times:
            return None
        index = self._next[key]
        while index < len(times) and times[index] < not_before:
            index += 1
        if index >= len(times) or (before is not None and times[index] >= before):
            self._next[key] = index
            return None
        self._next[key] = index + 1
        return times[index]


def _input_entries(text: str) -> list[tuple[datetime, str]]:
    entries: list[tuple[datetime, str]] = []
    when: datetime | None = None
    lines: list[str] = []
    for line in text.replace("\r\n", "\n").split("\n"):
        if line.startswith("# "):
            if when is not None:
                entries.append((when, "\n".join(lines)))
            when, lines = _local_time(line[2:]), []
        elif line.startswith("+") and when is not None:
            lines.append(line[1:])
    if when is not None:
        entries.append((when, "\n".join(lines)))
    return entries


def _local_time(text: str) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


# --- One run into one session ---


def _count(value: str, suffix: str) -> int:
    return round(float(value.replace(",", "")) * _MULTIPLIERS[suffix.lower()])


def _usage(text: str) -> dict[str, Any]:
    """The token counts and cost of a ``Tokens: …`` report, as event attributes."""
    usage: dict[str, Any] = {}
    for value, suffix, kind in _TOKEN_COUNT.findall(text):
        try:
            usage[_TOKEN_ATTRIBUTES[kind]] = _count(value, suffix)
        except ValueError:
            continue
    if cost := _COST.search(text):
        usage["cost_usd"] = float(cost.group(1))
        usage["cost_usd_session"] = float(cost.group(2))
    return usage


def _split_reasoning(text: str) -> tuple[str | None, str]:
    """A reply's leading reasoning block (``<think>…</think>``) and the rest."""
    opening = _REASONING_OPEN.match(text)
    if opening is None:
        return None, text
    closing = f"</{opening.group(1)}>"
    end = text.find(closing, opening.end())
    if end < 0:
        return text[opening.end() :].strip(), ""
    return text[opening.end() : end].strip(), text[end + len(closing) :].strip()


def _filename_before(lines: list[str], index: int) -> str | None:
    """The file a SEARCH block at ``index`` edits: the nearest line before it that is not a
    fence (within three lines), or a path written right after the fence's backticks."""
    for line in reversed(lines[max(0, index - 3) : index]):
        stripped = line.strip()
        if stripped.startswith("```"):
            candidate = stripped[3:].strip()
            if "." in candidate or "/" in candidate:
                return candidate
            continue
        name = stripped.rstrip(":").lstrip("#").strip().strip("`").strip("*").strip()
        return name or None
    return None


def _joined(lines: list[str]) -> str:
    return "".join(line + "\n" for line in lines)


def _search_replace_edits(lines: list[str]) -> list[tuple[str, str, str]]:
    """``(path, search, replace)`` for each complete SEARCH/REPLACE block of a reply."""
    edits: list[tuple[str, str, str]] = []
    path: str | None = None
    index, count = 0, len(lines)
    while index < count:
        if not (lines[index].startswith("<<<<<") and _SEARCH.match(lines[index])):
            index += 1
            continue
        path = _filename_before(lines, index) or path
        divider = replace = None
        probe = index + 1
        while probe < count and replace is None:
            line = lines[probe]
            if divider is None and line.startswith("=====") and _DIVIDER.match(line):
                divider = probe
            elif divider is not None and line.startswith(">>>>>") and _REPLACE.match(line):
                replace = probe
            elif line.startswith("<<<<<") and _SEARCH.match(line):
                break
            probe += 1
        if divider is None or replace is None:
            index = probe
            continue
        if path:
            edits.append(
                (path, _joined(lines[index + 1 : divider]), _joined(lines[divider + 1 : replace]))
            )
        index = replace + 1
    return edits


def _udiff_edits(lines: list[str]) -> list[tuple[str, str]]:
    """``(path, diff)`` for each file of each ```` ```diff ```` fence of a reply."""
    edits: list[tuple[str, str]] = []
    index, count = 0, len(lines)
    while index < count:
        if lines[index].strip() != "```diff":
            index += 1
            continue
        end = index + 1
        while end < count and lines[end].strip() != "```":
            end += 1
        edits.extend(_diff_files(lines[index + 1 : end]))
        index = end + 1
    return edits


def _diff_files(lines: list[str]) -> list[tuple[str, str]]:
    files: list[tuple[str, str]] = []
    starts = [
        i
        for i in range(len(lines) - 1)
        if lines[i].startswith("--- ") and lines[i + 1].startswith("+++ ")
    ]
    for position, start in enumerate(starts):
        end = starts[position + 1] if position + 1 < len(starts) else len(lines)
        path = lines[start + 1][4:].strip()
        if path.startswith("b/") and lines[start][4:].strip().startswith("a/"):
            path = path[2:]
        if path:
            files.append((path, _joined(lines[start:end])))
    return files


def _same_path(one: str, other: str) -> bool:
    one, other = one.strip().replace("\\", "/"), other.strip().replace("\\", "/")
    return one == other or one.endswith("/" + other) or other.endswith("/" + one)


class _RunBuilder:
    """Builds the session of one run, one block at a time."""

    def __init__(
        self,
        path: Path,
        run: _Run,
        next_start: datetime | None,
        history: _InputHistory | None,
    ) -> None:
        self.path = path
        self.run = run
        self.next_start = next_start
        self.history = history
        self.events: list[m.Event] = []
        self.records = SourceRecords()
        self.attributes: dict[str, Any] = {}
        self.version: str | None = None
        self.model: str | None = None
        self.first_model: str | None = None
        self.edit_format: str | None = None
        self.reply_models: Counter[str] = Counter()
        self.title: str | None = None
        self.command_title: str | None = None
        self._anchor = run.start
        self._since_anchor = 0
        self._awaiting_usage: m.Event | None = None
        self._pending_edits: list[m.Event] = []
        self._new_files: set[str] = set()
        self._one_off_mode: tuple[str, str] | None = None
        """``(mode, message)`` of a ``/ask message``-like command: the reply it gets is written
        in that chat mode, whatever edit format was announced."""

    # events

    def _add(
        self,
        event_type: m.HailModel,
        blocks: list[m.HailModel],
        line: int,
        attributes: dict[str, Any] | None = None,
        when: datetime | None = None,
    ) -> m.Event:
        if when is not None:
            self._anchor, self._since_anchor = when, 0
        timestamp = self._anchor + timedelta(milliseconds=self._since_anchor)
        self._since_anchor += 1
        event = m.Event(
            event_id=f"{TOOL}-{len(self.events) + 1}",
            timestamp=timestamp,
            event_type=event_type,
            content=m.Content(blocks=blocks),
            attributes={"source.line": line, **(attributes or {})},
        )
        self.events.append(event)
        return event

    def _input_time(self, text: str) -> datetime | None:
        if self.history is None:
            return None
        return self.history.take(text, self.run.start, self.next_start)

    # blocks

    def add(self, block: _Block) -> None:
        """Map one block of the run (its header excepted) and account for it."""
        if block.kind == "user":
            self._user(block)
        elif block.kind == "reply":
            self._reply(block)
        elif block.kind == "output":
            self._output(block)

    def _user(self, block: _Block) -> None:
        text = _user_text(block.lines)
        self._awaiting_usage = None
        self._pending_edits = []
        if not text.strip() or text == "<blank>":
            self.records.skip("blank input")
            return
        if "\n" not in text and _CONFIRM_ANSWER.search(text):
            self._add(m.SystemMessage(), [m.TextBlock(text=text)], block.line)
            self.records.mapped += 1
            return
        if self._one_off_mode and text != self._one_off_mode[1]:
            self._one_off_mode = None
        when = self._input_time(text)
        command = _command(text)
        if command and command[0] in _CHAT_MODES and command[1]:
            self._one_off_mode = command
        attributes = {"aider.command": f"/{command[0]}"} if command else None
        self._add(m.UserMessage(), [m.TextBlock(text=text)], block.line, attributes, when)
        if command is None:
            self.title = self.title or title_from_text(text)
        else:
            self.command_title = self.command_title or title_from_text(text)
            event_type, arguments = _command_event(*command)
            self._add(event_type, tool_call_blocks(event_type, arguments), block.line, attributes)
        self.records.mapped += 1

    def _reply(self, block: _Block) -> None:
        text = "\n".join(block.lines).strip("\n")
        self._pending_edits = []
        self._new_files.clear()
        thinking, answer = _split_reasoning(text)
        attributes: dict[str, Any] = {}
        if self.model:
            attributes["model"] = self.model
            self.reply_models[self.model] += 1
        if self._one_off_mode:
            attributes["aider.chat_mode"] = self._one_off_mode[0]
            self._one_off_mode = None
        elif self.edit_format:
            attributes["aider.edit_format"] = self.edit_format
        if thinking:
            self._awaiting_usage = self._add(
                m.Thinking(), [m.TextBlock(text=thinking)], block.line, dict(attributes)
            )
        if answer.strip():
            self._awaiting_usage = self._add(
                m.AgentMessage(), [m.TextBlock(text=answer)], block.line, dict(attributes)
            )
        for path, search, replace in _search_replace_edits(block.lines):
            self._edit(path, unified_diff(path, search, replace), block.line)
        if self.edit_format and self.edit_format.startswith("udiff"):
            for path, diff in _udiff_edits(block.lines):
                self._edit(path, diff, block.line)
        self.records.mapped += 1

    def _edit(self, path: str, diff: str | None, line: int) -> None:
        event_type = m.FileEdit(data=m.FileEditData(path=path, diff=diff or None))
        event = self._add(event_type, tool_call_blocks(event_type, None), line)
        self._pending_edits.append(event)

    def _output(self, block: _Block) -> None:
        before, folded = len(self.events), False
        text: list[str] = []
        for index, message in enumerate(block.messages):
            if not message.strip():
                continue
            if "\n" not in message and self._special(message, block, index, text):
                folded = True
                continue
            self._banner(message)
            text.append(message)
        self._flush(text, block.line)
        if len(self.events) > before:
            self.records.mapped += 1
        elif folded:
            self.records.merged += 1
        else:
            self.records.skip("empty output")

    def _flush(self, text: list[str], line: int) -> None:
        if text:
            self._add(m.SystemMessage(), [m.TextBlock(text="\n".join(text))], line)
            text.clear()

    def _special(self, message: str, block: _Block, index: int, text: list[str]) -> bool:
        """Map a message that is more than text; True when it was (``text`` so far is written
        first, to keep the order)."""
        if message.startswith("Tokens: "):
            return self._tokens(message)
        if applied := _APPLIED.fullmatch(message):
            self._flush(text, block.line)
            self._applied(applied.group(1).strip(), block.line)
            return True
        if commit := _COMMIT.fullmatch(message):
            self._flush(text, block.line)
            attributes = {"git.commit_hash": commit.group(1), "git.commit_message": commit.group(2)}
            blocks = [m.TextBlock(text=commit.group(2))]
            event_type = m.Custom(data=m.CustomData(kind="git_commit"))
            self._add(event_type, blocks, block.line, attributes)
            return True
        if running := _RUNNING.fullmatch(message):
            self._flush(text, block.line)
            command = running.group(1).strip()
            event_type = m.ShellCommand(data=m.ShellCommandData(command=command))
            when = self._input_time(f"/run {command}")
            self._add(event_type, tool_call_blocks(event_type, None), block.line, None, when)
            return True
        answer = _NEW_FILE.match(message)
        if answer and index > 0 and answer.group(1).lower().startswith("y"):
            self._new_files.add(block.messages[index - 1].strip())
        return False

    def _tokens(self, message: str) -> bool:
        usage = _usage(message)
        target = self._awaiting_usage
        if target is None or "input_tokens" not in usage:
            return False
        target.attributes.update(usage)
        self.attributes["cost_usd_total"] = usage.get("cost_usd_session")
        self._awaiting_usage = None
        return True

    def _applied(self, path: str, line: int) -> None:
        """``Applied edit to path``: aider wrote the reply's edits of that file (one message
        for all its blocks)."""
        new_file = path in self._new_files
        self._new_files.discard(path)
        edits = [
            event
            for event in self._pending_edits
            if isinstance(event.event_type, m.FileEdit)
            and _same_path(event.event_type.data.path, path)
        ]
        for event in edits:
            event.attributes["aider.applied"] = True
            if new_file:
                event.attributes["aider.new_file"] = True
            self._pending_edits.remove(event)
        if edits:
            return
        if new_file:
            self._add(m.FileCreate(data=m.PathData(path=path)), [], line, {"aider.applied": True})
        else:
            event_type = m.FileEdit(data=m.FileEditData(path=path))
            self._add(event_type, [], line, {"aider.applied": True})

    def _banner(self, message: str) -> None:
        """Read what a tool message tells of the run (it stays in the text too)."""
        if (version := _VERSION.fullmatch(message)) and self.version is None:
            self.version = version.group(1)
        elif model := _MODEL.match(message):
            self.model, self.edit_format = model.group(1), model.group(2)
            self.first_model = self.first_model or self.model
            self.attributes.setdefault("aider.edit_format", self.edit_format)
        elif weak := _WEAK_MODEL.match(message):
            self.attributes["aider.weak_model"] = weak.group(1)
        elif editor := _EDITOR_MODEL.match(message):
            self.attributes["aider.editor_model"] = editor.group(1)
        elif (repo := _GIT_REPO.fullmatch(message)) and repo.group(1) != "none":
            self.attributes["aider.git_repo"] = repo.group(1)
        elif cwd := _CWD.fullmatch(message):
            self.attributes["cwd"] = cwd.group(1).strip()
        elif git_dir := _GIT_WORKING_DIR.fullmatch(message):
            self.attributes["aider.git_working_dir"] = git_dir.group(1).strip()
        elif _COMMAND_LINE.fullmatch(message):
            self.attributes.setdefault("aider.command_line", message)

    # the session

    def build(self, input_history: Path | None) -> m.Session | None:
        """The run's session (its header accounted for here); None for text before the file's
        first header that holds nothing to show."""
        header = self.run.header
        if header is not None:
            if self.events:
                self.records.skip("run header")
            else:
                self._add(m.SystemMessage(), [m.TextBlock(text=header.lines[0][2:])], header.line)
                self.records.mapped += 1
        events = self.events
        if not events:
            return None
        keep_timestamps_in_order(events)
        model = (
            self.reply_models.most_common(1)[0][0]
            if self.reply_models
            else self.first_model or "unknown"
        )
        provider = provider_for_model(model)
        if provider == "unknown" and "/" in model:
            provider = model.split("/", 1)[0]
        return m.Session(
            session_id=self._session_id(),
            agent=m.Agent(provider=provider, model=model, tool=TOOL, tool_version=self.version),
            context=m.Context(
                title=self.title or self.command_title,
                tags=[TOOL],
                created_at=events[0].timestamp,
                updated_at=events[-1].timestamp,
                attributes=self._context_attributes(input_history),
            ),
            events=events,
            stats=compute_stats(events),
        )

    def _session_id(self) -> str:
        where = f"{self.path.resolve().parent.name}/{self.path.name}"
        key = f"{TOOL}:{where}:{self.run.start_text}:{self.run.ordinal}"
        return str(uuid.uuid5(_SESSION_NAMESPACE, key))

    def _context_attributes(self, input_history: Path | None) -> dict[str, Any]:
        attributes: dict[str, Any] = {
            key: value for key, value in self.attributes.items() if value is not None
        }
        if "cwd" not in attributes:
            working_dir = attributes.get("aider.git_working_dir")
            if working_dir:
                attributes["cwd"] = working_dir
            elif self.path.name == CHAT_HISTORY_NAME:
                attributes["cwd"] = str(self.path.resolve().parent)
        attributes.update(
            {
                "source_path": str(self.path),
                "session_role": "primary",
                "timezone_assumed": "UTC",
                SOURCE_RECORDS_ATTRIBUTE: self.records.to_attribute(),
            }
        )
        if input_history is not None:
            attributes["aider.input_history"] = str(input_history)
        return attributes


def _command(text: str) -> tuple[str, str] | None:
    """``(name, arguments)`` of a slash command (``!cmd`` is ``/run cmd``), else None."""
    if text.startswith("!"):
        return "run", text[1:].strip()
    if not text.startswith("/"):
        return None
    match = _COMMAND.fullmatch(text)
    if match is None:
        return None
    return match.group(1).lower(), match.group(2).strip()


def _command_event(name: str, arguments: str) -> tuple[m.HailModel, Any]:
    """The event a slash command maps to, and the arguments to show with it."""
    if name in _SHELL_COMMANDS and arguments:
        return m.ShellCommand(data=m.ShellCommandData(command=arguments)), None
    if name == "git":
        return m.ShellCommand(data=m.ShellCommandData(command=f"git {arguments}".strip())), None
    if name == "web" and arguments:
        return m.WebFetch(data=m.UrlData(url=arguments)), {"url": arguments}
    return m.ToolCall(data=m.NameData(name=f"/{name}")), {"args": arguments} if arguments else None


# --- The parser ---


class AiderParser(SessionParser):
    """Aider's ``.aider.chat.history.md``: one session per run of aider in the file."""

    tool = TOOL

    def detect(self, path: Path, head: bytes) -> Detection | None:
        """A file starting with aider's run header; a file (or a folder holding one) named
        like aider's chat history."""
        if path.is_dir():
            if (path / CHAT_HISTORY_NAME).is_file():
                return Detection(TOOL, 60, f"a folder holding {CHAT_HISTORY_NAME}")
            return None
        named = path.name.endswith(CHAT_HISTORY_NAME)
        start = head.removeprefix(b"\xef\xbb\xbf").lstrip()
        if start.startswith(_HEADER_PREFIX.encode()):
            reason = f"starts with {_HEADER_PREFIX!r}"
            return Detection(TOOL, 98 if named else 95, reason)
        if named and (b"\n" + _HEADER_PREFIX.encode() in head or b"\n#### " in head):
            return Detection(TOOL, 80, f"named {CHAT_HISTORY_NAME}, with aider's markers inside")
        if named:
            return Detection(TOOL, 50, f"named {CHAT_HISTORY_NAME}")
        return None

    def parse(self, path: Path) -> ParseResult:
        """Every run of the chat history at ``path`` (or in the folder ``path``), the latest
        first."""
        if path.is_dir():
            path = path / CHAT_HISTORY_NAME
        warnings: list[ParseWarning] = []
        text = _read_text(path)
        strict = _HARD_BREAK_LINE.search(text) is not None
        runs = _runs(_BlockReader(text.split("\n"), strict).read(), path, warnings)
        if not runs:
            raise SessionParseError(path, "no aider chat history in the file (it is empty)")
        found = _InputHistory.beside(path, warnings)
        history, history_path = found if found else (None, None)
        sessions = []
        for index, run in enumerate(runs):
            following = runs[index + 1].start if index + 1 < len(runs) else None
            builder = _RunBuilder(path, run, following, history)
            for block in run.blocks:
                builder.add(block)
            session = builder.build(history_path)
            if session is not None:
                sessions.append(session)
            else:
                reason = "the text before the first run header holds nothing to show; left out"
                warnings.append(ParseWarning(str(path), reason, run.blocks[0].line))
        if not sessions:
            raise SessionParseError(path, "no aider chat history in the file")
        for index, session in enumerate(sessions):
            session.context.attributes["run_index"] = index
            session.context.attributes["run_count"] = len(sessions)
        return ParseResult(sessions=[sessions[-1], *sessions[:-1]], warnings=warnings)


PARSER = AiderParser()
