"""Goose sessions: the JSONL files of older versions and the ``sessions.db`` of newer ones.

Both live in goose's data folder (``~/.local/share/goose/sessions/`` on Linux). What they hold
is taken from goose's own source (``crates/goose/src/session`` and ``conversation/message.rs``):

* ``<id>.jsonl`` (older versions; the file is rewritten whole on every change): a first line
  of session metadata ``{working_dir, description, schedule_id, message_count, total_tokens,
  input_tokens, output_tokens, accumulated_total_tokens, accumulated_input_tokens,
  accumulated_output_tokens}`` (a file may lack it: then every line is a message), then one
  Message per line. The session id is the file's name.
* ``sessions.db`` (newer versions, SQLite): table ``sessions`` (``id``, ``name`` or the older
  ``description``, ``working_dir``, ``session_type`` user/scheduled/sub_agent/hidden,
  ``created_at``, ``updated_at``, the token columns above, ``schedule_id``, and in later
  versions ``provider_name`` and ``model_config_json`` with ``model_name``) and table
  ``messages`` (``id``, ``session_id``, ``role``, ``content_json``, ``created_timestamp``,
  ``timestamp``, ``metadata_json``, later ``message_id``), read in goose's own order
  (``timestamp``, then ``id``). It is opened read-only; when that fails (a lock, a WAL file
  it cannot share), a copy is read instead. Every session with messages is returned: user and
  scheduled sessions first, oldest first, then sub-agent and hidden ones as auxiliary sessions.

A Message is ``{id?, role: user|assistant, created: epoch seconds, content: [...],
metadata?: {userVisible, agentVisible}}``; content items are tagged by ``type``: ``text``,
``image`` (``data``, ``mimeType``), ``toolRequest`` (``id``, ``toolCall``: ``{status: success,
value: {name, arguments}}`` or ``{status: error, error}``), ``toolResponse`` (``id``,
``toolResult``: ``{status: success, value}`` with ``value`` a list of MCP contents (older) or
``{content, isError}`` (newer), or ``{status: error, error}``), ``thinking``,
``redactedThinking``, ``frontendToolRequest``, ``toolConfirmationRequest``, ``actionRequired``,
``systemNotification``, ``contextLengthExceeded``, ``summarizationRequested`` and the older
``conversationCompacted``.

Mapping: text and images of a user message → UserMessage (SystemMessage when the message is
hidden from the user, ``metadata.userVisible: false``: goose's own context, not the user's
words); of an assistant message → AgentMessage; ``thinking``/``redactedThinking`` → Thinking;
a tool request → the event ``tool_events`` maps the tool to, with the goose-specific part done
here: goose names tools ``<extension>__<tool>``, so the mapping is asked about ``<tool>``, and
``text_editor`` depends on its ``command`` (``view`` → FileRead, ``write``/``create`` →
FileCreate, or FileEdit when the file was seen before in the session, ``str_replace`` →
FileEdit with the diff of ``old_str``/``new_str``, ``insert`` → FileEdit adding ``new_str``,
``undo_edit`` → FileEdit without diff); a tool with no HAIL type is a ToolCall with goose's full
name. A tool response → ToolResult (``is_error`` from the error status or ``isError``), its
text as Text blocks; of contents addressed to both the assistant and the user (goose sends
the same output to each), only the assistant's are kept. System notifications →
SystemMessage; confirmation requests, context-limit and compaction notices → Custom.

Timestamps are the messages' ``created`` times. Goose records tokens per session, not per
message: its accumulated counters go on the last event as ``input_tokens_total`` /
``output_tokens_total``, and every token field is kept in the ``goose.tokens`` attribute.

A source *record* is one JSONL line (the metadata line is skipped as ``session metadata``:
it becomes the session's context) or one row of the ``messages`` table; a session's rows
account for its own records. A session with no messages is not a session: such a JSONL file
raises SessionParseError, such a database row is passed over.
"""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from opensession.hail import model as m
from opensession.hail.stats import compute_stats, token_count
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
    first_json_lines,
    keep_timestamps_in_order,
    parse_timestamp,
    provider_for_model,
    read_json_lines,
    title_from_text,
)
from opensession.parsers.tool_events import tool_call_blocks, tool_event_type

