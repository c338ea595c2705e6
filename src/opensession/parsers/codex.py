"""Codex CLI / Codex Desktop rollouts: ``~/.codex/sessions/YYYY/MM/DD/rollout-<time>-<id>.jsonl``.

Each line is one record ``{timestamp, type, payload}``:

- ``session_meta``: the session id, cwd, originator (``codex_cli_rs``, ``Codex Desktop``…),
  cli_version, git, model_provider, and (older versions) the user's instructions;
- ``turn_context``: the settings of each model request (model, cwd, approval and sandbox
  policy, reasoning effort);
- ``response_item``: what went to or came from the model: ``message`` (user, assistant,
  developer), ``reasoning`` (summaries; the encrypted part is unreadable), ``function_call`` /
  ``custom_tool_call`` / ``local_shell_call`` and their outputs (paired by ``call_id``),
  ``web_search_call``;
- ``event_msg``: what the UI showed: ``user_message``, ``agent_message``, ``agent_reasoning``
  (echoes of response items), ``token_count`` (running token totals), ``task_started`` /
  ``task_complete`` / ``turn_aborted`` (one turn each), and a few more;
- ``compacted``: the summary that replaced the history when the context was compacted.

Files from before mid-2025 have no envelope: a first line with ``id``, ``timestamp`` and
``instructions``, then bare response items and ``{"record_type": "state"}`` lines.

A *record* is one readable JSON-object line. It becomes events (mapped), is folded into an
event made from another record (merged: the echo of a message in the other stream, a turn's
settings, token counts, a command's exit status), or is skipped for a named reason.

Mapping decisions:

- A turn is a TaskStart/TaskEnd pair whose ``task_id`` is the turn id (other events carry no
  task id, as in the reference); the turn's first ``turn_context`` becomes attributes of its
  TaskStart (``model``, ``cwd``, ``approval_policy``, ``sandbox_policy``, ``effort``).
- Context Codex injects into the conversation (developer messages, AGENTS.md,
  ``<environment_context>``; and, in files that log the user's words as ``user_message``
  events, any user-role item that is not the echo of one) is a SystemMessage.
- Token counts go on the latest event the model produced: the running totals
  (``info.total_token_usage``) as ``input_tokens_total`` / ``output_tokens_total``, that
  response's own usage (``last_token_usage``, or the legacy flat fields) as ``input_tokens`` /
  ``output_tokens``. A repeated total (Codex re-sends it with rate limits) is counted once.
- The same user / agent message or reasoning summary logged in both streams is one event:
  the echo is merged into the first, matched by text, else by coming right after it (the
  user's words are taken from ``user_message``, which holds them without IDE wrapping).
- Shell calls (``shell``, ``container.exec``, ``shell_command``, ``exec_command``,
  ``local_shell_call``) are ShellCommand events with the exit code their output states;
  ``apply_patch`` becomes one event per file of the patch: FileEdit with the hunks as diff,
  FileCreate / FileDelete for added / deleted files (their diff in a Code block). A result
  points at its call's event (``call_id``) and is an error when the command exited non-zero
  or the output says it failed.
- Older files' ``instructions`` (the user's AGENTS.md) are a SystemMessage at the start; the
  system prompt (``base_instructions``) is not kept.
"""

from __future__ import annotations

import contextlib
import re
import shlex
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from pydantic import BaseModel

from opensession.hail import model as m
from opensession.hail.model import format_timestamp
from opensession.hail.stats import compute_stats
from opensession.parsers.append_only import AppendOnlyParser, SessionBuilder
from opensession.parsers.base import (
    SOURCE_RECORDS_ATTRIBUTE,
    Detection,
    ParseResult,
    ParseWarning,
    SessionParseError,
    SourceRecords,
)
from opensession.parsers.common import (
    first_json_lines,
    parse_timestamp,
    provider_for_model,
    title_from_text,
)
from opensession.parsers.tool_events import tool_call_blocks, tool_event_type, tool_kind

TOOL = "codex"

_ENVELOPE_TYPES = frozenset(
    {"session_meta", "turn_context", "response_item", "event_msg", "compacted"}
)
_BARE_ITEM_TYPES = frozenset(
    {"message", "reasoning", "function_call", "function_call_output", "custom_tool_call",
     "custom_tool_call_output", "local_shell_call", "web_search_call", "ghost_snapshot",
     "compaction", "compaction_summary"}
)  # fmt: skip
_SKIPPED_ITEMS = {
    "ghost_snapshot": "ghost_snapshot",
    "compaction": "encrypted compaction",
    "compaction_summary": "encrypted compaction",
    "other": "other",
}
_CUSTOM_EVENTS = frozenset(
    {"entered_review_mode", "exited_review_mode", "undo_completed", "thread_rolled_back",
     "error", "warning"}
)  # fmt: skip
_SKIPPED_EVENTS = frozenset(
    {"agent_reasoning_section_break", "agent_message_delta", "agent_reasoning_delta",
     "exec_command_begin", "exec_command_output_delta", "patch_apply_begin", "turn_diff",
     "item_started", "plan_update", "mcp_tool_call_begin", "mcp_tool_call_end",
     "web_search_begin", "web_search_end", "background_event", "session_configured"}
)  # fmt: skip

_INJECTED_PREFIXES = (
    "<environment_context>",
    "<user_instructions>",
    "# AGENTS.md instructions",
    "<INSTRUCTIONS>",
    "<user_shell_command>",
    "<turn_aborted>",
)
_CONTEXT_MESSAGE_KINDS = frozenset({"user_instructions", "environment_context"})
_SHELL_WRAPPERS = frozenset({"bash", "sh", "zsh", "/bin/bash", "/bin/sh", "/bin/zsh"})
_EXIT_CODE = re.compile(r"(?:Process exited with code|^Exit code:) (-?\d+)", re.MULTILINE)
_EXIT_CODE_HEAD = 1024  # the exit code line sits near the start of an output, however long
_PATCH_MARKER = re.compile(
    r"^\*\*\* (Add File|Update File|Delete File|Move to|Begin Patch|End Patch|End of File)"
    r"(?:: ?(.*?))?\r?$",
    re.MULTILINE,
)
_PATCH_OPERATIONS = {"Add File": "add", "Update File": "update", "Delete File": "delete"}
_ECHO_WINDOW = 32
_CONTEXT_TYPE = b'"type":"turn_context"'
_CONTEXT_TYPE_SCAN = 80
_CONTEXT_CACHE_MIN = 2048
_CONTEXT_HEAD = re.compile(
    rb'\{"timestamp":"([^"\\\x00-\x1f]*)","type":"turn_context",'
    rb'"payload":\{"turn_id":"([^"\\\x00-\x1f]*)",'
)
_FILENAME_ID = re.compile(
    r"([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.jsonl$", re.IGNORECASE
)

