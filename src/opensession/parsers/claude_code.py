"""Claude Code session logs: ``~/.claude/projects/<project>/<session>.jsonl``.

Each line is one JSON record with a ``type``. Conversation records (``user``, ``assistant``,
``system``) carry ``uuid``, ``parentUuid``, ``sessionId``, ``timestamp``, ``cwd``, ``gitBranch``,
``version``, ``isSidechain`` and a ``message`` in the Anthropic API shape (``role``, ``content``
as a string or a block list, ``model``, ``id``, ``usage``). Bookkeeping records (``progress``,
``queue-operation``, ``file-history-snapshot``, ``agent-name``) hold nothing for HAIL;
``summary`` and ``custom-title`` (``/rename``) records name the session. Sub-agents write their
own logs, ``<session>/subagents/agent-<id>.jsonl`` (older versions: ``agent-<id>.jsonl`` beside
the session); ``agent-acompact-*`` logs are the runs that summarise the conversation when its
context is compacted.

Mapping (a *record* is one JSON-object line; each is mapped, merged or skipped by name):

* One model response is streamed over several ``assistant`` records sharing ``message.id``, each
  usually with one content block: every distinct block becomes one event (``text`` →
  AgentMessage, ``thinking`` → Thinking without its signature, ``tool_use`` → the event type of
  ``tool_events``, ``Task``/``Agent`` → TaskStart). The response's first record counts as mapped,
  the others as merged. Its usage is counted once, on its first event, each counter at its
  largest value over the records: ``input_tokens`` is ``input_tokens +
  cache_creation_input_tokens + cache_read_input_tokens`` (every prompt token the model read, as
  OpenAI-style tools count them and ccusage totals them), the parts kept in
  ``uncached_input_tokens``, ``cache_creation_input_tokens`` and ``cache_read_input_tokens``.
* A ``user`` record of ``tool_result`` blocks gives ToolResult events (TaskEnd for a sub-agent's
  result), paired with their call by ``tool_use_id``, else by order. The record's
  ``toolUseResult`` refines the call: an edit's ``structuredPatch`` becomes its diff (real line
  numbers), a Write the result calls an ``update`` becomes a FileEdit (as does one of a file read
  or written before), and a shell call gets its exit code: the ``Exit code N`` an error result
  starts with, 1 for any other error, 0 for a success, none when the user rejected the call, it
  was interrupted, went to the background or Claude Code read its status as not an error.
* User text is a UserMessage, except what Claude Code wrote itself: ``isMeta`` records, compaction
  summaries, ``<system-reminder>``, ``<task-notification>`` and local command output are
  SystemMessages; ``[Request interrupted by user…]`` is a Custom ``interrupted`` event. A slash
  command (``<command-name>``) is a UserMessage reading ``/name args``.
* ``system`` records with text are SystemMessages; ``compact_boundary`` is a Custom
  ``context_compacted`` event; the ones without text (turn durations, hook summaries) are
  skipped. ``isApiErrorMessage`` assistant records are SystemMessages.
* Sidechain records inside a main log (older versions ran sub-agents inline) take the task id
  of the Task call they answer when it can be told (by their parent chain, their prompt, or the
  only open task), and always the attribute ``sidechain: true``.
* The title is the last ``custom-title``, else the last ``summary`` (even one whose ``leafUuid``
  points into another session), else the first line of the first real user message. The model
  is the one of most responses; session facts (cwd, branch, version…) come from the first
  records that have them.
* A sub-agent log is an auxiliary session whose id is its ``agentId`` (the id the Task result and
  TaskStart/TaskEnd's ``subagent_session_id`` name), its parent the records' ``sessionId``;
  compaction runs are auxiliary sessions too (``agent_kind: compaction``): they cost tokens.

Speed: ``progress`` records are recognised from their bytes and counted without being decoded
(a corrupt line that looks like one is counted as one, without a warning); events are kept as
plain data until built, then validated by pydantic in one batch (each once, again only if a
later record changed it), and the cycle collector is paused while a log is read.
"""

from __future__ import annotations

import mimetypes
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from pydantic import TypeAdapter

from opensession.hail import model as m
from opensession.hail.stats import compute_stats
from opensession.parsers.append_only import AppendOnlyParser
from opensession.parsers.base import (
    SOURCE_RECORDS_ATTRIBUTE,
    Detection,
    ParseResult,
    ParseWarning,
    SessionParseError,
    SourceRecords,
)
from opensession.parsers.common import (
    file_time,
    first_json_lines,
    parse_timestamp,
    provider_for_model,
    title_from_text,
)
from opensession.parsers.tool_events import tool_call_blocks, tool_event_type, tool_kind

TOOL = "claude-code"

_SKIPPED_TYPES = frozenset({"progress", "queue-operation", "file-history-snapshot", "agent-name"})
_TITLE_TYPES = frozenset({"summary", "custom-title"})
_CLAUDE_TYPES = frozenset({"user", "assistant", "system"}) | _SKIPPED_TYPES | _TITLE_TYPES
_ID_KEYS = ("sessionId", "uuid", "parentUuid", "leafUuid", "messageId")
_TASK_TOOLS = frozenset({"Task", "Agent"})
_SYNTHETIC_MODEL = "<synthetic>"
_TYPE_KEY = b'"type":"'
_PROGRESS = b'progress"'
_TYPE_SCAN = 2048
_BACKSLASH = ord("\\")
_TITLE_SCAN = 4096  # a title comes from the first line: never split a huge message whole