TOOL = "goose"
DATABASE_NAME = "sessions.db"
_SQLITE_MAGIC = b"SQLite format 3\x00"
_LOCK_WAIT_SECONDS = 0.2
_ROLES = frozenset({"user", "assistant"})
_MESSAGE_TYPES = frozenset({"text", "toolRequest", "toolResponse", "thinking", "image"})
_TOKEN_FIELDS = (
    "total_tokens",
    "input_tokens",
    "output_tokens",
    "accumulated_total_tokens",
    "accumulated_input_tokens",
    "accumulated_output_tokens",
)
_AUXILIARY_TYPES = frozenset({"sub_agent", "hidden"})
_NOTICES = {
    "contextLengthExceeded": "context_length_exceeded",
    "summarizationRequested": "summarization_requested",
    "conversationCompacted": "context_compacted",
}
_SESSION_COLUMNS = frozenset({"id", "working_dir"})
_MESSAGE_COLUMNS = frozenset({"session_id", "role", "content_json", "created_timestamp"})


# --- Goose tools as HAIL events ---


def goose_tool_event(name: str, arguments: Any, known_paths: set[str] | None = None) -> m.HailModel:
    """The HAIL event type of a call to goose's tool ``name`` (``extension__tool``).

    ``known_paths`` are the files the session has already read or written (a write to one of
    them is an edit); the text editor's paths are added to it.
    """
    args: Mapping[str, Any] = arguments if isinstance(arguments, Mapping) else {}
    short = name.rpartition("__")[2] or name
    if short == "text_editor":
        event_type = _text_editor_event(args, known_paths if known_paths is not None else set())
    else:
        event_type = tool_event_type(short, args)
    if isinstance(event_type, m.ToolCall):
        return m.ToolCall(data=m.NameData(name=name))
    return event_type


def _text_editor_event(args: Mapping[str, Any], known_paths: set[str]) -> m.HailModel:
    command, path = args.get("command"), args.get("path")
    if not isinstance(path, str) or not path or not isinstance(command, str):
        return m.ToolCall(data=m.NameData(name="text_editor"))
    existed = path in known_paths
    known_paths.add(path)
    if command == "view":
        return tool_event_type("read", {"path": path})
    if command in ("write", "create"):
        return tool_event_type("write", {"path": path}, file_existed=existed)
    if command == "str_replace":
        old = _first_text(args, "old_str", "old_text")
        new = _first_text(args, "new_str", "new_text")
        return tool_event_type("str_replace", {"path": path, "old_str": old, "new_str": new})
    if command == "insert":
        return tool_event_type("edit", {"path": path, "new_str": _first_text(args, "new_str")})
    if command == "undo_edit":
        return tool_event_type("edit", {"path": path})
    if command == "delete":
        return tool_event_type("delete", {"path": path})
    return m.ToolCall(data=m.NameData(name="text_editor"))


def _first_text(args: Mapping[str, Any], *keys: str) -> str:
    for key in keys:
        value = args.get(key)
        if isinstance(value, str):
            return value
    return ""


_KIND_OF_TYPE: dict[type, str] = {
    m.FileRead: "read",
    m.FileEdit: "edit",
    m.FileCreate: "write",
    m.FileDelete: "delete",
    m.ShellCommand: "shell",
    m.CodeSearch: "code_search",
    m.FileSearch: "file_search",
    m.WebSearch: "web_search",
    m.WebFetch: "web_fetch",
}


# --- Messages into events ---


def _result_blocks(contents: Any) -> list[m.HailModel]:
    """Blocks of MCP contents; of contents meant for both readers, the assistant's only."""
    if not isinstance(contents, list):
        return []
    items = [item for item in contents if isinstance(item, dict)]
    if any("assistant" in _audience(item) for item in items):
        items = [item for item in items if not _audience(item) or "assistant" in _audience(item)]
    blocks: list[m.HailModel] = []
    for item in items:
        kind = item.get("type")
        if kind == "text" and isinstance(item.get("text"), str):
            blocks.append(m.TextBlock(text=item["text"]))
        elif kind == "image" and isinstance(item.get("data"), str):
            blocks.append(_image(item))
        elif kind == "resource" and isinstance(item.get("resource"), dict):
            resource = item["resource"]
            text = resource.get("text")
            uri = resource.get("uri")
            blocks.append(
                m.FileBlock(
                    path=uri if isinstance(uri, str) else "resource",
                    content=text if isinstance(text, str) else None,
                )
            )
        else:
            blocks.append(m.JsonBlock(data=item))
    return blocks