# Event types without data are all alike: one instance of each, shared and never mutated.
_USER_MESSAGE = m.UserMessage()
_AGENT_MESSAGE = m.AgentMessage()
_SYSTEM_MESSAGE = m.SystemMessage()
_THINKING = m.Thinking()

# The models made for most events (blocks, tool types) are made by their validators, without the
# Python-level __init__ / model_validate around them; strictly, as every value already has its
# field's type. Events and their content, whose parts are models already, are constructed
# directly (see ``_events``).
_new_tool_result = m.ToolResult.__pydantic_validator__.validate_python
_new_text_block = m.TextBlock.__pydantic_validator__.validate_python
_new_code_block = m.CodeBlock.__pydantic_validator__.validate_python
_new_shell_command = m.ShellCommand.__pydantic_validator__.validate_python

# What ``model_construct`` does, without its Python loop over the fields: a model's instance
# with its four slots set through their descriptors (cheaper than ``object.__setattr__``).
_new_object = object.__new__
_set_dict = BaseModel.__dict__["__dict__"].__set__
_set_fields_set = BaseModel.__dict__["__pydantic_fields_set__"].__set__
_set_extra = BaseModel.__dict__["__pydantic_extra__"].__set__
_set_private = BaseModel.__dict__["__pydantic_private__"].__set__


# The fields given to every event, and to most with their attributes: copied from these, a set
# of five names takes two thirds of the memory it does when built a name at a time.
_EVENT_FIELDS = frozenset({"event_id", "timestamp", "event_type", "content"})
_EVENT_FIELDS_WITH_ATTRIBUTES = _EVENT_FIELDS | {"attributes"}

_Handler = Callable[["CodexSessionBuilder", dict[str, Any], Any], None]
_Usage = tuple[int, int]


class _Draft:
    """An event in the making: numbered, typed and filled in as its records arrive."""

    __slots__ = ("attributes", "blocks", "call_name", "call_success", "duration_ms", "event_id",
                 "event_type", "exit_code", "number", "task_id", "timestamp",
                 "unechoed_user_item")  # fmt: skip

    def __init__(
        self, number: int, timestamp: datetime, event_type: m.HailModel, blocks: list[m.HailModel]
    ) -> None:
        self.number = number
        self.event_id = f"codex-{number}"
        self.timestamp = timestamp
        self.event_type = event_type
        self.blocks = blocks
        self.attributes: dict[str, Any] | None = None
        self.task_id: str | None = None
        self.duration_ms: int | None = None
        self.unechoed_user_item = False
        """A user-role response item no ``user_message`` event has echoed (yet)."""
        self.call_name = ""
        """The tool a call draft called, for its result."""
        self.exit_code: int | None = None
        self.call_success: bool | None = None

    def attrs(self) -> dict[str, Any]:
        """The event's attributes, to fill in."""
        if self.attributes is None:
            self.attributes = {}
        return self.attributes


class _Echo:
    """A message or reasoning draft that the other stream may echo."""

    __slots__ = ("draft", "injected", "kind", "open_texts", "stream")

    def __init__(
        self, draft: _Draft, stream: str, kind: str, texts: list[str], injected: bool
    ) -> None:
        self.draft = draft
        self.stream = stream
        self.kind = kind
        self.open_texts = texts
        """Texts no echo has matched yet; the draft is fully echoed when this is empty."""
        self.injected = injected


class _PatchFile:
    """One file of an ``apply_patch`` body."""

    __slots__ = ("body", "move_to", "operation", "path")

    def __init__(self, operation: str, path: str) -> None:
        self.operation = operation
        self.path = path
        self.move_to: str | None = None
        self.body: list[str] = []

    def diff(self) -> str:
        body = "".join(self.body)
        if body and not body.endswith("\n"):
            body += "\n"
        source = f"a/{self.path.lstrip('/')}"
        target = f"b/{(self.move_to or self.path).lstrip('/')}"
        if self.operation == "add":
            return f"--- /dev/null\n+++ {target}\n@@ -0,0 +1,{body.count(chr(10))} @@\n{body}"
        if self.operation == "delete":
            return f"--- {source}\n+++ /dev/null\n{body}"
        return f"--- {source}\n+++ {target}\n{body}"


def parse_patch(patch: str) -> list[_PatchFile]:
    """The files of a Codex ``apply_patch`` body (``*** Begin Patch`` … ``*** End Patch``),
    each with its hunk lines (markers such as ``*** End of File`` left out)."""
    files: list[_PatchFile] = []
    current: _PatchFile | None = None
    body_start = 0
    for marker in _PATCH_MARKER.finditer(patch):
        if current is not None:
            current.body.append(patch[body_start : marker.start()])
        body_start = marker.end() + 1
        kind, argument = marker[1], (marker[2] or "").strip()
        if kind in _PATCH_OPERATIONS:
            current = _PatchFile(_PATCH_OPERATIONS[kind], argument)
            files.append(current)
        elif kind == "Move to" and current is not None:
            current.move_to = argument
        elif kind == "End Patch":
            current = None
    if current is not None:
        current.body.append(patch[body_start:])
    return files


def _patch_text(name: str, arguments: Any) -> str | None:
    """The patch of an ``apply_patch`` call, or of a shell call running ``apply_patch``."""
    if name == "apply_patch":
        if isinstance(arguments, str):
            return arguments if "*** Begin Patch" in arguments else None
        if isinstance(arguments, dict):
            for key in ("input", "patch"):
                value = arguments.get(key)
                if isinstance(value, str):
                    return value
    elif isinstance(arguments, dict):
        command = arguments.get("command")
        if isinstance(command, list) and len(command) == 2 and command[0] == "apply_patch":
            return command[1] if isinstance(command[1], str) else None
    return None


def _patch_event(patch_file: _PatchFile) -> tuple[m.HailModel, list[m.HailModel]]:
    diff = patch_file.diff()
    blocks: list[m.HailModel] = [m.CodeBlock(code=diff, language="diff")]
    if patch_file.operation == "add":
        return m.FileCreate(data=m.PathData(path=patch_file.path)), blocks
    if patch_file.operation == "delete":
        return m.FileDelete(data=m.PathData(path=patch_file.path)), blocks
    return m.FileEdit(data=m.FileEditData(path=patch_file.path, diff=diff)), blocks


def _time(value: Any) -> datetime | None:
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return parse_timestamp(value)
        return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)
    return parse_timestamp(value)