_INTERRUPTED = "[Request interrupted by user"
_REJECTED = "The user doesn't want to proceed with this tool use"
_SYSTEM_PREFIXES = ("<system-reminder>", "<task-notification>", "<local-command-caveat>")
_OUTPUTS = ("local-command-stdout", "local-command-stderr", "bash-stdout", "bash-stderr")
_OUTPUT_PREFIXES = tuple(f"<{tag}>" for tag in _OUTPUTS)
_EXIT_CODE = re.compile(r"(?:Error: )?Exit code (\d+)")
_TAG = re.compile(r"<(command-name|command-args|bash-input)>(.*?)</\1>", re.DOTALL)
_OUTPUT_TAG = re.compile(f"</?(?:{'|'.join(_OUTPUTS)})>")
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_CACHE_READ = "cache_read_input_tokens"
_USAGE_FIELDS = ("input_tokens", "output_tokens", "cache_creation_input_tokens", _CACHE_READ)
_CONTEXT_ATTRIBUTES = (
    ("cwd", "cwd"), ("version", "version"), ("entrypoint", "originator"),
    ("userType", "user_type"), ("slug", "slug"),
)  # fmt: skip
_METADATA_SCANS = 64
_METADATA_KEYS = (
    "sessionId", "agentId", "cwd", "gitBranch", "version", "userType", "entrypoint", "slug"
)  # fmt: skip

Wire = dict[str, Any] | m.HailModel
"""An event type or content block as HAIL writes it (or already a model): events are built as
plain data and validated by pydantic in one batch per build, far cheaper than model by model."""
_EVENTS = TypeAdapter(list[m.Event])
# Event types without data: one instance, validated from its wire form, stands for every event of
# its type (pydantic takes a model as it is): a model fewer to build, keep and collect per message.
_AGENT_MESSAGE = m.AgentMessage.model_validate({"type": "AgentMessage"})
_USER_MESSAGE = m.UserMessage.model_validate({"type": "UserMessage"})
_SYSTEM_MESSAGE = m.SystemMessage.model_validate({"type": "SystemMessage"})
_THINKING = m.Thinking.model_validate({"type": "Thinking"})


# --- Detection ---


def _is_claude_record(record: dict[str, Any]) -> bool:
    kind = record.get("type")
    if kind in ("user", "assistant"):
        return isinstance(record.get("message"), dict)
    return kind in _CLAUDE_TYPES


def detect_claude_code(path: Path, head: bytes) -> Detection | None:
    """Claude Code's log: JSONL records of its types carrying its ids (``sessionId``, ``uuid``…).

    Codex rollouts (``{timestamp, type, payload}``) and HAIL files (``{"type": "header"}``) are
    never claimed; bare Anthropic-style ``user``/``assistant`` lines without ids get a middling
    confidence, a ``.jsonl`` under ``.claude/projects`` with nothing readable a low one.
    """
    if not head:
        return None
    records = first_json_lines(head, 20)
    if any("payload" in record or record.get("type") == "header" for record in records):
        return None
    ours = [record for record in records if _is_claude_record(record)]
    if any(key in record for record in ours for key in _ID_KEYS):
        return Detection(TOOL, 95, "Claude Code records with session and message ids")
    if ours:
        return Detection(TOOL, 60, "user/assistant records with Anthropic-style messages")
    if not records and path.suffix == ".jsonl" and ".claude" in path.parts:
        return Detection(TOOL, 30, "a .jsonl file under .claude/projects")
    return None


# --- Small helpers ---


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _text_block(text: str) -> Wire:
    return {"type": "Text", "text": text}


def _custom(kind: str) -> Wire:
    return {"type": "Custom", "data": {"kind": kind}}


def _image_block(block: dict[str, Any]) -> Wire | None:
    """An image content block as a data URL (base64 source) or its URL."""
    source = block.get("source")
    if not isinstance(source, dict):
        return None
    mime = _text(source.get("media_type"))
    if source.get("type") == "base64" and isinstance(source.get("data"), str):
        mime = mime or "image/png"
        return {"type": "Image", "url": f"data:{mime};base64,{source['data']}", "mime": mime}
    url = _text(source.get("url"))
    if url:
        mime = mime or mimetypes.guess_type(url)[0] or "image/*"
        return {"type": "Image", "url": url, "mime": mime}
    return None


def _result_blocks(content: Any) -> list[Wire]:
    """A tool result's output: text as Text blocks, images as Image blocks, the rest as JSON."""
    if isinstance(content, str):
        return [_text_block(content)] if content else []
    if not isinstance(content, list):
        return [] if content is None else [{"type": "Json", "data": content}]
    blocks: list[Wire] = []
    for item in content:
        kind = item.get("type") if isinstance(item, dict) else None
        if kind == "text" and isinstance(item.get("text"), str):
            blocks.append(_text_block(item["text"]))
        elif kind == "image" and (image := _image_block(item)) is not None:
            blocks.append(image)
        else:
            blocks.append({"type": "Json", "data": item})
    return blocks


def _is_result(block: Any) -> bool:
    return type(block) is dict and block.get("type") == "tool_result"


def _first_text(content: Any) -> str:
    """The text a result starts with (its string, or its first text block)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        for item in content:
            text = item.get("text") if isinstance(item, dict) else None
            if isinstance(text, str):
                return text
    return ""


def _joined_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        return ""
    parts = (item.get("text") for item in content if isinstance(item, dict))
    return "\n\n".join(part for part in parts if isinstance(part, str))


def _patch_diff(path: str, hunks: list[Any]) -> str | None:
    """A unified diff from Claude Code's ``structuredPatch`` hunks (None when malformed)."""
    name = path.lstrip("/")
    parts = [f"--- a/{name}\n+++ b/{name}\n"]
    for hunk in hunks:
        lines = hunk.get("lines") if isinstance(hunk, dict) else None
        if not isinstance(lines, list):
            return None
        old = f"{hunk.get('oldStart', 0)},{hunk.get('oldLines', 0)}"
        new = f"{hunk.get('newStart', 0)},{hunk.get('newLines', 0)}"
        parts.append(f"@@ -{old} +{new} @@\n")
        try:
            body = "\n".join(lines)
        except TypeError:
            body = "\n".join(line for line in lines if isinstance(line, str))
        if body:
            parts += (body, "\n")
    return "".join(parts) if len(parts) > 1 else None