def _audience(item: Mapping[str, Any]) -> list[str]:
    annotations = item.get("annotations")
    audience = annotations.get("audience") if isinstance(annotations, dict) else None
    return [a for a in audience if isinstance(a, str)] if isinstance(audience, list) else []


def _image(item: Mapping[str, Any]) -> m.ImageBlock:
    mime = item.get("mimeType")
    mime = mime if isinstance(mime, str) and mime else "image/png"
    return m.ImageBlock(url=f"data:{mime};base64,{item['data']}", mime=mime)


@dataclass
class _Source:
    """Where a record came from, for warnings: a JSONL line or a database row."""

    path: Path
    line: int | None = None
    row: str | None = None

    def warning(self, reason: str) -> ParseWarning:
        if self.row is not None:
            return ParseWarning(str(self.path), f"{self.row}: {reason}")
        return ParseWarning(str(self.path), reason, self.line)


class _EventWriter:
    """Turns one session's messages into HAIL events, accounting for every record."""

    def __init__(self, warnings: list[ParseWarning], fallback_time: datetime) -> None:
        self.warnings = warnings
        self.events: list[m.Event] = []
        self.records = SourceRecords()
        self.first_user_text: str | None = None
        self.fallback_time = fallback_time
        self.call_names: dict[str, str] = {}
        self.known_paths: set[str] = set()
        self._used_ids: set[str] = set()
        self._warned_types: set[str] = set()

    def message(self, record: Mapping[str, Any], source: _Source, base_id: str) -> None:
        """Map one goose Message (one record) to events."""
        role, content = record.get("role"), record.get("content")
        if role not in _ROLES:
            self.warnings.append(source.warning(f"a message with role {role!r}; skipped"))
            self.records.skip("unknown role")
            return
        if not isinstance(content, list):
            self.warnings.append(source.warning("a message whose content is not a list; skipped"))
            self.records.skip("malformed message")
            return
        writer = _MessageWriter(self, source, base_id, role, record)
        for item in content:
            writer.item(item)
        writer.flush()
        if writer.produced:
            self.records.mapped += 1
        else:
            self.records.skip("empty message")

    def unique_id(self, wanted: str) -> str:
        event_id, number = wanted, 1
        while event_id in self._used_ids:
            number += 1
            event_id = f"{wanted}#{number}"
        self._used_ids.add(event_id)
        return event_id

    def time(self, value: Any) -> datetime:
        parsed = parse_timestamp(value)
        if parsed is not None:
            return parsed
        return self.events[-1].timestamp if self.events else self.fallback_time

    def warn_type(self, source: _Source, kind: str) -> None:
        if kind not in self._warned_types:
            self._warned_types.add(kind)
            self.warnings.append(source.warning(f"unknown content type {kind!r}; kept as Custom"))