def _json_or_text(text: str) -> Any:
    """``text`` read as JSON, else ``text`` itself (a ``try`` costs less than ``suppress``)."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return text


def _string(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _is_injected(text: str) -> bool:
    return (text.lstrip() if text[:1].isspace() else text).startswith(_INJECTED_PREFIXES)


def _blank(text: str) -> bool:
    return not text or text.isspace()


def _text_block(text: str) -> m.TextBlock:
    return _new_text_block({"text": text}, strict=True)


def _image_block(url: str) -> m.ImageBlock:
    if url.startswith("data:"):
        mime = url[5:].split(";", 1)[0].split(",", 1)[0] or "image/png"
    else:
        suffix = url.rsplit(".", 1)[-1].lower() if "." in url else "png"
        mime = "image/jpeg" if suffix in ("jpg", "jpeg") else f"image/{suffix}"
    return m.ImageBlock(url=url, mime=mime)


def _parts(content: Any) -> tuple[list[str], list[m.HailModel]]:
    """Texts and image blocks of a ``content`` part list (or plain string)."""
    if isinstance(content, str):
        return [content], []
    texts: list[str] = []
    images: list[m.HailModel] = []
    if isinstance(content, list):
        for part in content:
            if not isinstance(part, dict):
                continue
            text = part.get("text")
            if isinstance(text, str):
                texts.append(text)
            elif isinstance(url := part.get("image_url"), str) and url:
                images.append(_image_block(url))
    return texts, images


def _usage(value: Any) -> _Usage | None:
    """``(input, output)`` tokens of a usage object; None when it has neither."""
    if type(value) is not dict:
        return None
    tokens_in = value.get("input_tokens")
    tokens_out = value.get("output_tokens")
    if tokens_in is None and tokens_out is None:
        return None
    return (
        tokens_in if type(tokens_in) is int else 0,
        tokens_out if type(tokens_out) is int else 0,
    )


def _shell_arguments(arguments: dict[str, Any]) -> dict[str, Any]:
    """Arguments with a ``["bash", "-lc", script]`` command list unwrapped to its script."""
    command = arguments.get("command")
    if (
        isinstance(command, list)
        and len(command) == 3
        and command[0] in _SHELL_WRAPPERS
        and command[1] in ("-lc", "-c")
        and isinstance(command[2], str)
    ):
        return {**arguments, "command": command[2]}
    return arguments


def _shell_command(arguments: dict[str, Any]) -> str | None:
    """The command line of a shell call, read as ``tool_event_type`` reads it (``command``, else
    ``cmd``; a list joined); None when it has none."""
    command = arguments.get("command", arguments.get("cmd"))
    if isinstance(command, list) and all(isinstance(part, str) for part in command):
        command = shlex.join(command)
    return command if isinstance(command, str) and command else None


def _output(output: Any) -> tuple[str, list[m.HailModel], bool | None]:
    """A tool output's text, its images, and its ``success`` flag where it has one."""
    if isinstance(output, str):
        return output, [], None
    if isinstance(output, list):
        texts, images = _parts(output)
        return "\n".join(texts), images, None
    if isinstance(output, dict):
        success = output.get("success")
        text, images, _ = _output(output.get("content", output.get("output", "")))
        return text, images, success if isinstance(success, bool) else None
    return "", [], None


def _unwrap_output(text: str) -> tuple[str, int | None]:
    """The output text and exit code of the ``{"output": …, "metadata": {"exit_code": …}}``
    shape older shells and apply_patch write; else the text and the exit code it states."""
    if text.startswith("{") and '"metadata"' in text:
        with contextlib.suppress(orjson.JSONDecodeError):
            value = orjson.loads(text)
            if isinstance(value, dict) and isinstance(value.get("output"), str):
                metadata = value.get("metadata")
                code = metadata.get("exit_code") if isinstance(metadata, dict) else None
                return value["output"], code if isinstance(code, int) else None
    # A quick look for "Exit code: N" / "Process exited with code N" before the regex.
    mention = text.find("xit", 0, _EXIT_CODE_HEAD)
    found = _EXIT_CODE.search(text, max(mention - 9, 0), _EXIT_CODE_HEAD) if mention >= 0 else None
    return text, int(found[1]) if found else None