def _timestamp(value: Any) -> datetime | None:
    """A record's time: Claude Code writes ISO 8601 in UTC (``…Z``), read here directly."""
    if type(value) is str:
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return parse_timestamp(value)
        if parsed.tzinfo is UTC:
            return parsed
    return parse_timestamp(value)


# --- Builder state ---


@dataclass(slots=True)
class _Draft:
    """One future event, kept as plain data until built: built into a pydantic Event once, and
    again only after it changed (a call refined by its result, usage grown). Its wire form (the
    event as HAIL writes it) lives only while pydantic validates it: fewer objects kept for the
    whole parse, and freed after it."""

    event_id: str
    event_type: Wire | None
    """None for a call, whose type and content come from the call as its result left it."""
    blocks: Sequence[Wire]
    attributes: dict[str, Any]
    timestamp: datetime | None
    task_id: str | None
    call: _Call | None = None
    duration_ms: int | None = None
    event: m.Event | None = None
    built_at: datetime | None = None

    def changed(self) -> None:
        self.event = None

    def wire(self, timestamp: datetime, latest: datetime | None) -> dict[str, Any]:
        """The event as HAIL writes it, at ``timestamp``; at ``latest`` (the time of an event
        before it) when that is later, its own time then kept in ``source.timestamp``."""
        if self.call is not None:
            event_type, blocks = self.call.event_type()
        else:
            event_type, blocks = self.event_type, self.blocks
        self.built_at = timestamp
        attributes = self.attributes
        if latest is not None and timestamp < latest:
            attributes = {**attributes, "source.timestamp": m.format_timestamp(timestamp)}
            timestamp = latest
        wire = {
            "event_id": self.event_id,
            "timestamp": timestamp,
            "event_type": event_type,
            "content": {"blocks": blocks},
            "attributes": attributes,
        }
        if self.task_id:
            wire["task_id"] = self.task_id
        if self.duration_ms is not None:
            wire["duration_ms"] = self.duration_ms
        return wire


@dataclass(slots=True)
class _Call:
    """A tool call, whose event type the result may still refine."""

    call_id: str
    name: str
    arguments: Any
    kind: str | None
    """``tool_events.tool_kind`` of its name."""
    path: str | None
    """The file it reads or writes (``file_path``)."""
    file_existed: bool = False
    index: int = -1
    """Where its event's draft is in the builder's list (no reference: no cycle to collect)."""
    exit_code: int | None = None
    patch: list[Any] | None = None
    write_kind: str | None = None

    def event_type(self) -> tuple[Wire, list[Wire]]:
        """The call's event type and content, as its result left them."""
        own = self._own_tool_event()
        if own is not None:
            return own
        event_type = tool_event_type(self.name, self.arguments, file_existed=self.existed())
        blocks = tool_call_blocks(event_type, self.arguments)
        if type(event_type) is m.ShellCommand and self.exit_code is not None:
            data = {"command": event_type.data.command, "exit_code": self.exit_code}
            return {"type": "ShellCommand", "data": data}, blocks
        return event_type, blocks

    def _own_tool_event(self) -> tuple[Wire, list[Wire]] | None:
        """The event of a call whose arguments have the names Claude Code's own tools give them
        (``command``, ``file_path``, ``pattern``), nearly every call of a log, as wire data:
        mapped as ``tool_events`` maps it, without building models only for pydantic to check
        them again. An edit or write with its result's patch gets the patch's diff. None for
        any other call."""
        kind, path, arguments = self.kind, self.path, self.arguments
        if kind == "shell":
            command = arguments.get("command") if type(arguments) is dict else None
            if type(command) is str and command:
                shell = {"command": command}
                if self.exit_code is not None:
                    shell["exit_code"] = self.exit_code
                code = {"type": "Code", "code": command, "language": "bash"}
                return {"type": "ShellCommand", "data": shell}, [code]
            return None
        if kind in ("code_search", "file_search"):
            pattern = arguments.get("pattern") if type(arguments) is dict else None
            if not (type(pattern) is str and pattern):
                return None
            if kind == "code_search":
                search = {"type": "CodeSearch", "data": {"query": pattern}}
            else:
                search = {"type": "FileSearch", "data": {"pattern": pattern}}
            return search, [{"type": "Json", "data": arguments}]
        if not path:
            return None
        if kind in ("edit", "write") and self.patch:
            diff = _patch_diff(path, self.patch)
            edit = {"type": "FileEdit", "data": {"path": path, "diff": diff}}
            if diff:
                return edit, [{"type": "Code", "code": diff, "language": "diff"}]
            return edit, [{"type": "Json", "data": arguments}]
        if kind == "read":
            event_type: Wire = {"type": "FileRead", "data": {"path": path}}
        elif kind == "write":
            written = "FileEdit" if self.existed() else "FileCreate"
            event_type = {"type": written, "data": {"path": path}}
        else:
            return None
        return event_type, [{"type": "Json", "data": arguments}]

    def existed(self) -> bool:
        """Whether the file it writes was there before (a write to it is then an edit)."""
        return self.write_kind == "update" or (self.file_existed and self.write_kind != "create")