class _MessageWriter:
    """The events of one message: its text and images gathered into one message event, each
    other item an event of its own, in order."""

    def __init__(
        self,
        session: _EventWriter,
        source: _Source,
        base_id: str,
        role: str,
        record: Mapping[str, Any],
    ) -> None:
        self.session = session
        self.source = source
        self.base_id = base_id
        self.role = role
        self.timestamp = session.time(record.get("created"))
        metadata = record.get("metadata")
        self.user_visible = not (
            isinstance(metadata, dict) and metadata.get("userVisible") is False
        )
        self.produced = 0
        self._blocks: list[m.HailModel] = []

    def _add(
        self,
        event_type: m.HailModel,
        blocks: list[m.HailModel],
        attributes: dict[str, Any] | None = None,
    ) -> m.Event:
        event = m.Event(
            event_id=self.session.unique_id(f"{self.base_id}:{self.produced}"),
            timestamp=self.timestamp,
            event_type=event_type,
            content=m.Content(blocks=blocks),
            attributes=attributes or {},
        )
        self.session.events.append(event)
        self.produced += 1
        return event

    def flush(self) -> None:
        """Write the text and images gathered so far as one message event."""
        if not self._blocks:
            return
        blocks, self._blocks = self._blocks, []
        attributes: dict[str, Any] = {} if self.user_visible else {"goose.user_visible": False}
        if self.role == "assistant":
            event_type: m.HailModel = m.AgentMessage()
        elif self.user_visible:
            event_type = m.UserMessage()
            if self.session.first_user_text is None:
                texts = [b.text for b in blocks if isinstance(b, m.TextBlock)]
                self.session.first_user_text = "\n".join(texts) or None
        else:
            event_type = m.SystemMessage()
        self._add(event_type, blocks, attributes)

    def item(self, item: Any) -> None:
        """Take one content item."""
        if not isinstance(item, dict):
            self.session.warnings.append(
                self.source.warning("a content item that is not an object")
            )
            return
        kind = item.get("type")
        if kind == "text":
            if isinstance(item.get("text"), str) and item["text"]:
                self._blocks.append(m.TextBlock(text=item["text"]))
            return
        if kind == "image":
            if isinstance(item.get("data"), str):
                self._blocks.append(_image(item))
            return
        self.flush()
        if kind in ("toolRequest", "frontendToolRequest"):
            self._tool_request(item, kind)
        elif kind == "toolResponse":
            self._tool_response(item)
        elif kind in ("thinking", "redactedThinking"):
            self._thinking(item, kind)
        elif kind == "systemNotification":
            self._notification(item)
        elif kind in _NOTICES:
            message = item.get("msg")
            blocks = [m.TextBlock(text=message)] if isinstance(message, str) and message else []
            self._add(m.Custom(data=m.CustomData(kind=_NOTICES[kind])), blocks)
        elif kind in ("toolConfirmationRequest", "actionRequired"):
            self._confirmation(item, kind)
        else:
            self.session.warn_type(self.source, str(kind))
            self._add(m.Custom(data=m.CustomData(kind=str(kind))), [m.JsonBlock(data=item)])

    def _tool_request(self, item: Mapping[str, Any], kind: str) -> None:
        call_id = item.get("id") if isinstance(item.get("id"), str) else None
        call = item.get("toolCall")
        call = call if isinstance(call, dict) else {}
        value = call.get("value") if isinstance(call.get("value"), dict) else None
        name = value.get("name") if value else None
        attributes: dict[str, Any] = {"source.raw_type": kind}
        if call_id:
            attributes["semantic.call_id"] = call_id
        if value is None or not isinstance(name, str) or not name:
            error = call.get("error")
            attributes["goose.error"] = error if isinstance(error, str) else "invalid tool call"
            blocks = [m.TextBlock(text=attributes["goose.error"])]
            self._add(m.ToolCall(data=m.NameData(name="invalid_tool_call")), blocks, attributes)
            if call_id:
                self.session.call_names[call_id] = "invalid_tool_call"
            return
        arguments = value.get("arguments")
        event_type = goose_tool_event(name, arguments, self.session.known_paths)
        attributes["source.raw_type"] = name
        if kind == "frontendToolRequest":
            attributes["goose.frontend"] = True
        if semantic := _KIND_OF_TYPE.get(type(event_type)):
            attributes["semantic.tool_kind"] = semantic
        if call_id:
            self.session.call_names[call_id] = name
        self._add(event_type, tool_call_blocks(event_type, arguments), attributes)

    def _tool_response(self, item: Mapping[str, Any]) -> None:
        call_id = item.get("id") if isinstance(item.get("id"), str) else None
        result = item.get("toolResult")
        result = result if isinstance(result, dict) else {}
        value = result.get("value")
        if result.get("status") == "error" or ("error" in result and value is None):
            error = result.get("error")
            is_error = True
            blocks: list[m.HailModel] = [m.TextBlock(text=str(error))] if error else []
        elif isinstance(value, dict):
            is_error = value.get("isError") is True
            blocks = _result_blocks(value.get("content"))
        else:
            is_error = False
            blocks = _result_blocks(value)
        name = self.session.call_names.get(call_id, "unknown") if call_id else "unknown"
        result_type = m.ToolResult(
            data=m.ToolResultData(name=name, is_error=is_error, call_id=call_id)
        )
        attributes = {"semantic.call_id": call_id} if call_id else {}
        self._add(result_type, blocks, attributes)

    def _thinking(self, item: Mapping[str, Any], kind: str) -> None:
        if kind == "redactedThinking":
            self._add(m.Thinking(), [], {"redacted": True})
            return
        text = item.get("thinking")
        if isinstance(text, str) and text.strip():
            self._add(m.Thinking(), [m.TextBlock(text=text)])

    def _notification(self, item: Mapping[str, Any]) -> None:
        message = item.get("msg")
        attributes = {}
        if isinstance(item.get("notificationType"), str):
            attributes["notification_type"] = item["notificationType"]
        blocks = [m.TextBlock(text=message)] if isinstance(message, str) and message else []
        self._add(m.SystemMessage(), blocks, attributes)

    def _confirmation(self, item: Mapping[str, Any], kind: str) -> None:
        data = item.get("data") if kind == "actionRequired" else item
        data = data if isinstance(data, dict) else {}
        attributes: dict[str, Any] = {}
        if isinstance(data.get("id"), str):
            attributes["semantic.call_id"] = data["id"]
        if isinstance(data.get("toolName"), str):
            attributes["tool_name"] = data["toolName"]
        kind_name = (
            "tool_confirmation_request" if kind == "toolConfirmationRequest" else "action_required"
        )
        self._add(m.Custom(data=m.CustomData(kind=kind_name)), [m.JsonBlock(data=data)], attributes)