class CodexSessionBuilder:
    """Builds a Codex session from a rollout's records, fed in file order."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.source = str(path)
        self.warnings: list[ParseWarning] = []
        self.records = SourceRecords()
        self._line = 0
        self._drafts: list[_Draft] = []
        self._published = 0
        """Drafts already handed out in a built session: their event type is not mutated."""
        self._time: datetime | None = None
        self._meta: dict[str, Any] | None = None
        self._meta_time: datetime | None = None
        self._models: Counter[str] = Counter()
        self._turn_cwd: str | None = None
        self._open_turn: _Draft | None = None
        self._turn_settings_taken = False
        self._calls: dict[str, _Draft] = {}
        self._echoes: list[_Echo] = []
        self._user_messages_logged = 0
        self._last_model_draft: _Draft | None = None
        self._pending_tokens: list[tuple[_Usage | None, _Usage | None]] = []
        self._last_total: _Usage | None = None
        self._last_compacted: _Draft | None = None
        self._warned_types: set[str] = set()
        self._tool_call_types: dict[str, m.HailModel] = {}
        self._context_tail: bytes | None = None
        """What followed the head of the last turn context decoded (``_repeated_context``)."""
        self._context_payload: dict[str, Any] = {}
        self._context_seen: tuple[int, bytes, bytes, bytes] | None = None
        """The line number, tail and head values of a turn context about to be decoded."""

    # --- feeding records ---

    def add(self, record: dict[str, Any], line: int) -> None:
        """Take the next record of the rollout (line number ``line``)."""
        self._line = line
        kind = record.get("type")
        if type(kind) is not str:
            kind = None
        payload = record.get("payload")
        if type(payload) is dict and kind in _NESTED_HANDLERS:
            # Most records: a response item or event message of a known type, dispatched here
            # on that type (the general path below takes a call more per record).
            inner = payload.get("type")
            handler = _NESTED_HANDLERS[kind].get(inner) if type(inner) is str else None
            if handler is not None:
                handler(self, payload, record.get("timestamp"))
                return
        handler = _ENVELOPE_HANDLERS.get(kind) if kind else None
        if handler is not None and type(payload) is dict:
            handler(self, payload, record.get("timestamp"))
        elif handler is not None and "payload" in record:
            self._warn(f"{kind} record: field 'payload' is not an object")
            self.records.skip("malformed payload")
        elif kind in _BARE_ITEM_TYPES:
            self._response_item(record, record.get("timestamp"))
        elif record.get("record_type") == "state":
            self.records.skip("state")
        elif kind is None and "id" in record and self._meta is None:
            self._session_meta(record, record.get("timestamp"))
        else:
            self._unknown(kind or "record without a type")

    def quick_reader(self) -> Callable[[bytes, int], bool]:
        """Repeated turn contexts are read from their bytes (see ``_repeated_context``)."""
        return self._repeated_context

    def _repeated_context(self, raw: bytes, line: int) -> bool:
        """Take a ``turn_context`` line that repeats the last one decoded but for its time and
        turn id, without decoding it: Codex writes the same settings, instructions included,
        for every turn, often half a rollout's bytes. The line's head must have the exact form
        ``{"timestamp":"…","type":"turn_context","payload":{"turn_id":"…",`` (no escapes in
        either value) and the rest must be byte for byte what followed the same head in that
        decoded line: it then holds the same JSON, and the record is that line's with this
        time and turn id. Short lines, most of a rollout, are not looked at: decoding them
        costs little."""
        if len(raw) < _CONTEXT_CACHE_MIN or raw.find(_CONTEXT_TYPE, 0, _CONTEXT_TYPE_SCAN) < 0:
            return False
        head = _CONTEXT_HEAD.match(raw)
        if head is None:
            return False
        tail = self._context_tail
        if tail is None or len(raw) - head.end() != len(tail) or not raw.endswith(tail):
            self._context_seen = (line, raw[head.end() :], head[1], head[2])
            return False
        try:
            raw_time, turn_id = head[1].decode(), head[2].decode()
        except UnicodeDecodeError:
            return False
        self._line = line
        self._turn_context({**self._context_payload, "turn_id": turn_id}, raw_time)
        return True

    def _remember_context(self, payload: dict[str, Any], raw_time: Any) -> None:
        """Keep a decoded turn context for ``_repeated_context``, when its line had the head
        that function reads and the head's values are those decoded (no key repeated later)."""
        seen, self._context_seen = self._context_seen, None
        if seen is None or seen[0] != self._line:
            return
        _, tail, head_time, head_turn = seen
        if raw_time == head_time.decode() and payload.get("turn_id") == head_turn.decode():
            self._context_tail = tail
            self._context_payload = {k: v for k, v in payload.items() if k != "turn_id"}

    def _warn(self, reason: str) -> None:
        self.warnings.append(ParseWarning(self.source, reason, self._line))

    def _unknown(self, kind: str) -> None:
        self.records.skip(f"unknown:{kind}")
        if kind not in self._warned_types:
            self._warned_types.add(kind)
            self._warn(f"unknown record type {kind!r} skipped (later ones are counted only)")

    def _text_field(self, payload: dict[str, Any], key: str) -> str | None:
        """``payload[key]`` when it is a string; a warning naming the field when it is there
        with another type."""
        value = payload.get(key)
        if value is None or isinstance(value, str):
            return value
        self._warn(f"field {key!r} is a {type(value).__name__}, expected a string")
        return None

    def _fallback_time(self) -> datetime:
        """The session's start: its own time, else the file's modification time."""
        if self._meta_time is not None:
            return self._meta_time
        try:
            return datetime.fromtimestamp(self.path.stat().st_mtime, UTC)
        except OSError:
            return datetime.fromtimestamp(0, UTC)

    def _new(
        self,
        raw_time: Any,
        event_type: m.HailModel,
        blocks: list[m.HailModel],
        *,
        from_model: bool = False,
        counted: bool = True,
    ) -> _Draft:
        """A new draft; ``counted`` when it is the first event of its record."""
        timestamp = _time(raw_time) if raw_time is not None else None
        if timestamp is None:
            if raw_time is not None:
                self._warn(f"field 'timestamp' is not a time ({raw_time!r:.40}); using the last")
            timestamp = self._time or self._fallback_time()  # the previous event's, or the start
        else:
            self._time = timestamp
        draft = _Draft(len(self._drafts) + 1, timestamp, event_type, blocks)
        self._drafts.append(draft)
        if from_model:
            self._last_model_draft = draft
        if self._pending_tokens:
            for total, last in self._pending_tokens:
                self._put_tokens(draft, total, last)
            self._pending_tokens.clear()
        if counted:
            self.records.mapped += 1
        return draft

    def _new_step(
        self,
        raw_time: Any,
        event_type: m.HailModel,
        blocks: list[m.HailModel],
        *,
        from_model: bool = False,
        counted: bool = True,
    ) -> _Draft:
        """A draft that is no message: it closes the window in which echoes are looked for."""
        self._echoes.clear()
        self._last_compacted = None
        return self._new(raw_time, event_type, blocks, from_model=from_model, counted=counted)

    # --- session_meta, turn_context, compacted ---

    def _session_meta(self, payload: dict[str, Any], raw_time: Any) -> None:
        if self._meta is not None:
            self.records.skip("repeated session_meta")
            return
        self._meta = payload
        self._meta_time = _time(payload.get("timestamp")) or _time(raw_time)
        instructions = payload.get("instructions")
        if isinstance(instructions, str) and instructions.strip():
            blocks: list[m.HailModel] = [_text_block(instructions)]
            self._new(raw_time or payload.get("timestamp"), _SYSTEM_MESSAGE, blocks)
        else:
            self.records.skip("read into context")

    def _turn_context(self, payload: dict[str, Any], raw_time: Any) -> None:
        if self._context_seen is not None:
            self._remember_context(payload, raw_time)
        model = self._text_field(payload, "model")
        if model:
            self._models[model] += 1
        cwd = self._text_field(payload, "cwd")
        if cwd and self._turn_cwd is None:
            self._turn_cwd = cwd
        turn = self._open_turn
        turn_id = payload.get("turn_id")
        if turn is None or (turn_id is not None and turn_id != turn.task_id):
            self.records.skip("read into context")
            return
        if not self._turn_settings_taken:
            self._turn_settings_taken = True
            turn.attrs().update(self._turn_settings(payload))
        self.records.merged += 1

    @staticmethod
    def _turn_settings(payload: dict[str, Any]) -> dict[str, Any]:
        settings: dict[str, Any] = {}
        for key in ("model", "cwd", "approval_policy", "effort"):
            value = payload.get(key)
            if isinstance(value, str) and value:
                settings[key] = value
        sandbox = payload.get("sandbox_policy")
        if isinstance(sandbox, dict):
            sandbox = sandbox.get("type", sandbox.get("mode"))
        if isinstance(sandbox, str) and sandbox:
            settings["sandbox_policy"] = sandbox
        return settings

    def _compacted(self, payload: dict[str, Any], raw_time: Any) -> None:
        message = _string(payload.get("message"))
        blocks: list[m.HailModel] = [_text_block(message)] if message else []
        kind = m.Custom(data=m.CustomData(kind="compacted"))
        self._last_compacted = self._new_step(raw_time, kind, blocks)

    def _context_compacted(self, payload: dict[str, Any], raw_time: Any) -> None:
        if self._last_compacted is not None:  # the event announcing the compacted record
            self._last_compacted = None
            self.records.merged += 1
            return
        self._new_step(raw_time, m.Custom(data=m.CustomData(kind="context_compacted")), [])

    # --- response items ---

    def _response_item(self, payload: dict[str, Any], raw_time: Any) -> None:
        kind = payload.get("type")
        if type(kind) is not str:
            # Some writers leave out the type of a message item.
            kind = "message" if "role" in payload else None
        handler = _ITEM_HANDLERS.get(kind)
        if handler is not None:
            handler(self, payload, raw_time)
        elif kind in _SKIPPED_ITEMS:
            self.records.skip(_SKIPPED_ITEMS[kind])
        else:
            self._unknown(f"response_item:{kind}")

    def _message(self, payload: dict[str, Any], raw_time: Any) -> None:
        content = payload.get("content")
        if not isinstance(content, (list, str)):
            self._warn("message: field 'content' is not a list of parts")
        texts, images = _parts(content)
        text = "\n\n".join(texts)
        if _blank(text) and not images:
            self.records.skip("empty message")
            return
        role = payload.get("role")
        if role == "assistant":
            self._echoed(raw_time, "ri", "agent", [text], text, images, _AGENT_MESSAGE)
        elif role == "user":
            injected = _is_injected(text)
            self._echoed(raw_time, "ri", "user", [text], text, images, _USER_MESSAGE, injected)
        else:
            blocks: list[m.HailModel] = [_text_block(text)] if text else []
            self._new(raw_time, _SYSTEM_MESSAGE, blocks + images)

    def _reasoning(self, payload: dict[str, Any], raw_time: Any) -> None:
        summary, _ = _parts(payload.get("summary"))
        content, _ = _parts(payload.get("content"))
        texts = [text for text in (*summary, *content) if not _blank(text)]
        if not texts:
            self.records.skip("encrypted reasoning")
            return
        self._echoed(raw_time, "ri", "reasoning", texts, "\n\n".join(texts), [], _THINKING)

    def _function_call(self, payload: dict[str, Any], raw_time: Any) -> None:
        """A call whose ``arguments`` are JSON text (a string that is not JSON is kept as is)."""
        arguments = payload.get("arguments")
        if isinstance(arguments, str):
            arguments = _json_or_text(arguments)
        self._call(payload, raw_time, arguments, custom=False)

    def _custom_tool_call(self, payload: dict[str, Any], raw_time: Any) -> None:
        """A call of a freeform tool: its ``input`` is plain text."""
        self._call(payload, raw_time, payload.get("input"), custom=True)

    def _call(self, payload: dict[str, Any], raw_time: Any, arguments: Any, custom: bool) -> None:
        name = self._text_field(payload, "name") or "unknown"
        call_id = self._text_field(payload, "call_id")
        patch = _patch_text(name, arguments)
        if patch is not None and (files := parse_patch(patch)):
            self._patch_call(raw_time, name, call_id, files)
            return
        if custom and isinstance(arguments, str):
            arguments = {"input": arguments}
        self._tool_call(raw_time, name, call_id, arguments)

    def _tool_call(self, raw_time: Any, name: str, call_id: str | None, arguments: Any) -> None:
        event_type: m.HailModel
        blocks: list[m.HailModel]
        if not isinstance(arguments, dict):
            event_type = self._tool_call_type(name)
            blocks = [_text_block(arguments)] if isinstance(arguments, str) else []
        else:
            kind = tool_kind(name)
            unwrapped = _shell_arguments(arguments)
            if kind == "shell" and (command := _shell_command(unwrapped)):
                # The most common call, made here by validators: tool_event_type and
                # tool_call_blocks would make the same models through their __init__.
                event_type = _new_shell_command({"data": {"command": command}}, strict=True)
                blocks = [_new_code_block({"code": command, "language": "bash"}, strict=True)]
            else:
                # A shell call without a command is a plain call, as is one of a tool HAIL has
                # no type for, or without what its type needs.
                event_type = self._tool_call_type(name)
                if kind not in (None, "shell"):
                    found = tool_event_type(name, unwrapped)
                    if type(found) is not m.ToolCall:
                        event_type = found
                blocks = tool_call_blocks(event_type, arguments)
        draft = self._new_step(raw_time, event_type, blocks, from_model=True)
        self._register(draft, name, call_id)

    def _tool_call_type(self, name: str) -> m.HailModel:
        """The ToolCall event type of tool ``name``: one instance per tool, shared and never
        mutated."""
        event_type = self._tool_call_types.get(name)
        if event_type is None:
            event_type = self._tool_call_types[name] = m.ToolCall(data=m.NameData(name=name))
        return event_type

    def _patch_call(
        self, raw_time: Any, name: str, call_id: str | None, files: list[_PatchFile]
    ) -> None:
        """One event per patched file; the first stands for the call."""
        drafts: list[_Draft] = []
        for patch_file in files:
            event_type, blocks = _patch_event(patch_file)
            draft = self._new_step(
                raw_time, event_type, blocks, from_model=True, counted=not drafts
            )
            if patch_file.move_to:
                draft.attrs()["move_to"] = patch_file.move_to
            if call_id:
                draft.attrs()["semantic.call_id"] = call_id
            drafts.append(draft)
        self._register(drafts[0], name, call_id)

    def _register(self, draft: _Draft, name: str, call_id: str | None) -> None:
        draft.call_name = name
        if call_id:
            draft.attrs()["semantic.call_id"] = call_id
            self._calls[call_id] = draft

    def _local_shell_call(self, payload: dict[str, Any], raw_time: Any) -> None:
        action = payload.get("action")
        arguments = action if isinstance(action, dict) else {}
        call_id = self._text_field(payload, "call_id") or self._text_field(payload, "id")
        self._tool_call(raw_time, "local_shell", call_id, arguments)

    def _web_search_call(self, payload: dict[str, Any], raw_time: Any) -> None:
        action = payload.get("action")
        action = action if isinstance(action, dict) else {}
        kind = action.get("type")
        event_type: m.HailModel = self._tool_call_type("web_search")
        if kind == "search":
            query = action.get("query")
            queries = action.get("queries")
            if not query and isinstance(queries, list) and queries:
                query = queries[0]
            event_type = tool_event_type("web_search", {"query": query})
        elif kind in ("open_page", "find_in_page"):
            event_type = tool_event_type("web_fetch", {"url": action.get("url")})
        if isinstance(event_type, m.ToolCall):
            event_type = self._tool_call_type("web_search")
        blocks: list[m.HailModel] = [m.JsonBlock(data=action)] if action else []
        self._new_step(raw_time, event_type, blocks, from_model=True)

    def _call_output(self, payload: dict[str, Any], raw_time: Any) -> None:
        call_id = self._text_field(payload, "call_id")
        output = payload.get("output")
        if isinstance(output, str):  # the usual shape
            text, images, success = output, None, None
        else:
            text, images, success = _output(output)
        text, exit_code = _unwrap_output(text)
        call = self._calls.get(call_id) if call_id else None
        if call is not None:
            if exit_code is None:
                exit_code = call.exit_code
            if success is None:
                success = call.call_success
            self._set_exit_code(call, exit_code)
        data = {
            "name": call.call_name if call is not None else "unknown",
            "is_error": success is False or (exit_code is not None and exit_code != 0),
            "call_id": call.event_id if call is not None else None,
        }
        blocks: list[m.HailModel] = [_text_block(text)] if text else []
        if images:
            blocks.extend(images)
        draft = self._new_step(raw_time, _new_tool_result({"data": data}, strict=True), blocks)
        if call_id:
            draft.attrs()["semantic.call_id"] = call_id

    def _set_exit_code(self, call: _Draft, exit_code: int | None) -> None:
        call.exit_code = exit_code
        event_type = call.event_type
        if exit_code is None or type(event_type) is not m.ShellCommand:
            return
        if call.number > self._published:
            event_type.data.exit_code = exit_code  # not handed out yet: no copy needed
        else:
            data = m.ShellCommandData(command=event_type.data.command, exit_code=exit_code)
            call.event_type = m.ShellCommand(data=data)

    # --- event messages ---

    def _event_msg(self, payload: dict[str, Any], raw_time: Any) -> None:
        kind = payload.get("type")
        if type(kind) is not str:
            kind = None
        handler = _EVENT_HANDLERS.get(kind)
        if handler is not None:
            handler(self, payload, raw_time)
        elif kind in _CUSTOM_EVENTS:
            self._custom_event(payload, raw_time, kind)
        elif kind in _SKIPPED_EVENTS:
            self.records.skip(kind)
        else:
            self._unknown(f"event_msg:{kind}")

    def _custom_event(self, payload: dict[str, Any], raw_time: Any, kind: str) -> None:
        message = payload.get("message")
        rest = {key: value for key, value in payload.items() if key != "type"}
        blocks: list[m.HailModel] = []
        if isinstance(message, str) and message:
            blocks.append(_text_block(message))
        elif rest:
            blocks.append(m.JsonBlock(data=rest))
        self._new_step(raw_time, m.Custom(data=m.CustomData(kind=kind)), blocks)

    def _user_message(self, payload: dict[str, Any], raw_time: Any) -> None:
        text = self._text_field(payload, "message") or ""
        images = [
            _image_block(url)
            for key in ("images", "local_images")
            if isinstance(urls := payload.get(key), list)
            for url in urls
            if isinstance(url, str) and url
        ]
        if _blank(text) and not images:
            self.records.skip("empty message")
            return
        injected = payload.get("kind") in _CONTEXT_MESSAGE_KINDS or _is_injected(text)
        if not injected:
            self._user_messages_logged += 1
        self._echoed(raw_time, "em", "user", [text], text, images, _USER_MESSAGE, injected)

    def _agent_message(self, payload: dict[str, Any], raw_time: Any) -> None:
        text = self._text_field(payload, "message") or ""
        if _blank(text):
            self.records.skip("empty message")
            return
        self._echoed(raw_time, "em", "agent", [text], text, [], _AGENT_MESSAGE)

    def _agent_reasoning(self, payload: dict[str, Any], raw_time: Any) -> None:
        text = self._text_field(payload, "text") or self._text_field(payload, "message") or ""
        if _blank(text):
            self.records.skip("empty reasoning")
            return
        self._echoed(raw_time, "em", "reasoning", [text], text, [], _THINKING)

    def _task_started(self, payload: dict[str, Any], raw_time: Any) -> None:
        draft = self._new_step(raw_time, m.TaskStart(), [_text_block("task started")])
        draft.task_id = self._text_field(payload, "turn_id")
        self._open_turn = draft
        self._turn_settings_taken = False

    def _task_complete(self, payload: dict[str, Any], raw_time: Any) -> None:
        summary = self._text_field(payload, "last_agent_message") or None
        event_type = m.TaskEnd(data=m.TaskEndData(summary=summary))
        self._end_turn(payload, raw_time, event_type, summary or "task complete")

    def _turn_aborted(self, payload: dict[str, Any], raw_time: Any) -> None:
        reason = _string(payload.get("reason")) or "unknown"
        draft = self._end_turn(payload, raw_time, m.TaskEnd(), f"turn aborted ({reason})")
        draft.attrs()["abort_reason"] = reason

    def _end_turn(
        self, payload: dict[str, Any], raw_time: Any, event_type: m.HailModel, text: str
    ) -> _Draft:
        turn_id = self._text_field(payload, "turn_id")
        if turn_id is None and self._open_turn is not None:
            turn_id = self._open_turn.task_id
        draft = self._new_step(raw_time, event_type, [_text_block(text)])
        draft.task_id = turn_id
        self._open_turn = None
        return draft

    def _exec_command_end(self, payload: dict[str, Any], raw_time: Any) -> None:
        call = self._call_of(payload)
        if call is None:
            self.records.skip("exec_command_end without its call")
            return
        exit_code = payload.get("exit_code")
        if isinstance(exit_code, int) and not isinstance(exit_code, bool):
            self._set_exit_code(call, exit_code)
        duration = payload.get("duration")
        if isinstance(duration, dict):
            seconds, nanos = duration.get("secs", 0), duration.get("nanos", 0)
            if isinstance(seconds, int) and isinstance(nanos, int):
                call.duration_ms = seconds * 1000 + nanos // 1_000_000
        self.records.merged += 1

    def _patch_apply_end(self, payload: dict[str, Any], raw_time: Any) -> None:
        call = self._call_of(payload)
        if call is None:
            self.records.skip("patch_apply_end without its call")
            return
        success = payload.get("success")
        if isinstance(success, bool):
            call.call_success = success
        self.records.merged += 1

    def _call_of(self, payload: dict[str, Any]) -> _Draft | None:
        call_id = self._text_field(payload, "call_id")
        return self._calls.get(call_id) if call_id else None

    def _item_completed(self, payload: dict[str, Any], raw_time: Any) -> None:
        item = payload.get("item")
        item_type = item.get("type") if isinstance(item, dict) else None
        if item_type != "Plan":
            self.records.skip(f"item_completed:{item_type}")
            return
        text = _string(item.get("text"))
        blocks: list[m.HailModel] = [_text_block(text)] if text else []
        self._new_step(raw_time, m.Custom(data=m.CustomData(kind="plan_completed")), blocks)

    # --- tokens ---

    def _token_count(self, payload: dict[str, Any], raw_time: Any) -> None:
        info = payload.get("info")
        total = last = None
        if isinstance(info, dict):
            total = _usage(info.get("total_token_usage"))
            if total is not None and total == self._last_total:
                self.records.merged += 1  # re-sent with new rate limits: the same response
                return
            last = _usage(info.get("last_token_usage"))
        else:
            last = _usage(payload)
        if total is None and last is None:
            self.records.skip("token_count without usage")
            return
        self.records.merged += 1
        if total is not None:
            self._last_total = total
        target = self._last_model_draft or (self._drafts[-1] if self._drafts else None)
        if target is None:
            self._pending_tokens.append((total, last))
        else:
            self._put_tokens(target, total, last)

    @staticmethod
    def _put_tokens(draft: _Draft, total: _Usage | None, last: _Usage | None) -> None:
        attributes = draft.attrs()
        if total is not None:
            attributes["input_tokens_total"] = max(
                attributes.get("input_tokens_total", 0), total[0]
            )
            attributes["output_tokens_total"] = max(
                attributes.get("output_tokens_total", 0), total[1]
            )
        if last is not None:
            attributes["input_tokens"] = attributes.get("input_tokens", 0) + last[0]
            attributes["output_tokens"] = attributes.get("output_tokens", 0) + last[1]

    # --- echoes: the same message in both streams ---

    def _echoed(
        self,
        raw_time: Any,
        stream: str,
        kind: str,
        texts: list[str],
        text: str,
        images: list[m.HailModel],
        event_type: m.HailModel,
        injected: bool = False,
    ) -> None:
        """A message or reasoning record of stream ``ri`` (response items) or ``em`` (event
        messages): merged into the draft it echoes, else a new draft."""
        partners = self._partners(stream, kind, texts, injected)
        if partners:
            if kind == "user" and stream == "em":
                self._take_user_words(partners[0].draft, text, images)
            self.records.merged += 1
            return
        blocks: list[m.HailModel] = [_text_block(text)] if text else []
        if images:
            blocks.extend(images)
        if injected:
            event_type = _SYSTEM_MESSAGE
        draft = self._new(raw_time, event_type, blocks, from_model=kind != "user")
        if kind == "user" and stream == "ri" and not injected:
            draft.unechoed_user_item = True
        self._echoes.append(_Echo(draft, stream, kind, texts, injected))
        if len(self._echoes) > _ECHO_WINDOW:
            del self._echoes[0]

    def _partners(self, stream: str, kind: str, texts: list[str], injected: bool) -> list[_Echo]:
        """The drafts of the other stream this record echoes, now marked as echoed: those
        with the same text, else the one just before it (the same message with its text in
        another form, as when a log was redacted differently in each stream)."""
        if not self._echoes:
            return []
        last = self._echoes[-1]
        if (  # the usual case: the echo right after its original, with the same text
            last.kind == kind
            and last.stream != stream
            and len(texts) == 1
            and len(last.open_texts) == 1
            and last.open_texts[0] == texts[0]
        ):
            last.open_texts = []
            return [last]
        candidates = [
            echo
            for echo in self._echoes
            if echo.kind == kind and echo.stream != stream and echo.open_texts
        ]
        if not candidates:
            return []
        adjacent = last is candidates[-1] and last.injected == injected
        wanted = texts
        if kind == "reasoning" and stream == "ri":
            # A reasoning item echoes the agent_reasoning events of its summary parts.
            matched = [echo for echo in candidates if echo.open_texts[0] in wanted]
            if not matched and adjacent:
                matched = candidates[-len(wanted) :]
            for echo in matched:
                echo.open_texts = []
            return matched
        match = next((echo for echo in candidates if wanted[0] in echo.open_texts), None)
        if match is None:
            if not adjacent:
                return []
            match = candidates[-1]
            wanted = match.open_texts[:1]
        if kind == "reasoning":
            # An agent_reasoning event echoes one summary part of a reasoning item.
            match.open_texts = [text for text in match.open_texts if text != wanted[0]]
        else:
            match.open_texts = []
        return [match]

    @staticmethod
    def _take_user_words(draft: _Draft, text: str, images: list[m.HailModel]) -> None:
        """A user item echoed by its ``user_message`` event: the event holds the user's own
        words (the item may wrap them in IDE context); images come from the item if it has
        any, else from the event."""
        draft.unechoed_user_item = False
        if not text:
            return
        item_images = [block for block in draft.blocks if not isinstance(block, m.TextBlock)]
        draft.blocks = [_text_block(text), *(item_images or images)]

    # --- building ---

    def build(self, *, final: bool = False) -> ParseResult:
        """The session from the records so far (callable again after more are added, unless
        ``final``)."""
        if self.records.total == 0:
            raise SessionParseError(self.path, "no readable Codex records")
        events = self._events(final)
        self._published = len(self._drafts)
        meta = self._meta or {}
        created = events[0].timestamp if events else self._fallback_time()
        model = self._models.most_common(1)[0][0] if self._models else "unknown"
        session = m.Session(
            session_id=self._session_id(meta),
            agent=m.Agent(
                provider=self._provider(meta, model),
                model=model,
                tool=TOOL,
                tool_version=_string(meta.get("cli_version")) or None,
            ),
            context=m.Context(
                title=self._title(events),
                tags=[TOOL],
                created_at=created,
                updated_at=events[-1].timestamp if events else created,
                attributes=self._context_attributes(meta),
            ),
            events=events,
            stats=compute_stats(events),
        )
        return ParseResult([session], list(self.warnings))

    def _events(self, final: bool) -> list[m.Event]:
        """An event per draft, with timestamps made non-decreasing in event order as HAIL
        requires (``keep_timestamps_in_order``, done here on the drafts: an event stamped
        early costs no pydantic assignment). Events and their content are constructed here,
        in one loop: this runs once per event of every parse. Unless ``final``, each
        event gets its own copy of its draft's attributes and blocks (the draft may change
        after, the event must not)."""
        context_only = self._user_messages_logged > 0
        events: list[m.Event] = []
        latest: datetime | None = None
        new_object, event_class, content_class = _new_object, m.Event, m.Content
        set_dict, set_fields_set, set_extra, set_private = (
            _set_dict, _set_fields_set, _set_extra, _set_private
        )  # fmt: skip
        for draft in self._drafts:
            timestamp = draft.timestamp
            attributes = draft.attributes
            if attributes is None:
                attributes = {}
            elif not final:
                attributes = attributes.copy()
            if latest is not None and timestamp < latest:
                attributes["source.timestamp"] = format_timestamp(timestamp)
                timestamp = latest
            else:
                latest = timestamp
            event_type = draft.event_type
            if context_only and draft.unechoed_user_item:
                event_type = _SYSTEM_MESSAGE
            fields_set = set(_EVENT_FIELDS_WITH_ATTRIBUTES if attributes else _EVENT_FIELDS)
            if draft.task_id is not None:
                fields_set.add("task_id")
            if draft.duration_ms is not None:
                fields_set.add("duration_ms")
            content = new_object(content_class)
            set_dict(content, {"blocks": draft.blocks if final else draft.blocks.copy()})
            set_fields_set(content, {"blocks"})
            set_extra(content, {})
            set_private(content, None)
            event = new_object(event_class)
            set_dict(
                event,
                {
                    "event_id": draft.event_id,
                    "timestamp": timestamp,
                    "event_type": event_type,
                    "task_id": draft.task_id,
                    "content": content,
                    "duration_ms": draft.duration_ms,
                    "attributes": attributes,
                },
            )
            set_fields_set(event, fields_set)
            set_extra(event, {})
            set_private(event, None)
            events.append(event)
        return events

    def _session_id(self, meta: dict[str, Any]) -> str:
        session_id = meta.get("id")
        if isinstance(session_id, str) and session_id:
            return session_id
        found = _FILENAME_ID.search(self.path.name)
        return found[1] if found else self.path.stem

    @staticmethod
    def _provider(meta: dict[str, Any], model: str) -> str:
        provider = meta.get("model_provider")
        if isinstance(provider, str) and provider:
            return provider
        return provider_for_model(model, default="openai")

    @staticmethod
    def _title(events: list[m.Event]) -> str | None:
        for event in events:
            if isinstance(event.event_type, m.UserMessage):
                title = title_from_text(event.text())
                if title:
                    return title
        return None

    def _context_attributes(self, meta: dict[str, Any]) -> dict[str, Any]:
        attributes: dict[str, Any] = {}
        cwd = meta.get("cwd")
        cwd = cwd if isinstance(cwd, str) and cwd else self._turn_cwd
        if cwd:
            attributes["cwd"] = cwd
        git = meta.get("git")
        if isinstance(git, dict):
            known = {
                key: git[key]
                for key in ("branch", "commit_hash", "repository_url")
                if isinstance(git.get(key), str) and git[key]
            }
            if known:
                attributes["git"] = known
        for key, name in (("originator", "originator"), ("cli_version", "version")):
            value = meta.get(key)
            if isinstance(value, str) and value:
                attributes[name] = value
        attributes["source_path"] = self.source
        attributes.update(self._role(meta))
        records = SourceRecords(
            self.records.mapped, self.records.merged, Counter(self.records.skipped)
        )
        if self._pending_tokens:  # token counts before any event: nothing to put them on
            records.merged -= len(self._pending_tokens)
            records.skipped["token_count before any event"] += len(self._pending_tokens)
        attributes[SOURCE_RECORDS_ATTRIBUTE] = records.to_attribute()
        return attributes

    @staticmethod
    def _role(meta: dict[str, Any]) -> dict[str, Any]:
        """``session_role``, and for a sub-agent's rollout ``parent_session_id``."""
        source = meta.get("source")
        if not isinstance(source, dict) or "subagent" not in source:
            return {"session_role": "primary"}
        role: dict[str, Any] = {"session_role": "auxiliary"}
        subagent = source["subagent"]
        spawn = subagent.get("thread_spawn") if isinstance(subagent, dict) else None
        parent = spawn.get("parent_thread_id") if isinstance(spawn, dict) else None
        if isinstance(parent, str) and parent:
            role["parent_session_id"] = parent
        return role


# Handlers by record type (module-level, so that a builder holds no cycle through its methods).
_B = CodexSessionBuilder
_ENVELOPE_HANDLERS: dict[str, _Handler] = {
    "session_meta": _B._session_meta,
    "turn_context": _B._turn_context,
    "response_item": _B._response_item,
    "event_msg": _B._event_msg,
    "compacted": _B._compacted,
}
_ITEM_HANDLERS: dict[str, _Handler] = {
    "message": _B._message,
    "reasoning": _B._reasoning,
    "function_call": _B._function_call,
    "custom_tool_call": _B._custom_tool_call,
    "local_shell_call": _B._local_shell_call,
    "function_call_output": _B._call_output,
    "custom_tool_call_output": _B._call_output,
    "web_search_call": _B._web_search_call,
}
_EVENT_HANDLERS: dict[str, _Handler] = {
    "user_message": _B._user_message,
    "agent_message": _B._agent_message,
    "agent_reasoning": _B._agent_reasoning,
    "agent_reasoning_raw_content": _B._agent_reasoning,
    "token_count": _B._token_count,
    "task_started": _B._task_started,
    "task_complete": _B._task_complete,
    "turn_aborted": _B._turn_aborted,
    "exec_command_end": _B._exec_command_end,
    "patch_apply_end": _B._patch_apply_end,
    "context_compacted": _B._context_compacted,
    "item_completed": _B._item_completed,
}

_NESTED_HANDLERS = {"response_item": _ITEM_HANDLERS, "event_msg": _EVENT_HANDLERS}


class CodexParser(AppendOnlyParser):
    """Codex CLI and Codex Desktop rollouts (``rollout-*.jsonl``)."""

    tool = TOOL

    def new_builder(self, path: Path) -> SessionBuilder:
        """An empty builder for the rollout at ``path``."""
        return CodexSessionBuilder(path)

    def detect(self, path: Path, head: bytes) -> Detection | None:
        """A rollout by its records' envelope (``{timestamp, type, payload}``), the older
        first line (``id`` + ``timestamp`` + ``instructions`` or bare items after it), or,
        weakly, its ``rollout-*.jsonl`` name."""
        named = path.name.startswith("rollout-") and path.name.endswith(".jsonl")
        records = first_json_lines(head)
        if records:
            if any(_is_envelope(record) for record in records):
                return Detection(TOOL, 95, "Codex rollout records (type + payload envelope)")
            if _is_old_meta(records[0], records[1:]):
                confidence = 85 if named else 75
                return Detection(TOOL, confidence, "pre-2025 Codex rollout (id + instructions)")
            rest = records[1:]
            if named and rest and all(_type_of(record) in _BARE_ITEM_TYPES for record in rest):
                return Detection(TOOL, 50, "rollout-*.jsonl name and bare response items")
            return None
        start = head[:512]
        if start.startswith(b"{") and b'"payload"' in start and b'"type":"session_meta"' in start:
            return Detection(TOOL, 90, "Codex session_meta record (first line longer than head)")
        if named and head.strip():
            return Detection(TOOL, 40, "rollout-*.jsonl file name only")
        return None


def _type_of(record: dict[str, Any]) -> str | None:
    kind = record.get("type")
    return kind if type(kind) is str else None


def _is_envelope(record: dict[str, Any]) -> bool:
    return _type_of(record) in _ENVELOPE_TYPES and isinstance(record.get("payload"), dict)


def _is_old_meta(record: dict[str, Any], rest: list[dict[str, Any]]) -> bool:
    """The first line of a pre-envelope rollout: ``id`` and ``timestamp``, and either
    ``instructions`` or bare response items / state lines after it."""
    if "type" in record or not isinstance(record.get("id"), str) or "timestamp" not in record:
        return False
    return "instructions" in record or any(
        _type_of(other) in _BARE_ITEM_TYPES or other.get("record_type") == "state" for other in rest
    )


PARSER = CodexParser()