@dataclass(slots=True)
class _Response:
    """The records of one model response (one ``message.id``)."""

    records: int = 0
    seen: set[Any] = field(default_factory=set)
    first: _Draft | None = None
    counters: dict[str, int] | None = None
    """Each usage counter at its largest value over the records (the output grows as the
    response streams)."""
    pending: bool = False
    """Listed for its usage to be put on its first event at the next build."""
    model: str | None = None

    def take_usage(self, usage: Any) -> bool:
        """Count a record's usage; True when it changed a counter."""
        if type(usage) is not dict:
            return False
        counters = self.counters
        if counters is None:
            counters = self.counters = dict.fromkeys(_USAGE_FIELDS, 0)
        changed = False
        for key in _USAGE_FIELDS:
            value = usage.get(key)
            if type(value) is int and value > counters[key]:
                counters[key] = value
                changed = True
        return changed

    def attach_usage(self) -> None:
        """Put the response's usage on its first event."""
        counters = self.counters
        if self.first is None or counters is None:
            return
        uncached = counters["input_tokens"]
        created = counters["cache_creation_input_tokens"]
        read = counters[_CACHE_READ]
        attributes = self.first.attributes
        attributes["input_tokens"] = uncached + created + read
        attributes["output_tokens"] = counters["output_tokens"]
        attributes["uncached_input_tokens"] = uncached
        attributes["cache_creation_input_tokens"] = created
        attributes["cache_read_input_tokens"] = read
        if self.model:
            attributes["model"] = self.model
        self.first.changed()


@dataclass(slots=True)
class _Origin:
    """Where the events of one record come from."""

    base_id: str
    timestamp: datetime | None
    task_id: str | None
    sidechain: bool
    emitted: int = 0


@dataclass(slots=True)
class _Metadata:
    """The session's facts, each from the first conversation record that has it."""

    values: dict[str, str] = field(default_factory=dict)
    missing: tuple[str, ...] = _METADATA_KEYS
    scans: int = 0
    first_time: datetime | None = None
    last_time: datetime | None = None

    def take(self, record: dict[str, Any]) -> None:
        """Note the facts the record has that no record before had. Claude Code writes them on
        every conversation record: a fact the first ones lack is not looked for any longer."""
        for key in self.missing:
            value = record.get(key)
            if type(value) is str and value:
                self.values[key] = value
        self.scans += 1
        if self.scans >= _METADATA_SCANS:
            self.missing = ()
        else:
            self.missing = tuple(key for key in self.missing if key not in self.values)

    @property
    def session_id(self) -> str | None:
        return self.values.get("sessionId")

    @property
    def agent_id(self) -> str | None:
        return self.values.get("agentId")