# --- Sessions ---


@dataclass
class _SessionInfo:
    """What a session's header says: the JSONL metadata line or a ``sessions`` row."""

    session_id: str
    path: Path
    name: str | None = None
    working_dir: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    model: str | None = None
    provider: str | None = None
    session_type: str | None = None
    schedule_id: str | None = None
    tokens: dict[str, int] | None = None


def _session(info: _SessionInfo, writer: _EventWriter) -> m.Session:
    events = writer.events
    keep_timestamps_in_order(events)
    tokens = info.tokens or {}
    for total, counter in (
        ("input_tokens_total", "accumulated_input_tokens"),
        ("output_tokens_total", "accumulated_output_tokens"),
    ):
        if counter in tokens:
            events[-1].attributes[total] = tokens[counter]
    created = min(filter(None, [info.created_at, events[0].timestamp]))
    updated = max(filter(None, [info.updated_at, events[-1].timestamp]))
    attributes: dict[str, Any] = {"source_path": str(info.path)}
    if info.working_dir:
        attributes["cwd"] = info.working_dir
    auxiliary = info.session_type in _AUXILIARY_TYPES
    attributes["session_role"] = "auxiliary" if auxiliary else "primary"
    if info.session_type:
        attributes["goose.session_type"] = info.session_type
    if info.schedule_id:
        attributes["goose.schedule_id"] = info.schedule_id
    if tokens:
        attributes["goose.tokens"] = tokens
    attributes[SOURCE_RECORDS_ATTRIBUTE] = writer.records.to_attribute()
    model = info.model or "unknown"
    provider = info.provider or provider_for_model(model)
    title = info.name.strip() if info.name and info.name.strip() else None
    return m.Session(
        session_id=info.session_id,
        agent=m.Agent(provider=provider, model=model, tool=TOOL),
        context=m.Context(
            title=title or title_from_text(writer.first_user_text or ""),
            tags=[TOOL],
            created_at=created,
            updated_at=updated,
            attributes=attributes,
        ),
        events=events,
        stats=compute_stats(events),
    )


def _tokens(values: Mapping[str, Any]) -> dict[str, int]:
    tokens = {}
    for key in _TOKEN_FIELDS:
        count = token_count(values.get(key))
        if count is not None:
            tokens[key] = count
    return tokens


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


# --- JSONL ---


def _is_metadata(record: Mapping[str, Any]) -> bool:
    """Goose's metadata line: ``description`` and ``message_count`` (what goose requires to
    read it as metadata), and no message role."""
    return "role" not in record and "description" in record and "message_count" in record


def _looks_like_message(record: Mapping[str, Any]) -> bool:
    content = record.get("content")
    return (
        record.get("role") in _ROLES
        and isinstance(record.get("created"), int)
        and isinstance(content, list)
        and any(isinstance(i, dict) and i.get("type") in _MESSAGE_TYPES for i in content)
    )


def _parse_jsonl(path: Path) -> ParseResult:
    warnings: list[ParseWarning] = []
    writer = _EventWriter(warnings, file_time(path))
    info = _SessionInfo(session_id=path.stem, path=path)
    first = True

    def take(record: dict[str, Any], number: int) -> None:
        nonlocal first
        if first and _is_metadata(record):
            _read_metadata(info, record, warnings, number)
            writer.records.skip("session metadata")
        else:
            message_id = _text(record.get("id"))
            writer.message(record, _Source(path, line=number), message_id or f"{TOOL}-{number}")
        first = False

    read_json_lines(path, warnings, take)
    if not writer.events:
        reason = "no goose messages" if writer.records.total else "nothing readable"
        raise SessionParseError(path, reason)
    return ParseResult(sessions=[_session(info, writer)], warnings=warnings)