class ClaudeCodeBuilder:
    """Builds the session of one Claude Code log from its records, fed in file order."""

    def __init__(self, parser: ClaudeCodeParser, path: Path) -> None:
        self.path = path
        self.warnings: list[ParseWarning] = []
        self._parser = parser
        self._auxiliary = path.stem.startswith("agent-")
        self._records = SourceRecords()
        self._meta = _Metadata()
        self._drafts: list[_Draft] = []
        self._ids: set[str] = set()
        self._responses: dict[str, _Response] = {}
        self._anonymous_responses: list[_Response] = []
        self._usage_changed: list[_Response] = []
        self._progress = 0
        self._calls: dict[str, _Call] = {}
        self._pending: dict[str, _Call] = {}
        self._tasks: dict[str, _Draft] = {}
        self._open_tasks: dict[str, str] = {}
        self._sidechain_tasks: dict[str, str | None] = {}
        self._known_files: set[str] = set()
        self._models: Counter[str] = Counter()
        self._titles: dict[str, str] = {}
        self._first_prompt: str | None = None
        self._unknown: set[str] = set()
        self._subagents = _Subagents(parser, path)

    # --- Records ---

    def add(self, record: dict[str, Any], line: int) -> None:
        """Take the next record (line number ``line``)."""
        kind = record.get("type")
        if kind == "progress":  # most records of a log: counted, nothing more
            self._progress += 1
        elif kind == "assistant":
            self._add_assistant(record, line)
        elif kind == "user":
            self._add_user(record, line)
        elif kind in _SKIPPED_TYPES:
            self._records.skipped[kind] += 1
        elif kind == "system":
            self._add_system(record, line)
        elif kind in _TITLE_TYPES:
            self._add_title(kind, record)
        else:
            self._add_unknown(kind, line)

    def quick_reader(self) -> Callable[[bytes, int], bool]:
        """Progress records are counted from their bytes (see ``_count_progress``)."""
        return self._count_progress

    def _count_progress(self, raw: bytes, line: int) -> bool:
        """Count the line if it is a ``progress`` record, told from its bytes: most records of
        a log, often its larger part, and nothing in them is kept. The first ``"type":"`` of a
        line is its record's own type when no object or array opens before it (a quote inside
        a string is escaped, so the text cannot appear in one); Claude Code writes it within
        the first few hundred bytes. Any other line (one where a backslash comes right before
        that text, say), and a last line without its newline (perhaps cut short), is decoded as
        usual."""
        at = raw.find(_TYPE_KEY, 0, _TYPE_SCAN)
        if (
            at < 1
            or raw[at - 1] == _BACKSLASH
            or not raw.startswith(_PROGRESS, at + len(_TYPE_KEY))
            or raw.find(b"{", 1, at) >= 0
            or raw.find(b"[", 1, at) >= 0
            or not raw.endswith(b"}\n")
        ):
            return False
        self._progress += 1
        return True

    def _warn(self, reason: str, line: int) -> None:
        self.warnings.append(ParseWarning(str(self.path), reason, line))

    def _add_unknown(self, kind: Any, line: int) -> None:
        name = kind if isinstance(kind, str) else "no type"
        self._records.skip(f"unknown type {name}" if isinstance(kind, str) else name)
        if name not in self._unknown:
            self._unknown.add(name)
            self._warn(f"unknown record type {name!r}; records of this type skipped", line)

    def _add_title(self, kind: str, record: dict[str, Any]) -> None:
        title = _text(record.get("summary" if kind == "summary" else "customTitle"))
        if title and title.strip():
            self._titles[kind] = title.strip()
        self._records.skip(kind)

    def _origin(self, record: dict[str, Any], line: int) -> _Origin | None:
        """The record's event id base, time and task; None for a repeat of a record seen."""
        uuid = record.get("uuid")
        ids = self._ids
        if type(uuid) is str and uuid:
            if uuid in ids:
                self._records.merged += 1
                return None
            base = uuid
        else:
            uuid = None
            base = f"{TOOL}-{line}"
            if base in ids:
                base = f"{base}-{line}"
        ids.add(base)
        timestamp = _timestamp(record.get("timestamp"))
        meta = self._meta
        if meta.missing:
            meta.take(record)
        if timestamp is not None:
            if meta.first_time is None:
                meta.first_time = timestamp
            meta.last_time = timestamp
        sidechain = record.get("isSidechain") is True and not self._auxiliary
        task_id = self._sidechain_task(record, uuid) if sidechain else None
        return _Origin(base, timestamp, task_id, sidechain)

    def _sidechain_task(self, record: dict[str, Any], uuid: str | None) -> str | None:
        """The Task call an inline sub-agent record belongs to, when it can be told."""
        parent = _text(record.get("parentUuid"))
        if parent in self._sidechain_tasks:
            task_id = self._sidechain_tasks[parent]
        else:
            message = record.get("message")
            prompt = _joined_text(message.get("content")) if isinstance(message, dict) else ""
            matching = [call for call, text in self._open_tasks.items() if text == prompt]
            if matching:
                task_id = matching[0]
            elif len(self._open_tasks) == 1:
                task_id = next(iter(self._open_tasks))
            else:
                task_id = None
        if uuid:
            self._sidechain_tasks[uuid] = task_id
        return task_id

    def _emit(
        self,
        origin: _Origin,
        event_type: Wire | None,
        blocks: Sequence[Wire],
        attributes: dict[str, Any] | None = None,
        *,
        call: _Call | None = None,
        task_id: str | None = None,
    ) -> _Draft:
        event_id = origin.base_id if not origin.emitted else f"{origin.base_id}:{origin.emitted}"
        origin.emitted += 1
        if attributes is None:
            attributes = {}
        if origin.sidechain:
            attributes["sidechain"] = True
        draft = _Draft(
            event_id, event_type, blocks, attributes, origin.timestamp, task_id or origin.task_id
        )
        if call is not None:
            draft.call = call
            call.index = len(self._drafts)
        self._drafts.append(draft)
        return draft

    def _content(self, record: dict[str, Any], line: int) -> list[Any] | None:
        """The record's message content as a block list; None (counted, with a warning) if bad."""
        message = record.get("message")
        content = message.get("content") if type(message) is dict else None
        if type(content) is list:
            return content
        if type(content) is str:
            return [{"type": "text", "text": content}]
        if type(message) is not dict:
            self._warn("'message' is not an object; record skipped", line)
        elif content is not None:
            self._warn("'message.content' is neither text nor a list; record skipped", line)
        empty = type(message) is dict and content is None
        self._records.skip("empty message" if empty else "malformed message")
        return None

    # --- Assistant records ---

    def _new_response(self, message: dict[str, Any]) -> _Response:
        message_id = message.get("id")
        response = _Response(model=_text(message.get("model")) or None)
        if type(message_id) is str and message_id:
            self._responses[message_id] = response
        else:
            self._anonymous_responses.append(response)
        if response.model and response.model != _SYNTHETIC_MODEL:
            self._models[response.model] += 1
        return response

    def _add_assistant(self, record: dict[str, Any], line: int) -> None:
        content = self._content(record, line)
        if content is None:
            return
        origin = self._origin(record, line)
        if origin is None:
            return
        message = record["message"]
        message_id = message.get("id")
        response = self._responses.get(message_id) if type(message_id) is str else None
        if response is None:
            response = self._new_response(message)
        response.records += 1
        drafts = self._drafts
        start = len(drafts)
        if record.get("isApiErrorMessage") is True:
            text = _joined_text(content)
            self._emit(origin, _SYSTEM_MESSAGE, [_text_block(text)], {"api_error": True})
            content = []
        seen = response.seen
        for index, block in enumerate(content):
            kind = block.get("type") if type(block) is dict else None
            if kind == "text" or kind == "thinking":
                text = block.get(
                    kind
                )  # a text block's text is under "text", a thought's "thinking"
                if type(text) is str and (kind, text) not in seen:
                    seen.add((kind, text))
                    if text and not text.isspace():
                        event_type = _AGENT_MESSAGE if kind == "text" else _THINKING
                        self._emit(origin, event_type, [{"type": "Text", "text": text}])
            elif type(block) is dict:
                self._add_assistant_block(block, kind, response, origin, line, index)
            else:
                self._warn(f"content block {index} is not an object; block skipped", line)
        changed = response.take_usage(message.get("usage"))
        if response.first is None and len(drafts) > start:
            response.first = drafts[start]
            changed = True
        if changed and not response.pending:
            response.pending = True
            self._usage_changed.append(response)

    def _add_assistant_block(
        self,
        block: dict[str, Any],
        kind: Any,
        response: _Response,
        origin: _Origin,
        line: int,
        index: int,
    ) -> None:
        """A block other than text or thinking: a tool call, mostly."""
        key = _text(block.get("id")) or (line, index)
        if key in response.seen:
            return
        response.seen.add(key)
        if kind == "redacted_thinking":
            self._emit(origin, _THINKING, [], {"redacted": True})
        elif kind in ("tool_use", "server_tool_use"):
            self._add_call(block, origin)
        elif isinstance(kind, str) and kind.endswith("_tool_result"):
            self._add_result(block, None, origin)
        elif f"block {kind}" not in self._unknown:
            self._unknown.add(f"block {kind}")
            self.warnings.append(
                ParseWarning(str(self.path), f"unknown assistant content block {kind!r} skipped")
            )

    def _add_call(self, block: dict[str, Any], origin: _Origin) -> None:
        name = _text(block.get("name")) or "unknown"
        arguments = block.get("input")
        call_id = _text(block.get("id"))
        attributes: dict[str, Any] = {}
        if name in _TASK_TOOLS:
            args = arguments if isinstance(arguments, dict) else {}
            call_id = call_id or origin.base_id
            prompt = _text(args.get("prompt")) or ""
            attributes["semantic.call_id"] = call_id
            if subagent_type := _text(args.get("subagent_type")):
                attributes["subagent_type"] = subagent_type
            title = _text(args.get("description"))
            blocks: list[Wire] = [_text_block(prompt)] if prompt else []
            event_type = {"type": "TaskStart", "data": {"title": title}}
            draft = self._emit(origin, event_type, blocks, attributes, task_id=call_id)
            self._tasks[call_id] = draft
            self._open_tasks[call_id] = prompt
            call = _Call(call_id, name, arguments, None, None)
            call.index = len(self._drafts) - 1
        else:
            path = _text(arguments.get("file_path")) if type(arguments) is dict else None
            call = _Call(call_id or "", name, arguments, tool_kind(name), path)
            call.file_existed = path in self._known_files
            draft = self._emit(origin, None, (), attributes, call=call)
            call.call_id = call_id or draft.event_id
            attributes["semantic.call_id"] = call.call_id
        self._calls[call.call_id] = call
        self._pending[call.call_id] = call

    # --- User records ---

    def _add_user(self, record: dict[str, Any], line: int) -> None:
        content = self._content(record, line)
        if content is None:
            return
        origin = self._origin(record, line)
        if origin is None:
            return
        side_data = record.get("toolUseResult")
        if len(content) == 1 and _is_result(content[0]):  # the usual: one tool's result
            self._add_result(content[0], side_data, origin)
            self._records.mapped += 1
            return
        if sum(_is_result(block) for block in content) > 1:
            side_data = None  # the record's side data cannot be told apart between its results
        blocks: list[Wire] = []
        for index, block in enumerate(content):
            kind = block.get("type") if type(block) is dict else None
            if kind == "tool_result":
                self._add_result(block, side_data, origin)
            elif kind == "text" and isinstance(block.get("text"), str):
                blocks.append(_text_block(block["text"]))
            elif kind == "image" and (image := _image_block(block)) is not None:
                blocks.append(image)
            else:
                self._warn(f"user content block {index} ({kind!r}) skipped", line)
        if blocks:
            self._add_user_message(record, blocks, origin)
        if origin.emitted:
            self._records.mapped += 1
        else:
            self._records.skip("empty message")

    def _add_user_message(
        self, record: dict[str, Any], blocks: list[Wire], origin: _Origin
    ) -> None:
        first = next((b["text"] for b in blocks if isinstance(b, dict) and "text" in b), "")
        head = first.lstrip()[:_TITLE_SCAN]
        if record.get("isCompactSummary") is True:
            self._emit(origin, _SYSTEM_MESSAGE, blocks, {"compact_summary": True})
        elif record.get("isMeta") is True or head.startswith(_SYSTEM_PREFIXES):
            self._emit(origin, _SYSTEM_MESSAGE, blocks, {"meta": True})
        elif head.startswith(_INTERRUPTED):
            self._emit(origin, _custom("interrupted"), blocks)
        elif head.startswith(_OUTPUT_PREFIXES):
            self._emit(origin, _SYSTEM_MESSAGE, [_command_output(first)], {"command_output": True})
        elif head.startswith(("<command-", "<bash-input>")):
            text, name, arguments = _command(first)
            self._emit(origin, _USER_MESSAGE, [_text_block(text)], {"command": name})
            if arguments and self._first_prompt is None and not origin.sidechain:
                self._first_prompt = text
        else:
            self._emit(origin, _USER_MESSAGE, blocks)
            if head.strip() and self._first_prompt is None and not origin.sidechain:
                self._first_prompt = head

    def _add_result(self, block: dict[str, Any], side_data: Any, origin: _Origin) -> None:
        call_id = _text(block.get("tool_use_id"))
        call = self._pending.pop(call_id, None) if call_id else None
        if call is None and call_id is None and self._pending:
            call = self._pending.pop(next(iter(self._pending)))
        if call is None and call_id:
            call = self._calls.get(call_id)
        is_error = block.get("is_error") is True
        content = block.get("content")
        if call is not None and call.name in _TASK_TOOLS:
            self._add_task_end(call, content, side_data, is_error, origin)
            return
        name = call.name if call is not None else "unknown"
        resolved_id = call.call_id if call is not None else call_id
        attributes: dict[str, Any] = {}
        if resolved_id:
            attributes["semantic.call_id"] = resolved_id
        if call is not None:
            self._refine_call(call, content, side_data, is_error, attributes)
        data = {"name": name, "is_error": is_error, "call_id": resolved_id}
        blocks = [_text_block(content)] if content and type(content) is str else None
        blocks = blocks or _result_blocks(content)
        self._emit(origin, {"type": "ToolResult", "data": data}, blocks, attributes)

    def _refine_call(
        self, call: _Call, content: Any, side_data: Any, is_error: bool, attributes: dict[str, Any]
    ) -> None:
        """What the result tells of its call: exit code, diff, whether a write created a file."""
        kind = call.kind
        details = side_data if type(side_data) is dict else {}
        rejected = is_error and (
            side_data == "User rejected tool use" or _first_text(content).startswith(_REJECTED)
        )
        if rejected:
            attributes["rejected"] = True
        if kind == "shell":
            call.exit_code = _exit_code(content, details, is_error, rejected, attributes)
        if isinstance(details.get("structuredPatch"), list):
            call.patch = details["structuredPatch"]
        if details.get("type") in ("create", "update"):
            call.write_kind = details["type"]
        if not is_error and kind in ("read", "edit", "write") and call.path:
            self._known_files.add(call.path)
        if call.index >= 0:
            self._drafts[call.index].changed()

    def _add_task_end(
        self, call: _Call, content: Any, side_data: Any, is_error: bool, origin: _Origin
    ) -> None:
        details = side_data if isinstance(side_data, dict) else {}
        summary = _joined_text(details.get("content", content))
        attributes: dict[str, Any] = {"semantic.call_id": call.call_id}
        if is_error:
            attributes["is_error"] = True
        agent_id = _text(details.get("agentId"))
        if agent_id:
            attributes["subagent_session_id"] = agent_id
            start = self._tasks.get(call.call_id)
            if start is not None:
                start.attributes["subagent_session_id"] = agent_id
                start.changed()
        end = {"type": "TaskEnd", "data": {"summary": summary.strip() or None}}
        draft = self._emit(origin, end, [], attributes, task_id=call.call_id)
        duration = details.get("totalDurationMs")
        if isinstance(duration, int) and duration >= 0:
            draft.duration_ms = duration
        self._open_tasks.pop(call.call_id, None)

    # --- System records ---

    def _add_system(self, record: dict[str, Any], line: int) -> None:
        subtype = _text(record.get("subtype")) or "unknown"
        content = _text(record.get("content"))
        if subtype != "compact_boundary" and not (content and content.strip()):
            self._records.skip(f"system {subtype}")
            return
        origin = self._origin(record, line)
        if origin is None:
            return
        attributes: dict[str, Any] = {"subtype": subtype}
        if level := _text(record.get("level")):
            attributes["level"] = level
        blocks: list[Wire] = [_text_block(content)] if content else []
        if subtype == "compact_boundary":
            metadata = record.get("compactMetadata")
            if isinstance(metadata, dict):
                for key, name in (("trigger", "trigger"), ("preTokens", "pre_tokens")):
                    if metadata.get(key) is not None:
                        attributes[name] = metadata[key]
            self._emit(origin, _custom("context_compacted"), blocks, attributes)
        else:
            head = (content or "").lstrip()
            if head.startswith("<command-"):
                blocks = [_text_block(_command(head)[0])]
            elif head.startswith(_OUTPUT_PREFIXES):
                blocks = [_command_output(head)]
            self._emit(origin, _SYSTEM_MESSAGE, blocks, attributes)
        self._records.mapped += 1

    # --- Sessions ---

    def _events(self) -> list[m.Event]:
        """An event per draft, built again only when its draft changed. Times are made
        non-decreasing in event order as ``keep_timestamps_in_order`` makes them, but on the
        drafts: an event stamped before the one before it is built at that time, with no
        assignment to a built model. An event built before keeps its place in that order: the
        drafts before it, and their times, are the same."""
        for response in self._usage_changed:
            response.pending = False
            response.attach_usage()
        self._usage_changed.clear()
        fallback = self._meta.first_time or file_time(self.path)
        previous: datetime | None = None
        latest: datetime | None = None
        stale: list[_Draft] = []
        wires: list[dict[str, Any]] = []
        for draft in self._drafts:
            timestamp = draft.timestamp or previous or fallback
            previous = timestamp
            if draft.event is None or draft.built_at != timestamp:
                stale.append(draft)
                wires.append(draft.wire(timestamp, latest))
            if latest is None or timestamp >= latest:
                latest = timestamp
        for draft, event in zip(stale, _EVENTS.validate_python(wires), strict=True):
            draft.event = event
        return [draft.event for draft in self._drafts if draft.event is not None]

    def _source_records(self) -> SourceRecords:
        records = SourceRecords(self._records.mapped, self._records.merged, +self._records.skipped)
        if self._progress:
            records.skipped["progress"] += self._progress
        for response in (*self._responses.values(), *self._anonymous_responses):
            if response.first is not None:
                records.mapped += 1
                records.merged += response.records - 1
            else:
                records.skipped["empty message"] += response.records
        return records

    def _title(self) -> str | None:
        if "custom-title" in self._titles:
            return self._titles["custom-title"]
        if "summary" in self._titles:
            return self._titles["summary"]
        if self._auxiliary and self._meta.agent_id and self._meta.agent_id.startswith("acompact"):
            return "Context compaction"
        return title_from_text(self._first_prompt) if self._first_prompt else None

    def build(self, *, final: bool = False) -> ParseResult:
        """The main session (and its sub-agents' sessions) from the records so far (validated
        by pydantic, which copies: ``final`` changes nothing)."""
        records = self._source_records()
        if records.total == 0:
            raise SessionParseError(self.path, "no readable Claude Code records")
        found = [] if self._auxiliary else self._subagents.results(self._meta.session_id)
        auxiliary = [result for result in found if isinstance(result, ParseResult)]
        related = [result.session.session_id for result in auxiliary]
        session = self._session(self._events(), records, related)
        warnings = list(self.warnings)
        for result in found:
            warnings.extend(result.warnings if isinstance(result, ParseResult) else [result])
        return ParseResult([session, *(r.session for r in auxiliary)], warnings)

    def _session(
        self, events: list[m.Event], records: SourceRecords, related: list[str]
    ) -> m.Session:
        meta = self._meta
        model = self._models.most_common(1)[0][0] if self._models else "unknown"
        start = events[0].timestamp if events else meta.first_time or file_time(self.path)
        end = events[-1].timestamp if events else meta.last_time or start
        attributes: dict[str, Any] = {"source_path": str(self.path)}
        for key, name in _CONTEXT_ATTRIBUTES:
            if key in meta.values:
                attributes[name] = meta.values[key]
        if "gitBranch" in meta.values:
            attributes["git"] = {"branch": meta.values["gitBranch"]}
        if self._auxiliary:
            session_id = meta.agent_id or self.path.stem.removeprefix("agent-")
            parent = meta.session_id or _parent_from_folder(self.path)
            attributes["session_role"] = "auxiliary"
            compaction = session_id.startswith("acompact")
            attributes["agent_kind"] = "compaction" if compaction else "subagent"
            if parent:
                attributes["parent_session_id"] = parent
                related = [parent]
        else:
            session_id = meta.session_id or self.path.stem
            attributes["session_role"] = "primary"
        attributes[SOURCE_RECORDS_ATTRIBUTE] = records.to_attribute()
        return m.Session(
            session_id=session_id,
            agent=m.Agent(
                provider=provider_for_model(model, default="anthropic"),
                model=model,
                tool=TOOL,
                tool_version=meta.values.get("version"),
            ),
            context=m.Context(
                title=self._title(),
                tags=[TOOL],
                created_at=start,
                updated_at=end,
                related_session_ids=related,
                attributes=attributes,
            ),
            events=events,
            stats=compute_stats(events),
        )


def _command(text: str) -> tuple[str, str, str]:
    """A slash command's message as typed (``/name args``), its name and its arguments."""
    tags = {name: value.strip() for name, value in _TAG.findall(text)}
    if "bash-input" in tags:
        return f"!{tags['bash-input']}", "!", tags["bash-input"]
    name = tags.get("command-name", "")
    arguments = tags.get("command-args", "")
    return (f"{name} {arguments}" if arguments else name) or text, name, arguments


def _command_output(text: str) -> Wire:
    return _text_block(_ANSI.sub("", _OUTPUT_TAG.sub("", text)).strip())


def _exit_code(
    content: Any,
    details: dict[str, Any],
    is_error: bool,
    rejected: bool,
    attributes: dict[str, Any],
) -> int | None:
    """A shell call's exit code as its result tells it (see the module docstring)."""
    interrupted = details.get("interrupted")
    background = details.get("backgroundTaskId")
    interpretation = details.get("returnCodeInterpretation")
    if interrupted:
        attributes["interrupted"] = interrupted
    if background:
        attributes["background_task_id"] = background
    if interpretation:
        attributes["return_code_interpretation"] = interpretation
    if rejected:
        return None
    if is_error:
        found = _EXIT_CODE.match(_first_text(content)[:64])
        return int(found.group(1)) if found else 1
    if interrupted or background:
        return None
    # e.g. grep's 1 read as "No matches found": some non-zero code, not counted as a failure
    return None if interpretation else 0