def _read_metadata(
    info: _SessionInfo, record: Mapping[str, Any], warnings: list[ParseWarning], line: int
) -> None:
    for key in ("description", "working_dir", "schedule_id"):
        value = record.get(key)
        if value is not None and not isinstance(value, str):
            reason = f"metadata field {key!r} is not a string; ignored"
            warnings.append(ParseWarning(str(info.path), reason, line))
    info.name = _text(record.get("description"))
    info.working_dir = _text(record.get("working_dir"))
    info.schedule_id = _text(record.get("schedule_id"))
    info.tokens = _tokens(record)


# --- SQLite ---


@contextmanager
def _read_only(path: Path) -> Iterator[sqlite3.Connection]:
    """A read-only connection to the database at ``path``; a copy of it (with its WAL) when
    the file cannot be opened in place (locked, or its WAL cannot be shared)."""
    connection = _connect(f"{path.resolve().as_uri()}?mode=ro")
    if connection is not None:
        try:
            yield connection
        finally:
            connection.close()
        return
    with tempfile.TemporaryDirectory(prefix="opensession-goose-") as folder:
        connection = _open_copy(path, Path(folder))
        try:
            yield connection
        finally:
            connection.close()


def _connect(uri: str) -> sqlite3.Connection | None:
    """A connection that could read the schema, or None (at once when the file is locked:
    goose may be writing, and a copy is read instead)."""
    try:
        connection = sqlite3.connect(uri, uri=True, timeout=_LOCK_WAIT_SECONDS)
    except sqlite3.Error:
        return None
    try:
        connection.execute("SELECT name FROM sqlite_master LIMIT 1").fetchall()
    except sqlite3.Error:
        connection.close()
        return None
    return connection


def _open_copy(path: Path, folder: Path) -> sqlite3.Connection:
    copy = folder / path.name
    try:
        shutil.copyfile(path, copy)
        for suffix in ("-wal", "-shm"):
            companion = path.with_name(path.name + suffix)
            if companion.is_file():
                shutil.copyfile(companion, folder / (path.name + suffix))
    except OSError as exc:
        raise SessionParseError(path, f"cannot read the database ({exc.strerror or exc})") from None
    for mode in ("mode=ro", "immutable=1"):
        connection = _connect(f"{copy.as_uri()}?{mode}")
        if connection is not None:
            return connection
    raise SessionParseError(path, "not a readable SQLite database")


def _columns(connection: sqlite3.Connection, table: str) -> set[str]:
    rows = connection.execute(f"PRAGMA table_info({table})").fetchall()
    return {row[1] for row in rows}


def _is_goose_database(connection: sqlite3.Connection) -> bool:
    sessions = _columns(connection, "sessions")
    messages = _columns(connection, "messages")
    return sessions >= _SESSION_COLUMNS and messages >= _MESSAGE_COLUMNS


def _parse_database(path: Path) -> ParseResult:
    warnings: list[ParseWarning] = []
    try:
        with _read_only(path) as connection:
            if not _is_goose_database(connection):
                raise SessionParseError(path, "not a goose sessions.db (no sessions/messages)")
            sessions = _database_sessions(connection, path, warnings)
    except sqlite3.Error as exc:
        raise SessionParseError(path, f"unreadable SQLite database ({exc})") from None
    if not sessions:
        raise SessionParseError(path, "no goose session with messages in the database")
    sessions.sort(key=lambda s: (s.context.is_auxiliary, s.context.created_at, s.session_id))
    return ParseResult(sessions=sessions, warnings=warnings)


def _database_sessions(
    connection: sqlite3.Connection, path: Path, warnings: list[ParseWarning]
) -> list[m.Session]:
    connection.row_factory = sqlite3.Row
    message_columns = _columns(connection, "messages")
    order = "timestamp, id" if {"timestamp", "id"} <= message_columns else "rowid"
    wanted = ["role", "content_json", "created_timestamp"]
    wanted += [
        c for c in ("id", "message_id", "metadata_json", "timestamp") if c in message_columns
    ]
    query = f"SELECT {', '.join(wanted)} FROM messages WHERE session_id = ? ORDER BY {order}"
    fallback = file_time(path)
    sessions = []
    for row in connection.execute("SELECT * FROM sessions").fetchall():
        info = _session_info(dict(row), path, warnings)
        writer = _EventWriter(warnings, info.created_at or fallback)
        for number, message in enumerate(connection.execute(query, (info.session_id,)), 1):
            _database_message(writer, dict(message), info, number)
        if writer.events:
            sessions.append(_session(info, writer))
    return sessions


def _session_info(row: dict[str, Any], path: Path, warnings: list[ParseWarning]) -> _SessionInfo:
    session_id = str(row.get("id"))
    info = _SessionInfo(
        session_id=session_id,
        path=path,
        name=_text(row.get("name")) or _text(row.get("description")),
        working_dir=_text(row.get("working_dir")),
        created_at=parse_timestamp(row.get("created_at")),
        updated_at=parse_timestamp(row.get("updated_at")),
        provider=_text(row.get("provider_name")),
        session_type=_text(row.get("session_type")),
        schedule_id=_text(row.get("schedule_id")),
        tokens=_tokens(row),
    )
    config = row.get("model_config_json")
    if isinstance(config, str) and config:
        try:
            parsed = orjson.loads(config)
        except orjson.JSONDecodeError:
            parsed = None
            reason = f"session {session_id}: model_config_json is not JSON; ignored"
            warnings.append(ParseWarning(str(path), reason))
        if isinstance(parsed, dict):
            info.model = _text(parsed.get("model_name"))
    return info


def _database_message(
    writer: _EventWriter, row: dict[str, Any], info: _SessionInfo, number: int
) -> None:
    row_id = row.get("message_id") or row.get("id") or number
    source = _Source(info.path, row=f"session {info.session_id}, message {row_id}")
    try:
        content = orjson.loads(row["content_json"] or "null")
    except (orjson.JSONDecodeError, TypeError):
        writer.warnings.append(source.warning("content_json is not JSON; skipped"))
        writer.records.skip("unreadable content_json")
        return
    metadata: Any = None
    if isinstance(row.get("metadata_json"), str):
        try:
            metadata = orjson.loads(row["metadata_json"])
        except orjson.JSONDecodeError:
            writer.warnings.append(source.warning("metadata_json is not JSON; ignored"))
    created = row.get("created_timestamp")
    if parse_timestamp(created) is None:
        created = row.get("timestamp")
    record = {"role": row.get("role"), "created": created, "content": content, "metadata": metadata}
    base_id = _text(row.get("message_id")) or f"{info.session_id}:{row.get('id') or number}"
    writer.message(record, source, base_id)


# --- The parser ---


class GooseParser(SessionParser):
    """Goose's session JSONL files and its ``sessions.db``."""

    tool = TOOL

    def detect(self, path: Path, head: bytes) -> Detection | None:
        """A JSONL file whose first line is goose's session metadata (or a goose message), a
        SQLite database with goose's ``sessions`` and ``messages`` tables, or a folder
        holding such a database."""
        if path.is_dir():
            database = path / DATABASE_NAME
            if database.is_file() and _database_matches(database):
                return Detection(TOOL, 80, f"a folder holding goose's {DATABASE_NAME}")
            return None
        if head.startswith(_SQLITE_MAGIC):
            if _database_matches(path):
                return Detection(TOOL, 95, "SQLite with goose's sessions and messages tables")
            return None
        lines = first_json_lines(head, 1)
        if not lines:
            return None
        if _is_metadata(lines[0]):
            return Detection(TOOL, 95, "first line is goose session metadata")
        if _looks_like_message(lines[0]) and path.suffix == ".jsonl":
            return Detection(TOOL, 70, "first line is a goose message (role, created, content)")
        return None

    def parse(self, path: Path) -> ParseResult:
        """The session of a JSONL file, or every session with messages of a database."""
        if path.is_dir():
            path = path / DATABASE_NAME
        try:
            with path.open("rb") as stream:
                magic = stream.read(len(_SQLITE_MAGIC))
        except OSError as exc:
            raise SessionParseError(path, exc.strerror or str(exc)) from None
        if magic == _SQLITE_MAGIC:
            return _parse_database(path)
        return _parse_jsonl(path)


def _database_matches(path: Path) -> bool:
    try:
        with _read_only(path) as connection:
            return _is_goose_database(connection)
    except (sqlite3.Error, SessionParseError):
        return False


PARSER = GooseParser()