def _parent_from_folder(path: Path) -> str | None:
    """The session a ``<session>/subagents/agent-*.jsonl`` file belongs to, by its folders."""
    return path.parent.parent.name if path.parent.name == "subagents" else None


def _first_record(path: Path) -> dict[str, Any] | None:
    try:
        with path.open("rb") as stream:
            line = stream.readline()
    except OSError:
        return None
    try:
        record = orjson.loads(line)
    except orjson.JSONDecodeError:
        return None
    return record if isinstance(record, dict) else None


class _Subagents:
    """The sub-agent logs of a main session, each parsed again only when it changed."""

    def __init__(self, parser: ClaudeCodeParser, path: Path) -> None:
        self._parser = parser
        self._path = path
        self._parsed: dict[Path, tuple[tuple[int, int, int], ParseResult | ParseWarning]] = {}
        self._sibling_sessions: dict[Path, str | None] = {}

    def paths(self, session_id: str | None) -> list[Path]:
        """``<session>/subagents/agent-*.jsonl``, then ``agent-*.jsonl`` beside the session
        whose records name it as their session (the layout of older versions)."""
        folder = self._path.with_suffix("") / "subagents"
        found = sorted(folder.glob("agent-*.jsonl")) if folder.is_dir() else []
        if session_id and not self._path.stem.startswith("agent-"):
            for sibling in sorted(self._path.parent.glob("agent-*.jsonl")):
                if sibling not in self._sibling_sessions:
                    record = _first_record(sibling)
                    owner = _text(record.get("sessionId")) if record else None
                    self._sibling_sessions[sibling] = owner
                if self._sibling_sessions[sibling] == session_id:
                    found.append(sibling)
        return found

    def results(self, session_id: str | None) -> list[ParseResult | ParseWarning]:
        """Each sub-agent log's sessions, or a warning for one with nothing readable."""
        results = []
        for path in self.paths(session_id):
            try:
                status = path.stat()
            except OSError:
                continue
            key = (status.st_ino, status.st_size, status.st_mtime_ns)
            cached = self._parsed.get(path)
            if cached is None or cached[0] != key:
                try:
                    cached = (key, self._parser.parse(path))
                except SessionParseError as error:
                    cached = (
                        key,
                        ParseWarning(str(path), f"sub-agent log skipped: {error.reason}"),
                    )
                self._parsed[path] = cached
            results.append(cached[1])
        return results


class ClaudeCodeParser(AppendOnlyParser):
    """Claude Code's JSONL session logs, with their sub-agents' logs as auxiliary sessions."""

    tool = TOOL

    def detect(self, path: Path, head: bytes) -> Detection | None:
        return detect_claude_code(path, head)

    def new_builder(self, path: Path) -> ClaudeCodeBuilder:
        return ClaudeCodeBuilder(self, path)


PARSER = ClaudeCodeParser()
